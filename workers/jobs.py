"""Run a task body as a Job: claim the row, report progress, record success, failure or cancellation.

Idempotency has two layers. An advisory lock on the job id means one worker at a time runs a job: a
duplicate delivery while it runs finds the lock taken and drops out. The job's status means a delivery
after the end finds a final state and does nothing; a redelivery after a worker died finds `running`, takes
the (released) lock, and the body resumes from the partial result it recorded with ``ctx.save_partial``.
"""

import logging
import os
import socket
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from apps.core.locks import try_advisory_lock
from apps.core.models import Job
from apps.core.services import (
    JOB_LOCK_NAMESPACE,
    JobCancelledError,
    JobInputError,
    job_claim,
    job_fail,
    job_mark_cancelled,
    job_report_progress,
    job_succeed,
)

__all__ = ["JobContext", "JobHandedOffError", "JobOutcome", "job_seconds", "run_job", "worker_name"]

logger = logging.getLogger(__name__)


@dataclass
class JobContext:
    """What a job body sees: its parameters, its partial result, and a way to report progress."""

    job_id: int
    parameters: dict[str, Any]
    partial: dict[str, Any]
    attempt: int
    _last_report: float = field(default=0.0, repr=False)

    def progress(self, fraction: float, message: str = "", *, force: bool = False) -> None:
        """Report progress (at most twice a second unless forced); raises JobCancelledError on cancel."""
        now = time.monotonic()
        if not force and now - self._last_report < 0.5 and fraction < 1.0:
            return
        self._last_report = now
        job_report_progress(job_id=self.job_id, progress=fraction, message=message)

    def save_partial(self, fraction: float, message: str = "") -> None:
        """Persist ``self.partial`` with the progress, so a resumed attempt skips what is done."""
        self._last_report = time.monotonic()
        job_report_progress(job_id=self.job_id, progress=fraction, message=message, result=self.partial)


@dataclass(frozen=True)
class JobOutcome:
    """What the Celery task returns (small, JSON-serialisable)."""

    job_id: int
    status: str
    detail: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"job_id": self.job_id, "status": self.status, "detail": self.detail}


class JobHandedOffError(Exception):
    """Raised by a body that handed its work to other tasks (chunks): the job stays `running` for them."""


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def job_seconds(job_id: int) -> float:
    """Seconds since the job first started (a job's chunks run in other processes, so no local timer)."""
    from django.utils import timezone

    started = Job.objects.values_list("started_at", flat=True).filter(pk=job_id).first()
    return round((timezone.now() - started).total_seconds(), 3) if started else 0.0


def run_job(job_id: int, body: Callable[[JobContext], dict[str, Any]]) -> dict[str, Any]:
    """Run ``body`` for the job unless another worker runs it or it is already finished."""
    with try_advisory_lock(JOB_LOCK_NAMESPACE, job_id) as acquired:
        if not acquired:
            logger.info("job %s is running in another worker; duplicate delivery dropped", job_id)
            return JobOutcome(job_id, "skipped", "running elsewhere").as_dict()
        job = job_claim(job_id=job_id, worker=worker_name())
        if job is None:
            status = Job.objects.filter(pk=job_id).values_list("status", flat=True).first() or "missing"
            return JobOutcome(job_id, "skipped", f"job is {status}").as_dict()
        ctx = JobContext(
            job_id=job_id, parameters=dict(job.parameters), partial=dict(job.result), attempt=job.attempts
        )
        started = time.monotonic()
        try:
            result = body(ctx)
        except JobHandedOffError as handed:
            logger.info("job %s handed off: %s", job_id, handed)
            return JobOutcome(job_id, "dispatched", str(handed)).as_dict()
        except JobCancelledError:
            job_mark_cancelled(job_id=job_id)
            logger.info("job %s cancelled after %.1fs", job_id, time.monotonic() - started)
            return JobOutcome(job_id, "cancelled").as_dict()
        except JobInputError as exc:
            job_fail(job_id=job_id, error=str(exc))
            logger.warning("job %s refused its input after %.1fs: %s", job_id, time.monotonic() - started, exc)
            return JobOutcome(job_id, "failed", str(exc)).as_dict()
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}\n\n{traceback.format_exc()}"
            job_fail(job_id=job_id, error=error)
            logger.exception("job %s failed after %.1fs", job_id, time.monotonic() - started)
            return JobOutcome(job_id, "failed", f"{type(exc).__name__}: {exc}").as_dict()
        job_succeed(job_id=job_id, result=result)
        logger.info("job %s (%s) succeeded in %.1fs", job_id, job.kind, time.monotonic() - started)
        return JobOutcome(job_id, "succeeded").as_dict()
