"""Follow a job from a command line: wait for a worker to finish it, or run it in this process.

Both go by the task's name (``jobs.<kind>``), so the apps still never import the workers. Running here
uses Celery's own ``Task.apply`` (local, synchronous execution of the registered task); the copy of the
message already sent to the broker is then a no-op for whichever worker receives it (the job is final).
"""

import time
from collections.abc import Callable
from typing import Any

from celery import current_app
from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.core.constants import JobStatus, job_task_name
from apps.core.models import Job

__all__ = ["add_follow_arguments", "job_follow", "job_run_here", "job_wait"]


def job_run_here(job: Job) -> Job:
    """Run the job's task in this process now and return the row once the job is final.

    A worker may have received the queued message first: the job's lock then makes this run a no-op, and the
    job is waited for instead, so callers never see a job that is still running.
    """
    current_app.loader.import_default_modules()
    task = current_app.tasks[job_task_name(job.kind)]
    task.apply(args=[job.pk], task_id=job.celery_task_id or None)
    job.refresh_from_db()
    return job if job.is_final else job_wait(job)


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


def add_follow_arguments(parser: CommandParser) -> None:
    """The two ways a job command can follow its job (neither: leave it queued for a worker)."""
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--wait", action="store_true", help="wait until a worker has finished the job")
    mode.add_argument("--in-process", action="store_true", help="run the job in this process")


def job_follow(command: BaseCommand, job: Job, options: dict[str, Any]) -> Job | None:
    """Follow ``job`` as the command's --wait / --in-process options say; None when left queued.

    Raises CommandError with the first line of the job's error unless it succeeded, so every job command
    reports failure the same way and exits non-zero.
    """
    if options.get("in_process"):
        job = job_run_here(job)
        if not job.is_final:  # a worker took the queued copy first
            job = job_wait(job)
    elif options.get("wait"):
        job = job_wait(
            job, on_progress=lambda j: command.stdout.write(f"  {j.status} {j.progress:5.1%} {j.progress_message}")
        )
    else:
        return None
    if job.status != JobStatus.SUCCEEDED:
        raise CommandError(f"job #{job.pk} {job.status}: {job.error.splitlines()[0] if job.error else ''}")
    return job
