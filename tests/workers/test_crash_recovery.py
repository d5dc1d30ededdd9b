"""Crash survival: kill -9 the worker in the middle of a job; after recovery every step ran exactly once."""

import time
from datetime import timedelta

import pytest

from apps.core.constants import JOB_KIND_QUEUE, JobKind, JobStatus
from apps.core.models import Job
from apps.core.services import job_enqueue, job_recover_stale
from tests.workers.test_job_runner import wait_final

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]

QUEUE = "test-crash-recovery"  # served only by this test's workers


def _wait_for_steps(job: Job, at_least: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if len(job.result.get("executed_steps", [])) >= at_least:
            return
        time.sleep(0.05)
    raise AssertionError(f"job {job.pk} did not reach step {at_least}: {job.status} {job.result}")


def test_killed_worker_job_is_recovered_and_finishes_each_step_once(worker_factory, monkeypatch):
    monkeypatch.setitem(JOB_KIND_QUEUE, JobKind.SELFTEST, QUEUE)
    doomed = worker_factory("doomed", QUEUE)
    job = job_enqueue(kind=JobKind.SELFTEST, parameters={"steps": 30, "step_seconds": 0.1})
    _wait_for_steps(job, at_least=5)

    doomed.kill()
    job.refresh_from_db()
    done_before_crash = len(job.result["executed_steps"])
    assert job.status == JobStatus.RUNNING and 5 <= done_before_crash < 30

    # Its heartbeat is fresh: not yet considered orphaned.
    assert job_recover_stale(stale_after=timedelta(minutes=5)) == []
    worker_factory("rescuer", QUEUE)
    assert job_recover_stale(stale_after=timedelta(seconds=0)) == [job.pk]
    wait_final(job)

    assert job.status == JobStatus.SUCCEEDED
    assert job.result["executed_steps"] == list(range(30))
    assert job.attempts == 2
    assert job.result["attempts"] == [1, 2]
    assert job.progress == 1.0


def test_recovery_leaves_a_job_with_a_live_worker_alone(worker_factory, monkeypatch):
    monkeypatch.setitem(JOB_KIND_QUEUE, JobKind.SELFTEST, QUEUE)
    worker_factory("alive", QUEUE)
    job = job_enqueue(kind=JobKind.SELFTEST, parameters={"steps": 20, "step_seconds": 0.1})
    _wait_for_steps(job, at_least=2)

    assert job_recover_stale(stale_after=timedelta(seconds=0)) == []  # its lock is held

    wait_final(job)
    assert job.status == JobStatus.SUCCEEDED and job.attempts == 1
