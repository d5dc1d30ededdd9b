"""Localization edge cases: priors across the antimeridian, and the photo's status while it is localized."""

import pytest

from apps.core.geo import lonlat_point
from apps.footprints.models import Footprint
from apps.models_registry.services import model_version_activate
from apps.photos.constants import PhotoStatus
from apps.photos.models import Photo
from tests.workers.localize_fixtures import make_grid, make_version, photo_from_tile
from tests.workers.test_localize_jobs import _embed, _localize

pytestmark = [pytest.mark.django_db(transaction=True)]

ANTIMERIDIAN = (179.6, -0.4)  # columns 0-1 east of 179.6, columns 2-3 west of -179.6


def _ids(grid, cells) -> set[int]:
    return {grid.tiles[c].pk for c in cells}


def test_a_centre_prior_across_lon_180_finds_tiles_on_both_sides(settings):
    grid = make_grid(origin=ANTIMERIDIAN)
    version = make_version("am-center", seed=0)
    _embed(version, worker=False)
    from workers.retrieval import photo_prior, retrieve
    from workers.runtime import runtime_for

    photo = photo_from_tile(grid, (1, 1), uncertainty_km=30.0)  # centre (179.9, -0.1), +-0.27 deg
    prior = photo_prior(photo)
    exact = retrieve(photo, version, runtime_for(version), prior=prior)
    settings.ASTROLOC_LOCALIZE_PRIOR_EXACT_MAX_TILES = 0  # the pgvector + PostGIS path
    sql = retrieve(photo, version, runtime_for(version), prior=prior)

    assert prior.kind == "center" and prior.region.geom_type == "MultiPolygon"
    assert (exact.stage, sql.stage) == ("exact", "sql")
    expected = _ids(grid, [(i, j) for i in range(3) for j in range(3)])  # column 2 lies west of lon -180
    assert {c.tile_id for c in exact.candidates} == {c.tile_id for c in sql.candidates} == expected


def test_a_nadir_prior_across_lon_180_covers_both_sides():
    grid = make_grid(origin=ANTIMERIDIAN)
    version = make_version("am-nadir", seed=0)
    _embed(version, worker=False)
    from workers.retrieval import photo_prior, retrieve
    from workers.runtime import runtime_for

    photo = photo_from_tile(grid, (2, 1), center_point=None, nadir_point=lonlat_point(*grid.center((3, 1))),
                            tilt_class="NV")
    prior = photo_prior(photo)
    found = {c.tile_id for c in retrieve(photo, version, runtime_for(version), prior=prior).candidates}

    assert prior.kind == "nadir" and 200 < prior.radius_km < 300
    assert found == _ids(grid, grid.tiles)


def test_a_user_bbox_across_lon_180_localizes_photos_on_both_sides():
    grid = make_grid(origin=ANTIMERIDIAN)
    version = make_version("am-bbox", seed=0)
    _embed(version, worker=False)
    model_version_activate(model_version=version)
    east, west = photo_from_tile(grid, (1, 1)), photo_from_tile(grid, (2, 1))

    job = _localize({"photo_ids": [east.pk, west.pk], "bbox": [179.85, -0.35, -179.85, 0.15]})

    for photo, cell in ((east, (1, 1)), (west, (2, 1))):
        outcome = job.result["photos"][str(photo.pk)]
        assert outcome["status"] == PhotoStatus.LOCALIZED, outcome
        assert outcome["prior"]["kind"] == "region"
        footprint = Footprint.objects.get(photo=photo, is_current=True)
        assert footprint.polygon.intersects(grid.tiles[cell].bounds)


def test_the_photo_is_localizing_while_the_job_works_on_it(monkeypatch):
    grid = make_grid()
    version = make_version("status-v1", seed=0)
    _embed(version, worker=False)
    model_version_activate(model_version=version)
    photo = photo_from_tile(grid, (1, 2))
    seen: list[str] = []
    import workers.localize as localize

    real_verify = localize.verify_candidates

    def spy(photo_, *args, **kwargs):
        seen.append(Photo.objects.get(pk=photo_.pk).status)  # what the map and the API read meanwhile
        return real_verify(photo_, *args, **kwargs)

    monkeypatch.setattr(localize, "verify_candidates", spy)

    _localize({"photo_ids": [photo.pk]})

    photo.refresh_from_db()
    assert seen and set(seen) == {PhotoStatus.LOCALIZING}
    assert photo.status == PhotoStatus.LOCALIZED


def test_an_error_mid_localization_restores_the_status_and_a_bad_file_fails_the_photo(monkeypatch):
    grid = make_grid()
    version = make_version("status-v2", seed=0)
    _embed(version, worker=False)
    model_version_activate(model_version=version)
    crashing, unreadable = photo_from_tile(grid, (0, 1)), photo_from_tile(grid, (3, 3))
    unreadable.image.storage.delete(unreadable.image.name)
    import workers.localize as localize

    def boom(*args, **kwargs):
        raise RuntimeError("matcher crashed")

    monkeypatch.setattr(localize, "verify_candidates", boom)
    from workers.runtime import runtime_for

    with pytest.raises(RuntimeError):
        localize.localize_one(crashing, version, runtime_for(version))
    crashing.refresh_from_db()
    assert crashing.status == PhotoStatus.IMPORTED  # not left `localizing` forever

    job = _localize({"photo_ids": [unreadable.pk]})
    unreadable.refresh_from_db()
    assert unreadable.status == PhotoStatus.FAILED and "localization failed" in unreadable.status_reason
    assert job.result["counts"] == {PhotoStatus.FAILED: 1}


def test_status_services_refuse_final_states_as_in_progress_and_vice_versa():
    from apps.photos.services import photo_mark_in_progress, photo_status_restore
    from tests.factories import photo_create

    photo = photo_create()
    with pytest.raises(ValueError, match="in progress"):
        photo_mark_in_progress(photo=photo, status=PhotoStatus.LOCALIZED)
    with pytest.raises(ValueError, match="in-progress"):
        photo_status_restore(photo=photo, status=PhotoStatus.LOCALIZING)
    assert photo_mark_in_progress(photo=photo) == PhotoStatus.IMPORTED
    assert photo_mark_in_progress(photo=photo) == PhotoStatus.IMPORTED  # a stale `localizing` is not kept
    photo_status_restore(photo=photo, status=PhotoStatus.NEEDS_REVIEW)
    photo.refresh_from_db()
    assert photo.status == PhotoStatus.NEEDS_REVIEW


def test_a_sweep_without_photo_ids_leaves_rejected_photos_to_review():
    from apps.footprints.constants import FootprintSource
    from apps.footprints.services import footprint_reject
    from tests.factories import footprint_create, photo_create, user_create
    from workers.localize import _select_photos

    rejected, pending = photo_create(), photo_create()
    footprint_reject(footprint=footprint_create(rejected, center=(40.4, -10.3), source=FootprintSource.RETRIEVAL),
                     reviewer=user_create(is_staff=True), note="wrong coast")

    assert _select_photos({}) == [pending.pk]
    assert _select_photos({"photo_ids": [rejected.pk]}) == [rejected.pk]  # asked for by name: redone
