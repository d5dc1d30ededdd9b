"""NASA's machine footprints (nasa_ml): kept beside ours, never over ours, never what makes a photo "done"."""

import pytest

from apps.footprints.constants import FootprintSource
from apps.footprints.models import Footprint
from apps.footprints.services import footprint_add, footprint_publish
from apps.photos.selectors import photos_awaiting_footprint, photos_to_label
from apps.photos.services import photos_queue_next_steps
from tests.factories import footprint_create, photo_create

pytestmark = pytest.mark.django_db

SQUARE = [(40.2, -10.1), (40.6, -10.1), (40.6, -10.5), (40.2, -10.5)]


def _current(photo) -> Footprint:
    return Footprint.objects.get(photo=photo, is_current=True)


def test_a_nasa_footprint_is_current_only_until_one_of_ours_arrives():
    photo = photo_create()
    nasa = footprint_add(photo=photo, corners=SQUARE, source=FootprintSource.NASA_ML)
    assert _current(photo) == nasa  # the only footprint: shown as current

    ours = footprint_create(photo, source=FootprintSource.AUTO_LABEL, confidence=0.9)
    assert _current(photo) == ours

    later = footprint_add(photo=photo, corners=SQUARE, source=FootprintSource.NASA_ML)
    assert _current(photo) == ours and not later.is_current  # recorded beside ours, never over it


def test_a_photo_with_only_a_nasa_footprint_still_needs_labeling_and_localization():
    photo = photo_create()
    footprint_add(photo=photo, corners=SQUARE, source=FootprintSource.NASA_ML)

    assert list(photos_to_label()) == [photo]
    assert list(photos_to_label(photo_ids=[photo.pk])) == [photo]
    assert list(photos_awaiting_footprint()) == [photo]
    assert photos_queue_next_steps(photo_pks=[photo.pk])["label"] == [photo.pk]

    footprint_create(photo, source=FootprintSource.IMPORTED)
    assert list(photos_to_label()) == [] and list(photos_awaiting_footprint()) == []
    assert photos_queue_next_steps(photo_pks=[photo.pk])["has_footprint"] == [photo.pk]


def test_retrieval_never_takes_the_nasa_footprint_for_ours():
    photo = photo_create()
    nasa = footprint_add(photo=photo, corners=SQUARE, source=FootprintSource.NASA_ML)

    footprint, created = footprint_publish(
        photo=photo, corners=SQUARE, source=FootprintSource.RETRIEVAL, confidence=0.9, inliers=80,
        matched_tile_id=None, matched_rotation=None, model_version_id=None, job_id=None, same_iou=0.95)

    assert created and footprint.source == FootprintSource.RETRIEVAL and _current(photo) == footprint
    nasa.refresh_from_db()
    assert not nasa.is_current


def test_rest_and_stac_filter_by_the_nasa_ml_source():
    from rest_framework.test import APIClient

    only_nasa, both = photo_create(), photo_create()
    nasa = footprint_add(photo=only_nasa, corners=SQUARE, source=FootprintSource.NASA_ML)
    footprint_add(photo=both, corners=SQUARE, source=FootprintSource.NASA_ML)
    footprint_create(both, source=FootprintSource.IMPORTED)
    api = APIClient()

    listed = api.get("/api/v1/footprints", {"source": "nasa_ml"}).json()["features"]
    assert [(f["id"], f["properties"]["source"]) for f in listed] == [(nasa.pk, "nasa_ml")]  # current ones
    history = api.get(f"/api/v1/photos/{both.photo_id}/footprints").json()["features"]
    assert sorted(f["properties"]["source"] for f in history) == ["imported", "nasa_ml"]
    assert api.get("/api/v1/footprints", {"source": "nasa_machine"}).status_code == 400

    search = api.get("/stac/search", {"filter-lang": "cql2-text", "filter": "\"astroloc:source\" = 'nasa_ml'"})
    assert search.status_code == 200, search.content
    assert [f["properties"]["astroloc:source"] for f in search.json()["features"]] == ["nasa_ml"]
