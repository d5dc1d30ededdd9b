"""Embed and localize jobs: through the real worker where the queueing matters, in-process for the rest."""

import pytest
from django.core.files.storage import default_storage

from apps.core.constants import JOB_KIND_QUEUE, JobKind, JobStatus
from apps.core.geo import bbox_polygon, lonlat_point
from apps.core.jobrun import job_run_here
from apps.core.models import Job, JobChunk
from apps.core.services import job_enqueue
from apps.footprints.constants import FootprintSource
from apps.footprints.models import Footprint
from apps.imagery.models import SatelliteTile
from apps.models_registry.models import TileEmbedding
from apps.models_registry.services import model_version_activate
from apps.photos.constants import PhotoStatus
from tests.factories import footprint_create
from tests.workers.localize_fixtures import GRID, cell_center, make_grid, make_version, noise_photo, photo_from_tile
from tests.workers.test_job_runner import wait_final
from workers.runtime import index_files

pytestmark = [pytest.mark.django_db(transaction=True)]

TILES = GRID * GRID


def _job(kind: str, parameters: dict, worker: bool) -> Job:
    """Queued for the session's worker, or a bare row run here (never sent, so no worker races for it)."""
    if worker:
        return job_enqueue(kind=kind, parameters=parameters)
    return Job.objects.create(kind=kind, parameters=parameters, queue=JOB_KIND_QUEUE[kind])


def _embed(version, *, worker: bool):
    job = _job(JobKind.EMBED, {"model_version_id": version.pk}, worker)
    if worker:
        wait_final(job)
        job.refresh_from_db()
    else:
        job = job_run_here(job)
    assert job.status == JobStatus.SUCCEEDED, job.error
    return job


def _localize(parameters, *, worker: bool = False, timeout: float = 120.0):
    job = _job(JobKind.LOCALIZE, parameters, worker)
    if worker:
        wait_final(job, timeout=timeout)
        job.refresh_from_db()
    else:
        job = job_run_here(job)
    assert job.status == JobStatus.SUCCEEDED, job.error
    return job


@pytest.mark.worker
def test_embed_writes_tiles_x4_rows_and_a_rerun_adds_nothing(celery_worker):
    make_grid()
    version = make_version("embed-v1", seed=0)

    job = _embed(version, worker=True)

    assert TileEmbedding.objects.filter(model_version=version).count() == TILES * 4 == job.result["rows_written"]
    assert job.result["faiss_kind"] == "flat" and job.result["vectors"] == TILES * 4
    assert all(default_storage.exists(name) for name in index_files(version.pk).values())
    again = _embed(version, worker=True)
    assert again.result["tiles_embedded_now"] == 0 and again.result["rows_written"] == 0
    assert TileEmbedding.objects.filter(model_version=version).count() == TILES * 4


@pytest.mark.worker
def test_localize_job_verifies_publishes_and_keeps_history(celery_worker):
    grid = make_grid()
    version = make_version("loc-v1", seed=0)
    _embed(version, worker=True)
    model_version_activate(model_version=version)
    photo = photo_from_tile(grid, (1, 2))
    lost = noise_photo(center_point=lonlat_point(*cell_center(1, 1)), center_uncertainty_km=40.0)

    job = _localize({"photo_ids": [photo.pk, lost.pk]}, worker=True)

    photo.refresh_from_db()
    lost.refresh_from_db()
    assert photo.status == PhotoStatus.LOCALIZED, job.result["photos"][str(photo.pk)]
    first = Footprint.objects.get(photo=photo)
    assert first.source == FootprintSource.RETRIEVAL and first.is_current and first.model_version_id == version.pk
    assert first.inliers >= 10 and 0.5 <= first.confidence < 1 and first.job_id == job.pk
    assert first.polygon.intersects(grid.tiles[(1, 2)].bounds)
    assert lost.status == PhotoStatus.NEEDS_REVIEW and "verified" in lost.status_reason
    assert job.result["photos"][str(lost.pk)]["candidates"], "unverified candidates are kept for review"
    assert not Footprint.objects.filter(photo=lost).exists()

    # Same result again: nothing new. A different current footprint (manual): retrieval adds one, history kept.
    again = _localize({"photo_ids": [photo.pk]}, worker=True)
    assert again.result["photos"][str(photo.pk)]["created"] is False
    assert Footprint.objects.filter(photo=photo).count() == 1
    footprint_create(photo, center=(20.0, 10.0), source=FootprintSource.MANUAL)
    third = _localize({"photo_ids": [photo.pk]}, worker=True)
    assert third.result["photos"][str(photo.pk)]["created"] is True
    history = list(Footprint.objects.filter(photo=photo).order_by("created_at"))
    assert [f.source for f in history] == [FootprintSource.RETRIEVAL, FootprintSource.MANUAL, FootprintSource.RETRIEVAL]
    assert [f.is_current for f in history] == [False, False, True]


