"""Writes on Job rows: create-and-enqueue, and the state changes a worker reports.

Workers call these (through ``workers.jobs``) rather than touching the row themselves, so every state
transition has one definition: queued -> running -> succeeded | failed | cancelled.
"""

import logging
from datetime import timedelta
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from apps.core.constants import JOB_KIND_QUEUE, JobKind, JobStatus, job_task_name
from apps.core.enqueue import enqueue_on_commit
from apps.core.locks import try_advisory_lock
from apps.core.models import Job

__all__ = [
    "JobCancelledError",
    "JobInputError",
    "job_cancel",
    "job_claim",
    "job_enqueue",
    "job_fail",
    "job_mark_cancelled",
    "job_recover_stale",
    "job_report_progress",
    "job_succeed",
]

logger = logging.getLogger(__name__)

MAX_ERROR_CHARS = 20_000
JOB_LOCK_NAMESPACE = "astroloc.job"  # the runner holds (namespace, job id) while a job runs


class JobInputError(ValueError):
    """Input a person must fix (a bad raster, an unusable CSV): the job records the message alone.

    Subclass it for errors whose message already says what was wrong and what to do; any other exception
    is recorded with its traceback, for the operator.
    """


class JobCancelledError(Exception):
    """Raised inside a running job when a user asked to cancel it; the runner records `cancelled`."""


def job_enqueue(
    *,
    kind: str,
    parameters: dict[str, Any] | None = None,
    created_by: AbstractBaseUser | None = None,
) -> Job:
    """Record a job and send its task (by name) to the kind's queue once the transaction commits."""
    if kind not in JobKind.values:
        raise ValueError(f"Unknown job kind {kind!r}; expected one of {', '.join(JobKind.values)}.")
    queue = JOB_KIND_QUEUE[kind]
    with transaction.atomic():
        job = Job.objects.create(
            kind=kind,
            parameters=parameters or {},
            queue=queue,
            created_by=created_by if created_by is not None and created_by.is_authenticated else None,
        )
        job.celery_task_id = str(job.uuid)
        job.save(update_fields=["celery_task_id"])
        enqueue_on_commit(job_task_name(kind), args=[job.pk], queue=queue, task_id=job.celery_task_id)
    return job


def job_claim(*, job_id: int, worker: str) -> Job | None:
    """Mark the job running for ``worker``; None when there is nothing to do (final, or cancelled).

    A job already `running` is claimed again: that happens only when its previous worker died (the caller
    holds the job's advisory lock), and the job body resumes from its recorded partial result.
    """
    with transaction.atomic():
        job = Job.objects.select_for_update().filter(pk=job_id).first()
        if job is None:
            logger.warning("job %s does not exist; dropping its task", job_id)
            return None
        if job.is_final:
            logger.info("job %s is already %s; duplicate delivery ignored", job_id, job.status)
            return None
        now = timezone.now()
        if job.cancel_requested:
            job.status = JobStatus.CANCELLED
            job.finished_at = now
            job.save(update_fields=["status", "finished_at"])
            return None
        job.status = JobStatus.RUNNING
        job.attempts += 1
        job.worker = worker
        job.started_at = job.started_at or now
        job.heartbeat_at = now
        job.save(update_fields=["status", "attempts", "worker", "started_at", "heartbeat_at"])
        return job


def job_report_progress(
    *, job_id: int, progress: float, message: str = "", result: dict[str, Any] | None = None
) -> None:
    """Record progress (and optionally the partial result); raise JobCancelledError if cancel was asked."""
    progress = min(max(float(progress), 0.0), 1.0)
    fields: dict[str, Any] = {
        "progress": progress,
        "progress_message": message[:255],
        "heartbeat_at": timezone.now(),
    }
    if result is not None:
        fields["result"] = result
    Job.objects.filter(pk=job_id, status=JobStatus.RUNNING).update(**fields)
    if Job.objects.filter(pk=job_id, cancel_requested=True).exists():
        raise JobCancelledError(f"job {job_id} was cancelled")


def job_succeed(*, job_id: int, result: dict[str, Any]) -> None:
    Job.objects.filter(pk=job_id).update(
        status=JobStatus.SUCCEEDED,
        progress=1.0,
        result=result,
        error="",
        finished_at=timezone.now(),
        heartbeat_at=timezone.now(),
    )


def job_fail(*, job_id: int, error: str) -> None:
    Job.objects.filter(pk=job_id).update(
        status=JobStatus.FAILED,
        error=error[-MAX_ERROR_CHARS:],
        finished_at=timezone.now(),
        heartbeat_at=timezone.now(),
    )


def job_mark_cancelled(*, job_id: int) -> None:
    Job.objects.filter(pk=job_id).update(status=JobStatus.CANCELLED, finished_at=timezone.now())


def job_cancel(*, job: Job) -> Job:
    """Ask a job to stop. A queued job is cancelled at once; a running one at its next progress report."""
    with transaction.atomic():
        job = Job.objects.select_for_update().get(pk=job.pk)
        if job.is_final:
            return job
        job.cancel_requested = True
        update_fields = ["cancel_requested"]
        if job.status == JobStatus.QUEUED:
            job.status = JobStatus.CANCELLED
            job.finished_at = timezone.now()
            update_fields += ["status", "finished_at"]
        job.save(update_fields=update_fields)
    return job


def job_recover_stale(*, stale_after: timedelta = timedelta(minutes=2)) -> list[int]:
    """Re-send the task of every running job whose worker is gone; returns their ids.

    With Redis and late acks, a killed worker's message only comes back after the broker's visibility
    timeout (hours, so long jobs are not redelivered while they run). A job counts as orphaned when its
    heartbeat is older than ``stale_after`` AND its advisory lock is free: a live runner holds the lock
    for the whole job (each running chunk of a chunked job holds it in shared mode), and the database releases
    it the moment the holder's connection dies. The re-sent task resumes: a chunked job sends only its
    unfinished chunks.
    """
    cutoff = timezone.now() - stale_after
    recovered: list[int] = []
    candidates = Job.objects.filter(status=JobStatus.RUNNING, heartbeat_at__lt=cutoff).values_list("pk", "kind")
    for job_id, kind in candidates:
        with try_advisory_lock(JOB_LOCK_NAMESPACE, job_id) as free:
            if not free:
                continue  # a live worker runs it (slow heartbeat, not dead)
        with transaction.atomic():
            enqueue_on_commit(job_task_name(kind), args=[job_id], queue=JOB_KIND_QUEUE[kind])
        logger.warning("job %s (%s) had no live worker since %s; re-sent", job_id, kind, cutoff)
        recovered.append(job_id)
    return recovered
