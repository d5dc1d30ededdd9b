"""Chunked embed and localize jobs under faults, with real worker processes (kill -9, cancel, version switch).

Each test runs its own solo workers on a private queue with small chunks (``CHUNK_ENV``), so a job of a
dozen photos or 64 tiles spans several chunk tasks, and interrupts it while a chunk is half done.
"""

import time
from datetime import timedelta

import pytest

from apps.core.constants import JOB_KIND_QUEUE, JobKind, JobStatus
from apps.core.models import JobChunk
from apps.core.services import job_cancel, job_enqueue, job_recover_stale
from apps.footprints.models import Footprint
from apps.imagery.models import SatelliteTile
from apps.models_registry.models import TileEmbedding
from apps.models_registry.services import model_version_activate
from tests.workers.fault_helpers import (
    CHUNK_ENV,
    assert_photos_match_outcomes,
    chunks_done,
    embed_here,
    embed_world,
    localize_world,
    recorded_outcomes,
    wait_until,
)
from tests.workers.localize_fixtures import make_version
from tests.workers.test_job_runner import wait_final

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker, pytest.mark.slow]

QUEUE = "test-chunked-faults"  # served only by this module's workers


@pytest.fixture
def private_queue(monkeypatch):
    monkeypatch.setitem(JOB_KIND_QUEUE, JobKind.LOCALIZE, QUEUE)
    monkeypatch.setitem(JOB_KIND_QUEUE, JobKind.EMBED, QUEUE)


def _rows(version) -> int:
    return TileEmbedding.objects.filter(model_version=version).count()


def test_kill_9_mid_localize_batch_every_photo_final_once(worker_factory, private_queue):
    version, photos = localize_world(12, "kill-loc")
    doomed = worker_factory("doomed", QUEUE, env=CHUNK_ENV)
    job = job_enqueue(kind=JobKind.LOCALIZE, parameters={"photo_ids": [p.pk for p in photos]})
    wait_until(lambda: chunks_done(job) >= 4, "chunk 0 done and chunk 1 started")

    doomed.kill()
    job.refresh_from_db()
    before = recorded_outcomes(job)
    assert job.status == JobStatus.RUNNING and 4 <= len(before) < 12, (job.status, len(before))
    assert JobChunk.objects.filter(job=job).count() == 4
    assert_photos_match_outcomes(job, photos)  # the kill left no photo half done

    worker_factory("rescuer", QUEUE, env=CHUNK_ENV)
    assert job_recover_stale(stale_after=timedelta(seconds=0)) == [job.pk]
    wait_final(job, timeout=300)

    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.progress == 1.0 and job.attempts == 2
    assert set(job.result["photos"]) == {str(p.pk) for p in photos}
    assert sum(job.result["counts"].values()) == 12
    for pk, outcome in before.items():
        assert job.result["photos"][pk] == outcome  # recorded before the crash: not processed again
    chunks = list(JobChunk.objects.filter(job=job))
    assert all(c.status == JobStatus.SUCCEEDED and c.done == c.size for c in chunks)
    assert sum(c.done for c in chunks) == 12
    assert sorted(c.attempts for c in chunks).count(1) >= 2  # chunks finished before the kill ran once
    outcomes = assert_photos_match_outcomes(job, photos)
    assert all(p.status in ("localized", "needs_review", "failed") for p in photos)
    assert Footprint.objects.filter(job=job).count() == sum(o["status"] == "localized" for o in outcomes.values())
    assert all(o["model_version_id"] == version.pk for o in outcomes.values())


def test_kill_9_mid_embed_job_every_tile_embedded_once(worker_factory, private_queue):
    version = embed_world(8)
    tiles = SatelliteTile.objects.count()
    doomed = worker_factory("doomed", QUEUE, env=CHUNK_ENV)
    job = job_enqueue(kind=JobKind.EMBED, parameters={"model_version_id": version.pk})
    wait_until(lambda: _rows(version) >= 20 * 4, "chunk 0 done and chunk 1 started")

    doomed.kill()
    job.refresh_from_db()
    rows_at_kill = _rows(version)
    assert job.status == JobStatus.RUNNING and rows_at_kill < tiles * 4, (job.status, rows_at_kill)
    assert chunks_done(job) * 4 == rows_at_kill  # rows and recorded progress committed together

    worker_factory("rescuer", QUEUE, env=CHUNK_ENV)
    assert job_recover_stale(stale_after=timedelta(seconds=0)) == [job.pk]
    wait_final(job, timeout=300)

    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.progress == 1.0 and job.attempts == 2
    assert _rows(version) == tiles * 4 == job.result["rows_written"] == job.result["vectors"]
    assert job.result["tiles_embedded_now"] == tiles == chunks_done(job) and job.result["chunks"] == 4
    per_tile = TileEmbedding.objects.filter(model_version=version).values_list("tile_id", flat=True)
    assert sorted(set(per_tile)) == sorted(SatelliteTile.objects.values_list("pk", flat=True))


