"""Periodic housekeeping tasks (run by `celery beat`, see CELERY_BEAT_SCHEDULE)."""

from datetime import timedelta

from celery import shared_task
from django.conf import settings

from apps.core.services import job_recover_stale
from apps.web.mapcells import map_aggregates_refresh


@shared_task(name="maintenance.recover_stale_jobs")
def recover_stale_jobs() -> list[int]:
    """Re-send jobs whose worker died (kill -9, lost machine); they resume from their partial result."""
    return job_recover_stale(stale_after=timedelta(seconds=settings.ASTROLOC_JOB_STALE_SECONDS))


@shared_task(name="maintenance.refresh_map_aggregates")
def refresh_map_aggregates() -> bool:
    """Refresh the web map's per-cell and per-month counts when footprints or photos changed (else a no-op)."""
    return map_aggregates_refresh()
