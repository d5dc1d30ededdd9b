"""Training-pair export: a photo's current footprint and a tile pair up when their IoU exceeds 0.2."""

import pytest

from apps.core.geo import bbox_polygon
from apps.footprints.constants import FootprintSource
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
