"""A localized photo's georeferenced downloads (GeoTIFF warped or with GCPs, KMZ, KML, world file zip).

Built from the photo's original file and its current footprint by ``apps.footprints.georef``. A footprint
never changes (corrections add rows), so a built GeoTIFF is kept in storage under the footprint's id and
served again until the photo gets another footprint.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image

from apps.core.geo import polygon_corners
from apps.footprints import georef
from apps.footprints.models import Footprint

__all__ = ["GEOREF_FORMATS", "GeorefFile", "PhotoUndecodable", "georeferenced_file"]

#: format -> (kinds, media type). ``tif`` has two kinds: ``warped`` (EPSG:3857, alpha) and ``gcps``.
GEOREF_FORMATS: dict[str, tuple[tuple[str, ...], str]] = {
    "tif": (("warped", "gcps"), "image/tiff; application=geotiff"),
    "kmz": (("overlay",), "application/vnd.google-earth.kmz"),
    "kml": (("overlay",), "application/vnd.google-earth.kml+xml"),
    "zip": (("worldfile",), "application/zip"),
}


@dataclass(frozen=True)
class GeorefFile:
    filename: str
    content_type: str
    content: bytes
    headers: dict[str, str] = field(default_factory=dict)


class PhotoUndecodable(Exception):
    """The photo's original file is not an image Pillow can decode, so nothing can be placed on the map."""


def _photo_image(footprint: Footprint) -> tuple[Image.Image, bytes]:
    with footprint.photo.image.open("rb") as fh:
        original = fh.read()
    try:
        image = Image.open(io.BytesIO(original))
        image.load()
    except (OSError, Image.DecompressionBombError) as exc:
        raise PhotoUndecodable(f"The original file of {footprint.photo.photo_id} cannot be decoded ({exc}).") from exc
    return image, original


def _cached(name: str, build) -> bytes:
    if default_storage.exists(name):
        with default_storage.open(name, "rb") as fh:
            return fh.read()
    content = build()
    if not default_storage.exists(name):
        default_storage.save(name, ContentFile(content))
    return content


def georeferenced_file(*, footprint: Footprint, fmt: str, kind: str | None = None,
                       image_url: str = "") -> GeorefFile:
    """The ``fmt`` (``tif``, ``kmz``, ``kml``, ``zip``) download of ``footprint``'s photo.

    ``kind`` picks the GeoTIFF (``warped``: default, or ``gcps``); ``image_url`` is where a plain KML points
    for the image (the KMZ carries it). Raises ``ValueError`` for an unknown format or kind, and
    :class:`PhotoUndecodable` when the original is not a readable image.
    """
    if fmt not in GEOREF_FORMATS:
        raise ValueError(f"unknown format {fmt!r}; use {', '.join(GEOREF_FORMATS)}.")
    kinds, media_type = GEOREF_FORMATS[fmt]
    kind = kind or kinds[0]
    if kind not in kinds:
        raise ValueError(f"unknown kind {kind!r} for .{fmt}; use {', '.join(kinds)}.")
    photo = footprint.photo
    corners = polygon_corners(footprint.polygon)
    stem = photo.photo_id
    description = f"{photo.photo_id}: footprint #{footprint.pk} ({footprint.source})"
    if fmt == "kml":
        return GeorefFile(f"{stem}.kml", media_type,
                          georef.kml_ground_overlay(name=stem, image_href=image_url, corners=corners,
                                                    description=description).encode())
    if fmt == "tif":
        builder = georef.warped_geotiff if kind == "warped" else georef.gcp_geotiff
        content = _cached(f"georef/{photo.pk}/{footprint.pk}-{photo.checksum[:12]}-{kind}.tif",
                          lambda: builder(_photo_image(footprint)[0], corners))
        return GeorefFile(f"{stem}-{kind}.tif", media_type, content)
    image, original = _photo_image(footprint)
    jpeg = georef.jpeg_bytes(image, original)
    if fmt == "kmz":
        return GeorefFile(f"{stem}.kmz", media_type,
                          georef.kmz(name=stem, jpeg=jpeg, corners=corners, description=description))
    world = georef.world_file_zip(name=stem, jpeg=jpeg, size=image.size, corners=corners)
    return GeorefFile(f"{stem}-worldfile.zip", media_type, world.content,
                      {"X-AstroLoc-Affine-Max-Error-Px": f"{world.max_error_px:.3f}"})
