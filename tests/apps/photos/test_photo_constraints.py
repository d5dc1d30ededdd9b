"""Photo identity: IDs are validated and unique, the same bytes import once."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from apps.photos.models import Photo
from apps.photos.validators import validate_mission_roll_frame
from tests.factories import photo_create

pytestmark = pytest.mark.django_db


def test_duplicate_photo_id_is_rejected_with_a_clear_error():
    photo_create("ISS064-E-513")
    duplicate = Photo(photo_id="ISS064-E-513", checksum="other")
    with pytest.raises(ValidationError) as excinfo:
        duplicate.validate_unique()
    assert excinfo.value.message_dict["photo_id"] == ["Photo with this Photo id already exists."]


def test_duplicate_photo_id_is_impossible_in_the_database():
    photo_create("ISS064-E-513")
    with pytest.raises(IntegrityError, match="photo_id"), transaction.atomic():
        Photo.objects.create(photo_id="ISS064-E-513", checksum="different-bytes", image="x.jpg")
    assert Photo.objects.filter(photo_id="ISS064-E-513").count() == 1


def test_same_checksum_is_impossible_twice():
    first = photo_create("ISS064-E-513")
    with pytest.raises(IntegrityError, match="photo_unique_checksum"), transaction.atomic():
        Photo.objects.create(photo_id="ISS064-E-514", checksum=first.checksum, image="y.jpg")


@pytest.mark.parametrize("good", ["ISS064-E-513", "ISS047-E-55412", "STS088-724-38", "ISS030-E-1"])
def test_valid_mission_roll_frame_ids(good):
    validate_mission_roll_frame(good)


@pytest.mark.parametrize("bad", ["", "ISS064E513", "iss064-e-513", "ISS064-E-", "photo.jpg", "ISS064-E-513x"])
def test_invalid_ids_are_refused_with_an_example(bad):
    with pytest.raises(ValidationError, match="is not a mission-roll-frame photo ID such as ISS064-E-513"):
        validate_mission_roll_frame(bad)