def test_cancel_running_localize_batch_stops_with_consistent_partial_results(worker_factory, private_queue):
    _, photos = localize_world(12, "cancel-loc")
    worker_factory("w", QUEUE, env=CHUNK_ENV)
    job = job_enqueue(kind=JobKind.LOCALIZE, parameters={"photo_ids": [p.pk for p in photos]})
    wait_until(lambda: chunks_done(job) >= 2, "two photos localized")

    job_cancel(job=job)
    wait_final(job, timeout=120)
    footprints_at_stop = Footprint.objects.filter(job=job).count()

    assert job.status == JobStatus.CANCELLED
    outcomes = assert_photos_match_outcomes(job, photos)
    assert 2 <= len(outcomes) < 12
    assert chunks_done(job) == len(outcomes)
    statuses = list(JobChunk.objects.filter(job=job).order_by("index").values_list("status", flat=True))
    assert statuses.count(JobStatus.CANCELLED) >= 1 and JobStatus.QUEUED not in statuses
    assert JobStatus.RUNNING not in statuses
    # Nothing moves after the stop: the chunks still queued in the broker drop out when they arrive.
    wait_until(lambda: not JobChunk.objects.filter(job=job, status=JobStatus.RUNNING).exists(), "chunks idle", 5)
    time.sleep(3)
    assert Footprint.objects.filter(job=job).count() == footprints_at_stop
    assert recorded_outcomes(job) == outcomes


def test_cancel_running_embed_job_keeps_whole_tiles_only(worker_factory, private_queue):
    version = embed_world(8, "cancel-embed")
    worker_factory("w", QUEUE, env=CHUNK_ENV)
    job = job_enqueue(kind=JobKind.EMBED, parameters={"model_version_id": version.pk})
    wait_until(lambda: _rows(version) >= 8 * 4, "two batches embedded")

    job_cancel(job=job)
    wait_final(job, timeout=120)

    assert job.status == JobStatus.CANCELLED
    rows = _rows(version)
    assert 8 * 4 <= rows < SatelliteTile.objects.count() * 4
    assert rows == chunks_done(job) * 4
    counts = TileEmbedding.objects.filter(model_version=version).values_list("tile_id", flat=True)
    assert all(list(counts).count(t) == 4 for t in set(counts))  # never a tile with some rotations missing


def test_version_switch_mid_batch_never_mixes_versions(worker_factory, private_queue):
    v1, photos = localize_world(12, "switch")
    v2 = make_version("switch-v2", seed=5)
    embed_here(v2)
    worker_factory("w", QUEUE, env=CHUNK_ENV)
    job = job_enqueue(kind=JobKind.LOCALIZE, parameters={"photo_ids": [p.pk for p in photos]})
    wait_until(lambda: chunks_done(job) >= 2, "two photos localized")

    model_version_activate(model_version=v2)  # mid-batch
    later = job_enqueue(kind=JobKind.LOCALIZE, parameters={"photo_ids": [p.pk for p in photos[:3]]})
    wait_final(job, timeout=300)
    wait_final(later, timeout=300)

    assert job.status == later.status == JobStatus.SUCCEEDED, (job.error, later.error)
    assert chunks_done(job) == 12 and JobChunk.objects.filter(job=job).count() == 4
    assert job.result["model_version_id"] == v1.pk and later.result["model_version_id"] == v2.pk
    assert {o["model_version_id"] for o in job.result["photos"].values()} == {v1.pk}
    assert set(Footprint.objects.filter(job=job).values_list("model_version_id", flat=True)) <= {v1.pk}
    assert {o["model_version_id"] for o in later.result["photos"].values()} == {v2.pk}
    assert set(Footprint.objects.filter(job=later).values_list("model_version_id", flat=True)) <= {v2.pk}


def test_two_workers_share_one_batch_and_the_job_sums_their_chunks(worker_factory, private_queue):
    _, photos = localize_world(12, "share")
    worker_factory("one", QUEUE, env=CHUNK_ENV)
    worker_factory("two", QUEUE, env=CHUNK_ENV)
    job = job_enqueue(kind=JobKind.LOCALIZE, parameters={"photo_ids": [p.pk for p in photos]})

    wait_final(job, timeout=300)

    assert job.status == JobStatus.SUCCEEDED, job.error
    chunks = list(JobChunk.objects.filter(job=job))
    assert len(chunks) == 4 and all(c.status == JobStatus.SUCCEEDED and c.attempts == 1 for c in chunks)
    assert len({c.worker for c in chunks}) == 2  # both processes took chunks of the same job
    assert job.progress == 1.0 and sum(c.done for c in chunks) == 12 == len(job.result["photos"])
    assert_photos_match_outcomes(job, photos)
