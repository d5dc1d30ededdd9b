"""Review decisions: accept/redraw record a manual footprint with the reviewer; reject records the rejection."""

import pytest
from django.db import IntegrityError, transaction

from apps.core.geo import polygon_corners
from apps.footprints.constants import FootprintSource
from apps.footprints.models import Footprint
from apps.footprints.services import (
    FootprintNotCurrentError,
    footprint_add,
    footprint_manual_record,
    footprint_reject,
)
from apps.photos.constants import PhotoStatus
from apps.photos.selectors import photos_to_label
from apps.web.selectors import review_queue
from tests.factories import footprint_create, photo_create, user_create

pytestmark = pytest.mark.django_db

SQUARE = [(40.0, -10.0), (41.0, -10.0), (41.0, -11.0), (40.0, -11.0)]


def test_reject_takes_the_footprint_off_the_map_keeps_it_and_sends_the_photo_back_to_review():
    reviewer = user_create("rita", is_staff=True)
    photo = photo_create(status=PhotoStatus.LOCALIZED)
    older = footprint_add(photo=photo, corners=SQUARE, source=FootprintSource.IMPORTED)
    bad = footprint_create(photo, center=(50.0, 5.0), confidence=0.3, source=FootprintSource.RETRIEVAL)
    assert list(review_queue(user=reviewer)) == [photo]  # low confidence: listed before the decision

    rejected = footprint_reject(footprint=bad, reviewer=reviewer, note="this is the Red Sea, not the Nile")

    bad.refresh_from_db()
    older.refresh_from_db()
    photo.refresh_from_db()
    assert rejected.pk == bad.pk and not bad.is_current
    assert bad.rejected_by == reviewer and bad.rejected_at is not None
    assert bad.rejection_note == "this is the Red Sea, not the Nile"
    assert bad.source == FootprintSource.RETRIEVAL and bad.confidence == 0.3  # provenance untouched
    assert not older.is_current  # nobody vouched for the older one: it is not promoted
    assert not Footprint.objects.filter(photo=photo, is_current=True).exists()
    assert photo.status == PhotoStatus.NEEDS_REVIEW
    assert f"Footprint {bad.pk}" in photo.status_reason and "rita" in photo.status_reason
    assert "Red Sea" in photo.status_reason
    assert list(review_queue(user=reviewer)) == [photo]


def test_only_the_current_footprint_can_be_rejected_and_nothing_changes_otherwise():
    reviewer = user_create(is_staff=True)
    photo = photo_create()
    first = footprint_add(photo=photo, corners=SQUARE, source=FootprintSource.IMPORTED)
    footprint_create(photo, center=(40.6, -10.6))

    with pytest.raises(FootprintNotCurrentError, match=f"footprint {first.pk} is not the current"):
        footprint_reject(footprint=first, reviewer=reviewer)

    first.refresh_from_db()
    assert first.rejected_at is None and first.rejected_by is None
    assert Footprint.objects.filter(photo=photo, is_current=True).count() == 1


def test_a_rejected_footprint_can_never_be_current():
    photo = photo_create()
    bad = footprint_create(photo)
    footprint_reject(footprint=bad, reviewer=user_create())
    with pytest.raises(IntegrityError, match="footprint_rejected_is_not_current"), transaction.atomic():
        Footprint.objects.filter(pk=bad.pk).update(is_current=True)


def test_a_manual_footprint_after_a_rejection_resolves_the_review():
    reviewer = user_create("rex")
    photo = photo_create()
    footprint_reject(footprint=footprint_create(photo, confidence=0.1), reviewer=reviewer)

    drawn = footprint_manual_record(photo=photo, corners=SQUARE, reviewer=reviewer, note="edited: redrawn")

    photo.refresh_from_db()
    assert drawn.is_current and drawn.source == FootprintSource.MANUAL and drawn.created_by == reviewer
    assert polygon_corners(drawn.polygon) == SQUARE
    assert photo.status == PhotoStatus.LOCALIZED and photo.status_reason == ""
    assert Footprint.objects.filter(photo=photo).count() == 2
    assert list(review_queue(user=reviewer)) == []


def test_a_labeling_sweep_leaves_a_rejected_photo_to_review_but_an_explicit_request_relabels_it():
    reviewer = user_create(is_staff=True)
    rejected_photo, fresh_photo = photo_create(), photo_create()
    bad = footprint_create(rejected_photo, center=(40.4, -10.3), source=FootprintSource.AUTO_LABEL)
    footprint_reject(footprint=bad, reviewer=reviewer, note="wrong river")

    assert list(photos_to_label()) == [fresh_photo]  # the sweep would recreate the rejected polygon
    assert list(photos_to_label(photo_ids=[rejected_photo.pk])) == [rejected_photo]
