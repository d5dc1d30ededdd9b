"""Periodic housekeeping tasks (run by `celery beat`, see CELERY_BEAT_SCHEDULE)."""

from datetime import timedelta

from celery import shared_task
from django.conf import settings

from apps.core.services import job_recover_stale


@shared_task(name="maintenance.recover_stale_jobs")
def recover_stale_jobs() -> list[int]:
    """Re-send jobs whose worker died (kill -9, lost machine); they resume from their partial result."""
    return job_recover_stale(stale_after=timedelta(seconds=settings.ASTROLOC_JOB_STALE_SECONDS))
