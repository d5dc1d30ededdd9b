"""Scale-out: a big job's items cut into chunks that a Celery chord spreads over every worker on its queue.

The job's own task (``jobs.embed``, ``jobs.label``, ``jobs.localize``) pins what must not change during the
job (the model version), plans the chunks once (``JobChunk`` rows) and sends a chord: a group of ``jobs.chunk``
tasks, one per unfinished chunk, whose callback ``jobs.finish`` runs the kind's finishing step (indexes, summary) once
all chunks succeeded. N machines pointed at the same PostgreSQL, broker and storage share the work;
the Redis result backend counts the chord's parts.

Why it survives faults: a chunk task holds an advisory lock on its chunk (duplicates drop out) and its
job's lock in shared mode (stale-job recovery sees the job alive while any chunk runs). A chunk records its
finished items as it goes, so a chunk whose worker died resumes after them when recovery re-sends the job
task, which re-plans nothing and sends only the unfinished chunks. ``jobs.finish`` is idempotent, and a
chord left incomplete by a lost message is harmless: the re-sent job's own chord finishes the job.

Run eagerly (``--in-process``, ``Task.apply``, tests), the same chunks run one after the other here.
"""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from celery import chord, current_task, group, shared_task, signature
from django.db import transaction

from apps.core.chunks import (
    job_chunk_check,
    job_chunk_claim,
    job_chunk_fail,
    job_chunk_save,
    job_chunk_stop,
    job_chunk_succeed,
    job_chunks_pending,
    job_chunks_plan,
)
from apps.core.constants import JobStatus
from apps.core.locks import advisory_lock_shared, try_advisory_lock
from apps.core.models import Job, JobChunk
from apps.core.services import JOB_LOCK_NAMESPACE, JobCancelledError, job_fail, job_succeed
from workers.jobs import JobContext, JobHandedOffError, JobOutcome, worker_name

__all__ = ["ChunkContext", "chunk_task", "finish_task", "register_chunked", "run_chunked"]

logger = logging.getLogger(__name__)

CHUNK_LOCK_NAMESPACE = "astroloc.job-chunk"
CHUNK_TASK = "jobs.chunk"
FINISH_TASK = "jobs.finish"


@dataclass
class ChunkContext:
    """What a chunk body sees: its items, the job's parameters and pinned values, its recorded outcomes."""

    chunk: JobChunk
    parameters: dict[str, Any]
    pinned: dict[str, Any]
    result: dict[str, Any]

    @property
    def job_id(self) -> int:
        return self.chunk.job_id

    @property
    def items(self) -> list[int]:
        return list(self.chunk.items)

    def commit(self, done: int, write: Callable[[], Any], message: str = "") -> Any:
        """Run ``write`` (the items' rows) and record ``done``/``result`` in ONE transaction, then check for
        cancellation: a chunk killed at any instant has recorded exactly the items whose rows exist."""
        with transaction.atomic():
            value = write()
            job_chunk_save(chunk=self.chunk, done=done, result=self.result)
        job_chunk_check(chunk=self.chunk, message=message)
        return value


    def report(self, message: str) -> None:
        """Progress between commits (the job's heartbeat and message; its counts stay what was recorded)."""
        job_chunk_check(chunk=self.chunk, message=message)


ChunkBody = Callable[[ChunkContext], dict[str, Any]]
Finisher = Callable[[JobContext, list[JobChunk]], dict[str, Any]]


@dataclass(frozen=True)
class _Kind:
    chunk_body: ChunkBody
    finish: Finisher


_KINDS: dict[str, _Kind] = {}


def register_chunked(kind: str, *, chunk_body: ChunkBody, finish: Finisher) -> None:
    """Declare how a job kind processes one chunk and how it finishes once all chunks succeeded."""
    _KINDS[kind] = _Kind(chunk_body, finish)


def _eager() -> bool:
    """Outside any task (a direct call) or in an eagerly applied one: run the chunks here."""
    return not current_task or bool(current_task.request.is_eager or current_task.request.called_directly)


