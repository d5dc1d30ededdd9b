"""Localization verifies against the features the embed job stored: no database image is described at
localization time, a photo no candidate shows goes to review with the reasons, bad budgets are refused."""

import numpy as np
import pytest
from django.core.files.base import ContentFile

from apps.core.constants import JOB_KIND_QUEUE, JobKind, JobStatus
from apps.core.geo import lonlat_point
from apps.core.jobrun import job_run_here
from apps.core.models import Job
from apps.footprints.models import Footprint
from apps.imagery.models import TileFeatures
from apps.models_registry.services import model_version_activate
from apps.photos.constants import PhotoStatus
from tests.factories import photo_create
from tests.workers.localize_fixtures import (
    GRID,
    TILE_PX,
    cell_center,
    make_grid,
    make_version,
    photo_from_tile,
    png_bytes,
    textured,
)
from tests.workers.test_localize_jobs import _embed, _localize

pytestmark = [pytest.mark.django_db(transaction=True)]


@pytest.fixture
def embedded():
    grid = make_grid()
    version = make_version("verify-v1", seed=0)
    job = _embed(version, worker=False)
    model_version_activate(model_version=version)
    return grid, version, job


def test_embed_stores_every_tiles_features_once(embedded):
    _, version, job = embedded
    assert job.result["tiles_described"] == GRID * GRID == TileFeatures.objects.count()
    assert all(f.keypoints > 50 for f in TileFeatures.objects.all())
    again = _embed(version, worker=False)
    assert again.result["tiles_described"] == 0 and TileFeatures.objects.count() == GRID * GRID


def test_localization_reads_stored_features_and_describes_no_tile(embedded, monkeypatch):
    grid, _, _ = embedded
    import ml.verification.features as features
    import workers.embed as embed
    from workers.runtime import localize_matcher

    described: list[tuple[int, ...]] = []

    def counting(matcher, image):
        described.append(image.shape)
        raise AssertionError("a database image was described at localization time")

    monkeypatch.setattr(features, "extract_tile_features", counting)
    monkeypatch.setattr(embed, "extract_tile_features", counting)
    matcher, _ = localize_matcher()
    shapes: list[tuple[int, ...]] = []
    for method in ("extract", "extract_query"):  # database-image features and the photo's own
        real = getattr(matcher, method)
        monkeypatch.setattr(matcher, method, lambda image, real=real: shapes.append(image.shape) or real(image))
    photo = photo_from_tile(grid, (2, 1))

    job = _localize({"photo_ids": [photo.pk]})

    photo.refresh_from_db()
    outcome = job.result["photos"][str(photo.pk)]
    assert photo.status == PhotoStatus.LOCALIZED, outcome
    assert described == []
    photo_px = TILE_PX // 2
    assert shapes and all(max(s[:2]) <= photo_px for s in shapes), "only the photo (resized, rotated) is described"
    assert outcome["cascade"] and outcome["cascade"][0]["cheap"] is not None
    assert outcome["verified"] and outcome["published_rank"] == outcome["verified"][0]["rank"]


def test_no_right_candidate_sends_the_photo_to_review_with_reasons(embedded):
    """A photo of a place the database does not hold, labeled inside it: candidates exist, none verifies."""
    elsewhere = np.ascontiguousarray(textured(TILE_PX, seed=999)[96:-96, 96:-96])
    photo = photo_create(center_point=lonlat_point(*cell_center(1, 1)), center_uncertainty_km=40.0,
                         focal_length_mm=None)
    photo.image.save(f"{photo.photo_id}.png", ContentFile(png_bytes(elsewhere)), save=True)

    job = _localize({"photo_ids": [photo.pk], "verify": {"budget_candidates": GRID * GRID}})

    photo.refresh_from_db()
    outcome = job.result["photos"][str(photo.pk)]
    assert photo.status == PhotoStatus.NEEDS_REVIEW and outcome["status"] == PhotoStatus.NEEDS_REVIEW
    assert photo.status_reason.startswith("no candidate verified geometrically: ")
    assert "tile " in photo.status_reason or "cheap test" in photo.status_reason
    assert len(outcome["cascade"]) == GRID * GRID
    assert not outcome.get("verified")
    assert not Footprint.objects.filter(photo=photo).exists()


def test_missing_stored_features_are_named_and_nothing_is_published(embedded):
    grid, _, _ = embedded
    TileFeatures.objects.all().delete()
    photo = photo_from_tile(grid, (1, 2))

    job = _localize({"photo_ids": [photo.pk]})

    photo.refresh_from_db()
    assert photo.status == PhotoStatus.NEEDS_REVIEW
    assert "features" in photo.status_reason and "embed" in photo.status_reason, photo.status_reason
    assert job.result["photos"][str(photo.pk)]["status"] == PhotoStatus.NEEDS_REVIEW
    assert not Footprint.objects.filter(photo=photo).exists()


@pytest.mark.parametrize("verify", [{"budget": 3}, {"budget_candidates": 0}, {"budget_seconds": "soon"}])
def test_unusable_verify_budgets_fail_the_job_with_a_clear_error(embedded, verify):
    grid, _, _ = embedded
    photo = photo_from_tile(grid, (1, 2))
    job = Job.objects.create(kind=JobKind.LOCALIZE, parameters={"photo_ids": [photo.pk], "verify": verify},
                             queue=JOB_KIND_QUEUE[JobKind.LOCALIZE])

    job = job_run_here(job)

    assert job.status == JobStatus.FAILED and "verify" in job.error and "Traceback" not in job.error
    photo.refresh_from_db()
    assert photo.status == PhotoStatus.IMPORTED
