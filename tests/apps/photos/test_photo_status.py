"""The photo status state machine: every status has a row, the services follow it, an illegal move raises."""

import pytest
from django.contrib.auth import get_user_model

from apps.footprints.constants import FootprintSource
from apps.footprints.services import footprint_publish, footprint_reject
from apps.photos.constants import PhotoStatus
from apps.photos.services import photo_mark_in_progress, photo_mark_unresolved, photo_status_restore
from apps.photos.status import PHOTO_TRANSITIONS, PhotoStatusError, photo_status_change
from tests.factories import photo_create

pytestmark = pytest.mark.django_db

SQUARE = [(10.0, 45.2), (10.2, 45.2), (10.2, 45.0), (10.0, 45.0)]


def _status(photo) -> str:
    photo.refresh_from_db()
    return photo.status


def test_every_status_has_a_row_of_known_statuses():
    assert set(PHOTO_TRANSITIONS) == set(PhotoStatus.values)
    assert all(set(targets) <= set(PhotoStatus.values) for targets in PHOTO_TRANSITIONS.values())


def test_an_illegal_transition_raises_and_changes_nothing():
    photo = photo_create()
    photo_mark_unresolved(photo=photo, reason="too few inliers")

    illegal = r"cannot go from 'needs_review' to 'imported'; .* may go to \[.*'localizing'"
    with pytest.raises(PhotoStatusError, match=illegal):
        photo_status_change(photo_pk=photo.pk, status=PhotoStatus.IMPORTED, reason="")
    with pytest.raises(PhotoStatusError, match="'bogus'"):
        photo_status_change(photo_pk=photo.pk, status="bogus")

    photo.refresh_from_db()
    assert photo.status == PhotoStatus.NEEDS_REVIEW and photo.status_reason == "too few inliers"


def test_the_services_walk_the_table_from_import_to_review_and_back():
    photo = photo_create()
    reviewer = get_user_model().objects.create_user("status-reviewer")

    previous = photo_mark_in_progress(photo=photo, status=PhotoStatus.LOCALIZING)
    photo_status_restore(photo=photo, status=previous)  # aborted work: back to where it was
    assert previous == PhotoStatus.IMPORTED and _status(photo) == PhotoStatus.IMPORTED

    photo_mark_in_progress(photo=photo, status=PhotoStatus.LOCALIZING)
    footprint, _ = footprint_publish(photo=photo, corners=SQUARE, source=FootprintSource.RETRIEVAL, confidence=0.9,
                                     inliers=40, matched_tile_id=None, matched_rotation=0, job_id=None)
    photo_status_restore(photo=photo, status=PhotoStatus.IMPORTED)  # nothing in progress any more: no-op
    assert _status(photo) == PhotoStatus.LOCALIZED

    footprint_reject(footprint=footprint, reviewer=reviewer, note="wrong coast")
    assert _status(photo) == PhotoStatus.NEEDS_REVIEW and "wrong coast" in photo.status_reason
    with pytest.raises(PhotoStatusError):
        photo_status_change(photo_pk=photo.pk, status=PhotoStatus.IMPORTED)
