"""The job system with a real Celery worker process: lifecycle, failure, duplicates, cancellation."""

import time

import pytest

from apps.core.constants import JobKind, JobStatus, job_task_name
from apps.core.models import Job
from apps.core.services import job_cancel, job_enqueue

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]


def wait_final(job: Job, timeout: float = 60.0) -> list[tuple[str, float]]:
    """Poll the job row until it is final; return every (status, progress) observed on the way."""
    seen: list[tuple[str, float]] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job.refresh_from_db()
        state = (job.status, round(job.progress, 3))
        if not seen or seen[-1] != state:
            seen.append(state)
        if job.is_final:
            return seen
        time.sleep(0.02)
    raise AssertionError(f"job {job.pk} not final after {timeout}s; seen {seen}")


def test_job_goes_queued_running_succeeded_with_progress(celery_worker):
    job = job_enqueue(kind=JobKind.SELFTEST, parameters={"steps": 8, "step_seconds": 0.25})
    assert job.status == JobStatus.QUEUED

    seen = wait_final(job)

    statuses = [status for status, _ in seen]
    assert statuses[0] in {JobStatus.QUEUED, JobStatus.RUNNING}
    assert JobStatus.RUNNING in statuses
    assert statuses[-1] == JobStatus.SUCCEEDED
    running_progress = [p for s, p in seen if s == JobStatus.RUNNING]
    assert any(0.0 < p < 1.0 for p in running_progress), seen
    assert running_progress == sorted(running_progress)
    assert job.progress == 1.0
    assert job.result["executed_steps"] == list(range(8))
    assert job.started_at is not None and job.finished_at is not None and job.finished_at > job.started_at
    assert job.attempts == 1


def test_failing_job_ends_failed_with_its_error(celery_worker):
    job = job_enqueue(kind=JobKind.SELFTEST, parameters={"steps": 5, "step_seconds": 0.01, "fail_at_step": 3})

    wait_final(job)

    assert job.status == JobStatus.FAILED
    assert "SelftestFailureError: selftest asked to fail at step 3 of 5" in job.error
    assert job.result["executed_steps"] == [0, 1, 2]
    assert job.finished_at is not None


def test_duplicate_delivery_does_not_duplicate_the_effect(celery_worker):
    from astroloc_platform.celery import app

    job = job_enqueue(kind=JobKind.SELFTEST, parameters={"steps": 6, "step_seconds": 0.2})
    # Two more deliveries of the same job while it runs (the worker has two processes, so one runs
    # concurrently with the first), then one after it finished.
    for _ in range(2):
        app.send_task(job_task_name(JobKind.SELFTEST), args=[job.pk], queue="cpu")
    wait_final(job)
    late = app.send_task(job_task_name(JobKind.SELFTEST), args=[job.pk], queue="cpu")
    late_outcome = late.get(timeout=30)

    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED
    assert job.result["executed_steps"] == list(range(6))
    assert job.attempts == 1
    assert late_outcome == {"job_id": job.pk, "status": "skipped", "detail": "job is succeeded"}


def test_cancelled_running_job_stops_at_next_progress_report(celery_worker):
    job = job_enqueue(kind=JobKind.SELFTEST, parameters={"steps": 200, "step_seconds": 0.05})
    deadline = time.monotonic() + 30
    while job.status != JobStatus.RUNNING and time.monotonic() < deadline:
        time.sleep(0.05)
        job.refresh_from_db()
    job_cancel(job=job)

    wait_final(job)

    assert job.status == JobStatus.CANCELLED
    assert 0 < len(job.result["executed_steps"]) < 200


def test_worker_process_imports_stdlib_platform_and_torch(celery_worker):
    from astroloc_platform.celery import app

    report = app.send_task("diagnostics.environment", queue="gpu").get(timeout=120)

    assert report["platform_system"] == "Linux"
    assert "astroloc" not in report["platform_module"] and report["platform_module"].endswith("platform.py")
    assert report["torch_version"].startswith("2.")


def test_input_errors_are_recorded_as_their_message_alone(celery_worker, tmp_path):
    """A bad raster is the user's to fix: the job says what is wrong, without a traceback."""
    from apps.imagery.services import TilingParameters, mosaic_ingest

    fake = tmp_path / "not-a-raster.tif"
    fake.write_text("<VRTDataset>pretending to be a GeoTIFF</VRTDataset>")
    job = mosaic_ingest(year=2020, tiling=TilingParameters(), path=str(fake)).job

    wait_final(job)

    assert job.status == JobStatus.FAILED
    assert "not-a-raster.tif" in job.error
    assert "Traceback" not in job.error
