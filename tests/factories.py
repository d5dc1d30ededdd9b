"""Small factories for rows the tests need; real files go through Django storage."""

import hashlib
import itertools
from typing import Any

from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile

from apps.core.geo import lonlat_point
from apps.photos.models import Photo

_counter = itertools.count(1)


def user_create(username: str | None = None, **fields: Any):
    username = username or f"user{next(_counter)}"
    return get_user_model().objects.create_user(username=username, password="pw-for-tests-1", **fields)


def photo_create(photo_id: str | None = None, **fields: Any) -> Photo:
    """A saved Photo with a tiny original file and plausible metadata."""
    n = next(_counter)
    photo_id = photo_id or f"ISS064-E-{1000 + n}"
    content = f"fake image bytes {photo_id} {n}".encode()
    photo = Photo(
        photo_id=photo_id,
        mission=photo_id.split("-")[0],
        checksum=fields.pop("checksum", hashlib.sha256(content).hexdigest()),
        nadir_point=fields.pop("nadir_point", lonlat_point(43.3, -11.3)),
        center_point=fields.pop("center_point", lonlat_point(40.4, -10.3)),
        focal_length_mm=fields.pop("focal_length_mm", 140.0),
        **fields,
    )
    photo.image.save(f"{photo_id}.jpg", ContentFile(content), save=False)
    photo.full_clean()
    photo.save()
    return photo


def mosaic_create(**fields: Any):
    from apps.imagery.models import Mosaic

    return Mosaic.objects.create(name=fields.pop("name", f"mosaic{next(_counter)}"), year=fields.pop("year", 2020),
                                 **fields)


def tile_create(*, mosaic, zoom: int, x: int, y: int, span: int = 4, bounds=None):
    """A SatelliteTile row with its image path (no file needed for database-only tests)."""
    from apps.core.geo import bbox_polygon
    from apps.imagery.models import SatelliteTile

    return SatelliteTile.objects.create(
        zoom=zoom, x=x, y=y, span=span, year=mosaic.year, mosaic=mosaic,
        bounds=bounds or bbox_polygon(x, y, x + 1, y + 1), image=f"tiles/{zoom}_{x}_{y}.png", size_px=64,
    )


def footprint_create(photo, *, center: tuple[float, float] = (40.4, -10.3), half: float = 0.2, **fields: Any):
    """A current footprint: a square of ``half`` degrees around ``center`` (lon, lat)."""
    from apps.footprints.constants import FootprintSource
    from apps.footprints.services import footprint_add

    lon, lat = center
    corners = [(lon - half, lat + half), (lon + half, lat + half), (lon + half, lat - half), (lon - half, lat - half)]
    return footprint_add(photo=photo, corners=corners, source=fields.pop("source", FootprintSource.RETRIEVAL),
                         **fields)