def test_activating_a_new_version_does_not_mix_embeddings():
    grid = make_grid()
    v1, v2 = make_version("mix-v1", seed=1), make_version("mix-v2", seed=2, dim=48)  # a v1 row in v2 would not fit
    _embed(v1, worker=False)
    model_version_activate(model_version=v1)
    photo = photo_from_tile(grid, (2, 1))
    job1 = _localize({"photo_ids": [photo.pk]})
    _embed(v2, worker=False)
    model_version_activate(model_version=v2)
    job2 = _localize({"photo_ids": [photo.pk]})

    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT model_version_id, vector_dims(vector), count(*) FROM models_registry_tileembedding "
                    "WHERE model_version_id IN (%s, %s) GROUP BY 1, 2 ORDER BY 1", [v1.pk, v2.pk])
        assert cur.fetchall() == [(v1.pk, 32, TILES * 4), (v2.pk, 48, TILES * 4)]
    assert job1.result["model_version_id"] == v1.pk and job2.result["model_version_id"] == v2.pk
    from ml.embed import embed_files
    from workers.retrieval import photo_image_path, rerank
    from workers.runtime import runtime_for

    runtime = runtime_for(v2)
    assert runtime.model_version_id == v2.pk
    assert runtime.descriptors.shape == (TILES, 4, 48)
    # job 2's candidates were scored with v2's model and v2's tile descriptors only
    outcome = job2.result["photos"][str(photo.pk)]
    query = embed_files(runtime.model, [photo_image_path(photo)])[0, 0]
    expected = rerank(query, [c["tile_id"] for c in outcome["candidates"]], runtime)
    assert [(c["tile_id"], c["rotation"], c["score"]) for c in outcome["candidates"]] == [
        (c.tile_id, c.rotation, round(c.score, 5)) for c in expected]
    assert outcome["candidates"] != job1.result["photos"][str(photo.pk)]["candidates"]
    for fp in Footprint.objects.filter(photo=photo):
        assert fp.model_version_id in (v1.pk, v2.pk) and fp.job_id in (job1.pk, job2.pk)
        assert fp.model_version_id == (v1.pk if fp.job_id == job1.pk else v2.pk)


def test_prior_with_no_tiles_ends_in_review_with_a_reason():
    grid = make_grid()
    version = make_version("empty-v1", seed=0)
    _embed(version, worker=False)
    model_version_activate(model_version=version)
    photo = photo_from_tile(grid, (0, 0))

    job = _localize({"photo_ids": [photo.pk], "bbox": [-60.0, -10.0, -59.0, -9.0]})

    photo.refresh_from_db()
    assert photo.status == PhotoStatus.NEEDS_REVIEW
    assert "no candidate tiles within the spatial prior" in photo.status_reason
    assert job.result["counts"] == {PhotoStatus.NEEDS_REVIEW: 1}


def test_prior_paths_return_only_tiles_within_the_region_and_agree(settings):
    grid = make_grid()
    version = make_version("prior-v1", seed=0)
    _embed(version, worker=False)
    from workers.retrieval import photo_prior, retrieve
    from workers.runtime import runtime_for

    runtime = runtime_for(version)
    photo = photo_from_tile(grid, (1, 1), uncertainty_km=10.0)
    prior = photo_prior(photo)
    inside = set(SatelliteTile.objects.filter(bounds__intersects=prior.region).values_list("pk", flat=True))
    assert prior.kind == "center" and 1 < len(inside) < TILES

    exact = retrieve(photo, version, runtime, prior=prior)  # the prior holds few tiles: all scored exactly
    settings.ASTROLOC_LOCALIZE_PRIOR_EXACT_MAX_TILES = len(inside) - 1  # one tile too many: pgvector + PostGIS
    sql = retrieve(photo, version, runtime, prior=prior)
    everywhere = retrieve(photo, version, runtime, prior=None)

    assert exact.stage == "exact" and sql.stage == "sql" and everywhere.stage == "faiss"
    assert {c.tile_id for c in exact.candidates} == {c.tile_id for c in sql.candidates} == inside
    assert [c.tile_id for c in exact.candidates] == [c.tile_id for c in sql.candidates]  # same exact re-rank
    assert len(everywhere.candidates) == TILES
    region = bbox_polygon(10.0, 45.0, 10.3, 45.3)
    user = retrieve(photo, version, runtime, prior=photo_prior(photo, region=region))
    assert {c.tile_id for c in user.candidates} == set(
        SatelliteTile.objects.filter(bounds__intersects=region).values_list("pk", flat=True))


