"""Writes on JobChunk rows: the plan of a job split across workers, and what each chunk reports.

A big embed or localize job is cut into chunks once (``job_chunks_plan``); each chunk is a Celery task that
any worker on the queue may take. Every state change goes through here so the rules live in one place:
- a chunk is claimed only while its job is running and not asked to cancel;
- a chunk's progress write also refreshes the job's heartbeat and its progress (the sum over its chunks),
  and tells the chunk to stop when the job was cancelled or has ended (another chunk failed);
- the job succeeds only when every chunk did (the caller, holding the job's lock, finalizes it).
"""

import logging
from typing import Any

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from apps.core.constants import JobStatus
from apps.core.models import Job, JobChunk
from apps.core.services import MAX_ERROR_CHARS, JobCancelledError

__all__ = [
    "job_chunk_check",
    "job_chunk_claim",
    "job_chunk_fail",
    "job_chunk_save",
    "job_chunk_stop",
    "job_chunk_succeed",
    "job_chunks_pending",
    "job_chunks_plan",
]

logger = logging.getLogger(__name__)

# Share of the job's progress bar that its chunks fill; the rest is the finishing step (indexes, summary).
CHUNKS_PROGRESS_SHARE = 0.95


def job_chunks_plan(*, job_id: int, items: list[int], size: int) -> list[JobChunk]:
    """The job's chunks: created on the first call (``items`` cut into slices of ``size``), reused after.

    Reusing the plan is what makes a re-sent job resume: the chunks already done stay done.
    """
    size = max(1, int(size))
    with transaction.atomic():
        Job.objects.select_for_update().filter(pk=job_id).first()
        chunks = list(JobChunk.objects.filter(job_id=job_id).order_by("index"))
        if chunks:
            return chunks
        JobChunk.objects.bulk_create(
            JobChunk(job_id=job_id, index=i, items=items[start:start + size], size=len(items[start:start + size]))
            for i, start in enumerate(range(0, len(items), size))
        )
        return list(JobChunk.objects.filter(job_id=job_id).order_by("index"))


def job_chunks_pending(*, job_id: int) -> list[JobChunk]:
    """Chunks not yet succeeded, in order (what a resumed job still has to send)."""
    return list(JobChunk.objects.filter(job_id=job_id).exclude(status=JobStatus.SUCCEEDED).order_by("index"))


def job_chunk_claim(*, chunk_id: int, worker: str) -> JobChunk | None:
    """Mark the chunk running for ``worker``; None when there is nothing to do.

    Nothing to do: the chunk succeeded already (a duplicate delivery), or its job is no longer running
    (cancelled, failed, finished). A chunk found `running` was left by a dead worker (the caller holds the
    chunk's advisory lock): it is claimed again and resumes from what it recorded.
    """
    with transaction.atomic():
        chunk = JobChunk.objects.select_for_update().select_related("job").filter(pk=chunk_id).first()
        if chunk is None or chunk.status == JobStatus.SUCCEEDED:
            return None
        job = chunk.job
        if job.status != JobStatus.RUNNING or job.cancel_requested:
            if chunk.status in (JobStatus.QUEUED, JobStatus.RUNNING):
                chunk.status = JobStatus.CANCELLED
                chunk.save(update_fields=["status", "updated_at"])
            return None
        chunk.status = JobStatus.RUNNING
        chunk.attempts += 1
        chunk.worker = worker
        chunk.save(update_fields=["status", "attempts", "worker", "updated_at"])
        Job.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now(), worker=worker)
        return chunk


def _job_progress_refresh(job_id: int, message: str) -> None:
    totals = JobChunk.objects.filter(job_id=job_id).aggregate(done=Sum("done"), size=Sum("size"))
    fraction = (totals["done"] or 0) / max(totals["size"] or 0, 1)
    Job.objects.filter(pk=job_id, status=JobStatus.RUNNING).update(
        progress=min(CHUNKS_PROGRESS_SHARE * fraction, CHUNKS_PROGRESS_SHARE),
        progress_message=message[:255],
        heartbeat_at=timezone.now(),
    )


def job_chunk_save(*, chunk: JobChunk, done: int, result: dict[str, Any]) -> None:
    """Record what the chunk finished so far (call it inside the transaction that wrote the items' rows,
    and the count can never disagree with the rows)."""
    JobChunk.objects.filter(pk=chunk.pk).update(done=done, result=result, updated_at=timezone.now())
    chunk.done, chunk.result = done, result


def job_chunk_check(*, chunk: JobChunk, message: str = "") -> None:
    """Refresh the job's progress and heartbeat; raise JobCancelledError when the job must stop.

    Called after ``job_chunk_save`` committed, so when the chunk stops, everything it did is recorded: a
    cancelled job's partial results are exactly the outcomes its chunks hold.
    """
    _job_progress_refresh(chunk.job_id, message)
    state = Job.objects.filter(pk=chunk.job_id).values("status", "cancel_requested").first()
    if state is None or state["cancel_requested"] or state["status"] != JobStatus.RUNNING:
        raise JobCancelledError(f"job {chunk.job_id} stopped ({state and state['status']}); chunk {chunk.index} ends")


def job_chunk_succeed(*, chunk: JobChunk, result: dict[str, Any], message: str = "") -> None:
    JobChunk.objects.filter(pk=chunk.pk).update(status=JobStatus.SUCCEEDED, done=chunk.size, result=result,
                                                updated_at=timezone.now())
    _job_progress_refresh(chunk.job_id, message)


def job_chunk_stop(*, chunk: JobChunk) -> None:
    """The chunk stopped because its job did: cancel the job if it still runs, and its unstarted chunks."""
    now = timezone.now()
    with transaction.atomic():
        JobChunk.objects.filter(pk=chunk.pk).update(status=JobStatus.CANCELLED, updated_at=now)
        stopped = Job.objects.filter(pk=chunk.job_id, status=JobStatus.RUNNING).update(
            status=JobStatus.CANCELLED, finished_at=now)
        JobChunk.objects.filter(job_id=chunk.job_id, status=JobStatus.QUEUED).update(
            status=JobStatus.CANCELLED, updated_at=now)
    if stopped:
        logger.info("job %s cancelled at chunk %s", chunk.job_id, chunk.index)


def job_chunk_fail(*, chunk: JobChunk, error: str) -> None:
    """A chunk hit an error no item-level handling covers (database or storage down): the job fails.

    Failing the whole job keeps the rule "fails clearly or resumes": the error is on the job row, the
    chunks done so far keep their results, and the other chunks stop at their next progress write.
    """
    now = timezone.now()
    error = error[-MAX_ERROR_CHARS:]
    with transaction.atomic():
        JobChunk.objects.filter(pk=chunk.pk).update(status=JobStatus.FAILED, error=error, updated_at=now)
        Job.objects.filter(pk=chunk.job_id, status=JobStatus.RUNNING).update(
            status=JobStatus.FAILED, error=f"chunk {chunk.index} failed: {error}", finished_at=now, heartbeat_at=now)
        JobChunk.objects.filter(job_id=chunk.job_id, status=JobStatus.QUEUED).update(
            status=JobStatus.CANCELLED, updated_at=now)
