"""Follow a job from a command line: wait for a worker to finish it, or run it in this process.

Both go by the task's name (``jobs.<kind>``), so the apps still never import the workers. Running here
uses Celery's own ``Task.apply`` (local, synchronous execution of the registered task); the copy of the
message already sent to the broker is then a no-op for whichever worker receives it (the job is final).
"""

import time
from collections.abc import Callable

from celery import current_app

from apps.core.constants import job_task_name
from apps.core.models import Job

__all__ = ["job_run_here", "job_wait"]


def job_run_here(job: Job) -> Job:
    """Run the job's task in this process now and return the refreshed row."""
    current_app.loader.import_default_modules()
    task = current_app.tasks[job_task_name(job.kind)]
    task.apply(args=[job.pk], task_id=job.celery_task_id or None)
    job.refresh_from_db()
    return job


def job_wait(
    job: Job, *, timeout: float | None = None, poll: float = 0.5, on_progress: Callable[[Job], None] | None = None
) -> Job:
    """Poll the job row until its status is final (or ``timeout`` seconds pass); return the row."""
    deadline = None if timeout is None else time.monotonic() + timeout
    last = None
    while True:
        job.refresh_from_db()
        state = (job.status, job.progress, job.progress_message)
        if on_progress is not None and state != last:
            on_progress(job)
        last = state
        if job.is_final:
            return job
        if deadline is not None and time.monotonic() > deadline:
            raise TimeoutError(f"job {job.pk} is still {job.status} after {timeout:.0f}s")
        time.sleep(poll)