def run_chunked(ctx: JobContext, *, kind: str, items: list[int], size: int) -> dict[str, Any]:
    """Job body helper: plan the chunks (first attempt only), then run the unfinished ones.

    On a worker it sends the chord and raises JobHandedOffError (the job stays `running`; the chunks and
    the finishing task report on the job row). Eagerly it runs the chunks here and returns the result.
    """
    chunks = job_chunks_plan(job_id=ctx.job_id, items=items, size=size)
    pending = [c for c in chunks if c.status != JobStatus.SUCCEEDED]
    ctx.progress(0.0, f"{len(chunks)} chunks, {len(pending)} to run", force=True)
    if pending and not _eager():
        queue = Job.objects.values_list("queue", flat=True).get(pk=ctx.job_id) or None
        parts = group(signature(CHUNK_TASK, args=[c.pk], queue=queue, immutable=True) for c in pending)
        chord(parts, signature(FINISH_TASK, args=[ctx.job_id], queue=queue, immutable=True)).apply_async()
        raise JobHandedOffError(f"{len(pending)} of {len(chunks)} chunks sent to the {queue} queue")
    for c in pending:
        run_chunk(c.pk)
        job = Job.objects.get(pk=ctx.job_id)
        if job.cancel_requested or job.status == JobStatus.CANCELLED:
            raise JobCancelledError(f"job {ctx.job_id} was cancelled")
        if job.status == JobStatus.FAILED:
            raise RuntimeError(job.error)
    return _KINDS[kind].finish(ctx, list(JobChunk.objects.filter(job_id=ctx.job_id).order_by("index")))


def run_chunk(chunk_id: int) -> dict[str, Any]:
    """Run one chunk unless another worker runs it, it is done, or its job stopped."""
    with try_advisory_lock(CHUNK_LOCK_NAMESPACE, chunk_id) as acquired:
        if not acquired:
            return {"chunk_id": chunk_id, "status": "skipped", "detail": "running elsewhere"}
        job_id = JobChunk.objects.values_list("job_id", flat=True).filter(pk=chunk_id).first()
        if job_id is None:
            return {"chunk_id": chunk_id, "status": "skipped", "detail": "chunk is gone"}
        with advisory_lock_shared(JOB_LOCK_NAMESPACE, job_id):
            chunk = job_chunk_claim(chunk_id=chunk_id, worker=worker_name())
            if chunk is None:
                return {"chunk_id": chunk_id, "status": "skipped", "detail": "done or job stopped"}
            job = chunk.job
            ctx = ChunkContext(chunk=chunk, parameters=dict(job.parameters), pinned=dict(job.result),
                               result=dict(chunk.result))
            started = time.monotonic()
            try:
                result = _KINDS[job.kind].chunk_body(ctx)
            except JobCancelledError:
                job_chunk_stop(chunk=chunk)
                return {"chunk_id": chunk_id, "status": "cancelled"}
            except Exception as exc:
                job_chunk_fail(chunk=chunk, error=f"{type(exc).__name__}: {exc}\n\n{traceback.format_exc()}")
                logger.exception("job %s chunk %s failed", job_id, chunk.index)
                return {"chunk_id": chunk_id, "status": "failed", "detail": f"{type(exc).__name__}: {exc}"}
            job_chunk_succeed(chunk=chunk, result=result, message=f"chunk {chunk.index} done")
            logger.info("job %s chunk %s (%s items) done in %.1fs", job_id, chunk.index, chunk.size,
                        time.monotonic() - started)
            return {"chunk_id": chunk_id, "status": "succeeded"}


def finish_job(job_id: int) -> dict[str, Any]:
    """Finish a chunked job once every chunk succeeded (idempotent: final or unfinished jobs are left)."""
    with try_advisory_lock(JOB_LOCK_NAMESPACE, job_id) as acquired:
        if not acquired:
            return JobOutcome(job_id, "skipped", "chunks or another finisher still hold the job").as_dict()
        job = Job.objects.filter(pk=job_id).first()
        if job is None or job.status != JobStatus.RUNNING:
            return JobOutcome(job_id, "skipped", f"job is {job and job.status}").as_dict()
        pending = job_chunks_pending(job_id=job_id)
        if pending:
            return JobOutcome(job_id, "waiting", f"{len(pending)} chunks not done").as_dict()
        ctx = JobContext(job_id=job_id, parameters=dict(job.parameters), partial=dict(job.result),
                         attempt=job.attempts)
        try:
            result = _KINDS[job.kind].finish(ctx, list(JobChunk.objects.filter(job_id=job_id).order_by("index")))
        except Exception as exc:
            job_fail(job_id=job_id, error=f"{type(exc).__name__}: {exc}\n\n{traceback.format_exc()}")
            logger.exception("job %s failed while finishing", job_id)
            return JobOutcome(job_id, "failed", f"{type(exc).__name__}: {exc}").as_dict()
        job_succeed(job_id=job_id, result=result)
        return JobOutcome(job_id, "succeeded").as_dict()


@shared_task(name=CHUNK_TASK)
def chunk_task(chunk_id: int) -> dict[str, Any]:
    return run_chunk(chunk_id)


@shared_task(name=FINISH_TASK)
def finish_task(job_id: int) -> dict[str, Any]:
    return finish_job(job_id)
