"""Writes on footprints: adding one makes it current and keeps the previous one as history.

An accepted auto-label also moves its photo to ``localized`` in the same transaction, so a footprint and
the photo status never disagree (``footprint_auto_label``).
"""

from collections.abc import Sequence

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from apps.core.geo import polygon_from_corners
from apps.footprints.constants import FootprintSource
from apps.footprints.models import Footprint
from apps.photos.constants import PhotoStatus
from apps.photos.models import Photo

__all__ = ["footprint_add", "footprint_auto_label"]


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
    """Add a footprint (corners in (lon, lat)) as the photo's current one; the old current one stays."""
    polygon = polygon_from_corners(corners)
    with transaction.atomic():
        Photo.objects.select_for_update().only("pk").get(pk=photo.pk)  # serialise writers per photo
        Footprint.objects.filter(photo=photo, is_current=True).update(is_current=False)
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
            is_current=True,
        )


def footprint_auto_label(
    *,
    photo: Photo,
    corners: Sequence[Sequence[float]],
    confidence: float,
    inliers: int,
    matched_tile_id: int | None,
    matched_rotation: int | None,
    job_id: int | None,
    note: str = "",
) -> Footprint:
    """Record an accepted automated label: the photo's current footprint, and the photo ``localized``."""
    with transaction.atomic():
        footprint = footprint_add(photo=photo, corners=corners, source=FootprintSource.AUTO_LABEL,
                                  confidence=confidence, inliers=inliers, matched_tile_id=matched_tile_id,
                                  matched_rotation=matched_rotation, job_id=job_id, note=note)
        Photo.objects.filter(pk=photo.pk).update(status=PhotoStatus.LOCALIZED, status_reason="")
    return footprint
