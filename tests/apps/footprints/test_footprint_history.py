"""Footprints: exactly one current per photo; corrections add rows and keep history."""

import pytest
from django.db import IntegrityError, transaction

from apps.core.geo import polygon_corners, polygon_from_corners
from apps.footprints.constants import FootprintSource
from apps.footprints.models import Footprint
from apps.footprints.services import footprint_add
from tests.factories import photo_create

pytestmark = pytest.mark.django_db

SQUARE = [(40.0, -10.0), (41.0, -10.0), (41.0, -11.0), (40.0, -11.0)]
SHIFTED = [(40.2, -10.1), (41.2, -10.1), (41.2, -11.1), (40.2, -11.1)]


def test_a_second_current_footprint_is_impossible():
    photo = photo_create()
    Footprint.objects.create(photo=photo, polygon=polygon_from_corners(SQUARE), source=FootprintSource.IMPORTED)
    with pytest.raises(IntegrityError, match="footprint_one_current_per_photo"), transaction.atomic():
        Footprint.objects.create(photo=photo, polygon=polygon_from_corners(SHIFTED), source=FootprintSource.MANUAL)
    assert Footprint.objects.filter(photo=photo).count() == 1


def test_adding_a_footprint_keeps_the_previous_one_as_history():
    photo = photo_create()
    first = footprint_add(photo=photo, corners=SQUARE, source=FootprintSource.IMPORTED)
    second = footprint_add(photo=photo, corners=SHIFTED, source=FootprintSource.MANUAL, note="reviewer fix")

    first.refresh_from_db()
    assert not first.is_current and second.is_current
    assert list(Footprint.objects.filter(photo=photo).current()) == [second]
    assert polygon_corners(first.polygon) == SQUARE  # never overwritten
    assert polygon_corners(second.polygon) == SHIFTED


def test_invalid_polygon_is_refused_with_the_reason():
    photo = photo_create()
    bowtie = [(40.0, -10.0), (41.0, -11.0), (41.0, -10.0), (40.0, -11.0)]
    with pytest.raises(ValueError, match="Self-intersection"):
        footprint_add(photo=photo, corners=bowtie, source=FootprintSource.MANUAL)
    assert not Footprint.objects.filter(photo=photo).exists()


def test_coordinates_out_of_range_name_the_bad_value():
    with pytest.raises(ValueError, match=r"latitude 95\.0 is outside"):
        polygon_from_corners([(40.0, 95.0), (41.0, -10.0), (41.0, -11.0)])