def test_visibility_radius_matches_the_horizon_and_shrinks_for_near_vertical():
    from workers.retrieval import visibility_radius_km

    assert 2200 < visibility_radius_km(420.0, 90.0) < 2350
    assert 200 < visibility_radius_km(420.0, 30.0) < 300
    assert visibility_radius_km(420.0, 0.0) == pytest.approx(0.0, abs=1e-6)


def test_embed_resumes_after_the_chunks_already_written():
    grid = make_grid()
    version = make_version("resume-v1", seed=0)
    from apps.models_registry.services import tile_embeddings_copy

    done = [grid.tiles[(0, j)].pk for j in range(GRID)]
    unit = [1.0] + [0.0] * (version.embedding_dim - 1)
    tile_embeddings_copy(model_version=version, tile_ids=done, vectors=[[unit] * 4] * len(done))

    job = _embed(version, worker=False)

    assert job.result["tiles_embedded_now"] == TILES - GRID and job.result["rows_written"] == (TILES - GRID) * 4
    assert TileEmbedding.objects.filter(model_version=version).count() == TILES * 4
    assert TileEmbedding.objects.filter(model_version=version, tile_id__in=done).count() == GRID * 4


def test_footprint_publish_adds_a_retrieval_footprint_only_when_it_differs():
    from apps.footprints.services import footprint_publish
    from tests.factories import photo_create

    photo = photo_create()
    version = make_version("fp-v1", seed=0)
    square = [(10.0, 45.2), (10.2, 45.2), (10.2, 45.0), (10.0, 45.0)]
    nudged = [(lon + 0.001, lat) for lon, lat in square]
    moved = [(lon + 0.1, lat) for lon, lat in square]
    kwargs = {"source": FootprintSource.RETRIEVAL, "confidence": 0.8, "inliers": 40, "matched_tile_id": None,
              "matched_rotation": 0, "model_version_id": version.pk, "job_id": None, "same_iou": 0.95}

    first, created1 = footprint_publish(photo=photo, corners=square, **kwargs)
    same, created2 = footprint_publish(photo=photo, corners=nudged, **kwargs)
    other, created3 = footprint_publish(photo=photo, corners=moved, **kwargs)

    assert (created1, created2, created3) == (True, False, True) and same.pk == first.pk
    assert list(Footprint.objects.filter(photo=photo, is_current=True)) == [other]
    assert Footprint.objects.filter(photo=photo).count() == 2
    photo.refresh_from_db()
    assert photo.status == PhotoStatus.LOCALIZED and photo.status_reason == ""


@pytest.mark.worker
def test_commands_embed_activate_and_localize_through_the_worker(celery_worker):
    from io import StringIO

    from django.core.management import call_command

    grid = make_grid()
    version = make_version("cmd-v1", seed=0)
    photo = photo_from_tile(grid, (2, 2))
    out = StringIO()

    call_command("embed_tiles", "--model-version", str(version.pk), "--wait", "--activate", stdout=out)
    call_command("localize_photos", "--photo", photo.photo_id, "--wait", stdout=out)

    version.refresh_from_db()
    photo.refresh_from_db()
    assert version.is_active and "now active" in out.getvalue()
    assert photo.status == PhotoStatus.LOCALIZED, photo.status_reason
    assert "succeeded with model version" in out.getvalue()


def test_a_resumed_localize_job_keeps_its_version_and_skips_finished_photos():
    grid = make_grid()
    v1, v2 = make_version("pin-v1", seed=1), make_version("pin-v2", seed=2)
    _embed(v1, worker=False)
    _embed(v2, worker=False)
    model_version_activate(model_version=v2)  # activated after the job (pinned to v1) started
    done, todo = photo_from_tile(grid, (0, 1)), photo_from_tile(grid, (3, 2))
    job = Job.objects.create(kind=JobKind.LOCALIZE, parameters={}, queue=JOB_KIND_QUEUE[JobKind.LOCALIZE],
                             status=JobStatus.RUNNING, result={"model_version_id": v1.pk})
    # The chunk its dead worker left: one photo recorded, one to go.
    JobChunk.objects.create(job=job, index=0, items=[done.pk, todo.pk], size=2, done=1, status=JobStatus.RUNNING,
                            result={"photos": {str(done.pk): {"status": "localized", "photo_id": done.photo_id}}})

    job = job_run_here(job)

    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.result["model_version_id"] == v1.pk
    assert job.result["photos"][str(todo.pk)]["model_version_id"] == v1.pk
    assert "model_version_id" not in job.result["photos"][str(done.pk)]  # not redone
    assert not Footprint.objects.filter(photo=done).exists()
    assert all(fp.model_version_id == v1.pk for fp in Footprint.objects.filter(photo=todo))
