"""Writes on footprints: adding one makes it current and keeps the previous one as history.

An accepted auto-label or a verified retrieval result also moves its photo to ``localized`` in the same
transaction, so a footprint and the photo status never disagree (``footprint_publish`` for the label and
localize jobs, ``footprint_manual_record`` for a person); a retrieval result only becomes a new footprint when
it differs from the current one.

Review: a person accepting or redrawing a footprint records a new ``manual`` footprint with the reviewer
(``footprint_manual_record``; the photo becomes ``localized``). A rejection (``footprint_reject``) records the
reviewer, time and reason on the rejected row, takes it off the map (no footprint is current) and sends the
photo back to ``needs_review`` with the reason, where a reviewer can draw a new one.
"""

from collections.abc import Sequence

from django.contrib.auth.models import AbstractBaseUser
from django.contrib.gis.geos import Polygon
from django.db import transaction
from django.utils import timezone

from apps.core.geo import polygon_from_corners
from apps.footprints.cache import footprints_changed
from apps.footprints.constants import THIRD_PARTY_SOURCES, FootprintSource
from apps.footprints.models import Footprint
from apps.photos.constants import PhotoStatus
from apps.photos.models import Photo
from apps.photos.status import photo_status_change

__all__ = [
    "FootprintNotCurrentError",
    "footprint_add",
    "footprint_iou",
    "footprint_manual_record",
    "footprint_publish",
    "footprint_reject",
]


def footprint_add(
    *,
    photo: Photo,
    corners: Sequence[Sequence[float]],
    source: str,
    confidence: float | None = None,
    inliers: int | None = None,
    matched_tile_id: int | None = None,
    matched_rotation: int | None = None,
    model_version_id: int | None = None,
    created_by: AbstractBaseUser | None = None,
    job_id: int | None = None,
    note: str = "",
) -> Footprint:
    """Add a footprint (corners in (lon, lat)) as the photo's current one; the old current one stays as history.

    A third party's footprint (``THIRD_PARTY_SOURCES``: NASA's ``nasa_ml``) never displaces ours: it becomes
    current only when the photo has no current footprint of its own, else it is recorded beside it for
    comparison. Any footprint of ours displaces a current third-party one.
    """
    polygon = polygon_from_corners(corners)
    with transaction.atomic():
        Photo.objects.select_for_update().only("pk").get(pk=photo.pk)  # serialise writers per photo
        current = Footprint.objects.filter(photo=photo, is_current=True)
        is_current = source not in THIRD_PARTY_SOURCES or not current.own().exists()
        if is_current:
            current.update(is_current=False)
        transaction.on_commit(footprints_changed)
        return Footprint.objects.create(
            photo=photo,
            polygon=polygon,
            source=source,
            confidence=confidence,
            inliers=inliers,
            matched_tile_id=matched_tile_id,
            matched_rotation=matched_rotation,
            model_version_id=model_version_id,
            created_by=created_by if created_by is not None and created_by.is_authenticated else None,
            job_id=job_id,
            note=note,
            is_current=is_current,
        )


def footprint_manual_record(
    *, photo: Photo, corners: Sequence[Sequence[float]], reviewer: AbstractBaseUser, note: str = ""
) -> Footprint:
    """A person drew or accepted this footprint: the current one, by ``reviewer``, and the photo ``localized``
    (it leaves the review queue; a low-confidence footprint is superseded by one a person vouched for)."""
    with transaction.atomic():
        footprint = footprint_add(photo=photo, corners=corners, source=FootprintSource.MANUAL,
                                  created_by=reviewer, note=note)
        photo_status_change(photo_pk=photo.pk, status=PhotoStatus.LOCALIZED, reason="")
    return footprint


class FootprintNotCurrentError(ValueError):
    """Only the current footprint can be rejected (another reviewer or a job may have replaced it)."""


def footprint_reject(*, footprint: Footprint, reviewer: AbstractBaseUser, note: str = "") -> Footprint:
    """A reviewer says the current footprint is wrong.

    The row keeps its polygon and provenance and gains the rejection (who, when, why); it stops being
    current, so the map and API lists no longer show it, and no older footprint is promoted in its place (a
    reviewer did not vouch for it). The photo goes back to ``needs_review`` with the reason, so it stays in the
    review queue until someone draws a footprint or a new localization finds a different one.
    """
    who = reviewer.get_username() if reviewer is not None and reviewer.is_authenticated else "a reviewer"
    with transaction.atomic():
        Photo.objects.select_for_update().only("pk").get(pk=footprint.photo_id)
        row = Footprint.objects.select_for_update().get(pk=footprint.pk)
        if not row.is_current:
            raise FootprintNotCurrentError(
                f"footprint {row.pk} is not the current footprint of its photo any more; reload and review the "
                f"current one.")
        row.is_current = False
        row.rejected_at = timezone.now()
        row.rejected_by = reviewer if reviewer is not None and reviewer.is_authenticated else None
        row.rejection_note = note[:2000]
        row.save(update_fields=["is_current", "rejected_at", "rejected_by", "rejection_note"])
        transaction.on_commit(footprints_changed)
        reason = f"Footprint {row.pk} ({row.get_source_display()}) rejected by {who}" + (f": {note}" if note else ".")
        photo_status_change(photo_pk=row.photo_id, status=PhotoStatus.NEEDS_REVIEW, reason=reason)
    return row


def footprint_iou(a: Polygon, b: Polygon) -> float:
    """Intersection over union of two footprints (planar in lon/lat: enough to tell "the same" apart)."""
    union = a.union(b).area
    return 0.0 if union <= 0 else float(a.intersection(b).area / union)


def footprint_publish(
    *,
    photo: Photo,
    corners: Sequence[Sequence[float]],
    source: str,
    confidence: float,
    inliers: int,
    matched_tile_id: int | None,
    matched_rotation: int | None,
    job_id: int | None,
    model_version_id: int | None = None,
    note: str = "",
    same_iou: float | None = None,
) -> tuple[Footprint, bool]:
    """Publish a verified automated footprint (``auto_label`` or ``retrieval``): the photo's current footprint,
    and the photo ``localized``, in one transaction.

    With ``same_iou``, a footprint that matches our current one (IoU >= ``same_iou``) is not added again (the
    current one stays: re-running localization is idempotent). A current third-party footprint
    (``nasa_ml``) is never taken as ours: the result is added beside it. Returns (footprint, created).
    """
    polygon = polygon_from_corners(corners)
    with transaction.atomic():
        Photo.objects.select_for_update().only("pk").get(pk=photo.pk)
        current = Footprint.objects.filter(photo=photo, is_current=True).own().first()
        created = current is None or same_iou is None or footprint_iou(current.polygon, polygon) < same_iou
        footprint = current
        if created:
            footprint = footprint_add(
                photo=photo, corners=corners, source=source, confidence=confidence, inliers=inliers,
                matched_tile_id=matched_tile_id, matched_rotation=matched_rotation,
                model_version_id=model_version_id, job_id=job_id, note=note,
            )
        photo_status_change(photo_pk=photo.pk, status=PhotoStatus.LOCALIZED, reason="")
    return footprint, created
