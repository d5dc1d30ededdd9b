"""Reads of jobs: a user sees the jobs they started; staff see all."""

from django.db.models import QuerySet

from apps.core.models import Job

__all__ = ["job_get", "job_list"]


def job_list(*, user, kind: str | None = None, status: str | None = None) -> QuerySet[Job]:
    qs = Job.objects.all() if user.is_staff else Job.objects.filter(created_by_id=user.pk)
    if kind:
        qs = qs.filter(kind=kind)
    if status:
        qs = qs.filter(status=status)
    return qs


def job_get(*, user, job_id: int) -> Job | None:
    return job_list(user=user).filter(pk=job_id).first()
