"""Training-pair export: a photo's current footprint and a tile pair up when their IoU exceeds 0.2."""

import pytest

from apps.core.geo import bbox_polygon
from apps.footprints.constants import RETRIEVAL_TRAINING_MIN_CONFIDENCE, FootprintSource
from apps.footprints.selectors import footprint_tile_pairs
from apps.footprints.services import footprint_add
from tests.factories import mosaic_create, photo_create, tile_create

pytestmark = pytest.mark.django_db

FOOTPRINT = [(10.0, 1.0), (11.0, 1.0), (11.0, 0.0), (10.0, 0.0)]  # 1 x 1 degree at the equator


def _tile(mosaic, x: int, lon_min: float, lon_max: float):
    return tile_create(mosaic=mosaic, zoom=9, x=x, y=0, bounds=bbox_polygon(lon_min, 0.0, lon_max, 1.0))


def test_pairs_are_the_tiles_above_iou_0_2_with_the_current_footprint():
    photo = photo_create()
    footprint_add(photo=photo, corners=[(c[0] + 5, c[1]) for c in FOOTPRINT], source=FootprintSource.IMPORTED)
    footprint_add(photo=photo, corners=FOOTPRINT, source=FootprintSource.AUTO_LABEL)  # current; the first is history
    mosaic = mosaic_create()
    same = _tile(mosaic, 1, 10.0, 11.0)  # IoU 1
    half = _tile(mosaic, 2, 10.5, 11.5)  # 0.5 / 1.5 = 0.33
    wide = _tile(mosaic, 3, 10.0, 12.0)  # 1 / 2 = 0.5
    _tile(mosaic, 4, 10.8, 11.8)  # 0.2 / 1.8 = 0.11
    _tile(mosaic, 5, 10.0, 16.0)  # 1 / 6 = 0.17
    _tile(mosaic, 6, 15.0, 16.0)  # only the old footprint's place
    _tile(mosaic, 7, 12.0, 13.0)  # disjoint

    pairs = footprint_tile_pairs()

    assert [(p.photo_id, p.tile_id) for p in pairs] == [(photo.pk, same.pk), (photo.pk, half.pk), (photo.pk, wide.pk)]
    assert [round(p.iou, 2) for p in pairs] == [1.0, 0.33, 0.5]
    assert [p.tile_id for p in footprint_tile_pairs(min_iou=0.4)] == [same.pk, wide.pk]


def test_photos_without_a_footprint_have_no_pairs():
    photo_create()
    _tile(mosaic_create(), 1, 10.0, 11.0)
    assert footprint_tile_pairs() == []


@pytest.mark.parametrize(("source", "confidence", "trains"), [
    (FootprintSource.MANUAL, None, True),  # drawn or reviewed by a person
    (FootprintSource.IMPORTED, None, True),
    (FootprintSource.AUTO_LABEL, 0.5, True),  # accepted at the calibrated threshold
    (FootprintSource.RETRIEVAL, 0.95, True),
    (FootprintSource.RETRIEVAL, RETRIEVAL_TRAINING_MIN_CONFIDENCE, True),
    (FootprintSource.RETRIEVAL, 0.6, False),  # verified, but the model's own answer with a thin margin
    (FootprintSource.RETRIEVAL, None, False),
])
def test_only_footprints_fit_to_teach_become_pairs(source, confidence, trains):
    photo = photo_create()
    footprint_add(photo=photo, corners=FOOTPRINT, source=source, confidence=confidence)
    tile = _tile(mosaic_create(), 1, 10.0, 11.0)
    assert [(p.photo_id, p.tile_id) for p in footprint_tile_pairs()] == ([(photo.pk, tile.pk)] if trains else [])


def test_a_current_low_confidence_retrieval_footprint_trains_nothing_and_the_floor_is_a_parameter():
    """The current footprint is the photo's claim now: a weak retrieval result that replaced an auto-label trains
    nothing (the superseded history is not used instead), and a caller may lower or raise the floor."""
    photo = photo_create()
    footprint_add(photo=photo, corners=FOOTPRINT, source=FootprintSource.AUTO_LABEL, confidence=0.9)
    footprint_add(photo=photo, corners=FOOTPRINT, source=FootprintSource.RETRIEVAL, confidence=0.6)
    _tile(mosaic_create(), 1, 10.0, 11.0)
    assert footprint_tile_pairs() == []
    assert len(footprint_tile_pairs(retrieval_min_confidence=0.5)) == 1
    assert footprint_tile_pairs(retrieval_min_confidence=1.01) == []


def test_nasa_machine_footprints_train_only_when_the_setting_says_so(settings):
    photo = photo_create()
    footprint_add(photo=photo, corners=FOOTPRINT, source=FootprintSource.NASA_ML)  # current: the photo's only one
    tile = _tile(mosaic_create(), 1, 10.0, 11.0)
    assert settings.ASTROLOC_TRAIN_ON_NASA_ML is False
    assert footprint_tile_pairs() == []

    settings.ASTROLOC_TRAIN_ON_NASA_ML = True
    assert [(p.photo_id, p.tile_id) for p in footprint_tile_pairs()] == [(photo.pk, tile.pk)]
