"""Standard 256-px XYZ basemap tiles rendered from the stored database images (for the web map).

An XYZ tile (z, x, y) is a sub-square of a stored database image: at a stored zoom it is cropped out of
the image that contains it (resampled to 256 px); above the finest stored zoom it is cut out of its
ancestor's image and enlarged with nearest-neighbour (no invented detail). Below the coarsest stored zoom
the overview tiles built by ``apps.imagery.overviews`` answer (RGBA PNG, transparent outside the imagery).
Pixels are never re-warped: database images are linear in Web Mercator, so
crops are exact.
"""

import io
from dataclasses import dataclass
from datetime import datetime

from django.core.files.storage import default_storage
from PIL import Image

from apps.imagery.constants import MAX_ZOOM, XYZ_TILE_PX
from apps.imagery.models import BasemapOverview
from apps.imagery.selectors import tile_containing, tile_zooms

__all__ = ["RenderedTile", "SourceWindow", "xyz_source", "xyz_tile_render"]

_MEDIA_TYPES = {"png": "image/png", "jpg": "image/jpeg"}


@dataclass(frozen=True)
class SourceWindow:
    """Where an XYZ tile's pixels come from: a stored image and a box (left, top, right, bottom) in it."""

    tile_id: int
    image_name: str
    box: tuple[float, float, float, float]
    modified: datetime


@dataclass(frozen=True)
class RenderedTile:
    content: bytes
    media_type: str
    etag: str
    modified: datetime


def xyz_source(*, year: int, z: int, x: int, y: int) -> SourceWindow | None:
    """The stored image and pixel box that serve XYZ tile (z, x, y) of ``year``; None outside coverage."""
    if not 0 <= z <= MAX_ZOOM or not (0 <= x < (1 << z) and 0 <= y < (1 << z)):
        return None
    for source_zoom in tile_zooms(year=year):
        if source_zoom > z:
            continue
        depth = z - source_zoom
        tile = tile_containing(year=year, zoom=source_zoom, x=x >> depth, y=y >> depth)
        if tile is None:
            return None
        px_per_tile = tile.size_px / tile.span
        scale = px_per_tile / (1 << depth)
        left = (x - (tile.x << depth)) * scale
        top = (y - (tile.y << depth)) * scale
        return SourceWindow(tile.pk, tile.image.name, (left, top, left + scale, top + scale), tile.created_at)
    return None


def _empty_png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGBA", (XYZ_TILE_PX, XYZ_TILE_PX), (0, 0, 0, 0)).save(buffer, format="PNG")
    return buffer.getvalue()


def _overview_render(*, year: int, z: int, x: int, y: int, fmt: str) -> RenderedTile | None:
    """The overview tile as stored (PNG, passed through) or flattened on black as JPEG; None if not built.

    A tile next to the imagery (its parent overview exists: a sibling has pixels) that has none of its own is
    answered transparent, as gdal2tiles writes one, so a map asking for the imagery's whole extent gets no 404.
    """
    overview = BasemapOverview.objects.filter(year=year, zoom=z, x=x, y=y).first()
    if overview is not None:
        with default_storage.open(overview.image.name, "rb") as fh:
            content = fh.read()
    else:
        overview = BasemapOverview.objects.filter(year=year, zoom=z - 1, x=x >> 1, y=y >> 1).first() if z else None
        if overview is None:
            return None
        content = _empty_png()
    if fmt == "jpg":
        with Image.open(io.BytesIO(content)) as image:
            flat = Image.new("RGB", image.size)
            flat.paste(image, mask=image.convert("RGBA").getchannel("A"))
        buffer = io.BytesIO()
        flat.save(buffer, format="JPEG", quality=90)
        content = buffer.getvalue()
    etag = f'"o{overview.pk}-{int(overview.created_at.timestamp())}-{z}-{x}-{y}-{fmt}"'
    return RenderedTile(content, _MEDIA_TYPES[fmt], etag, overview.created_at)


def xyz_tile_render(*, year: int, z: int, x: int, y: int, fmt: str) -> RenderedTile | None:
    """Encode XYZ tile (z, x, y) of ``year`` as PNG or JPEG: from the stored images, else from an overview;
    None outside coverage."""
    if fmt not in _MEDIA_TYPES:
        raise ValueError(f"tile format must be png or jpg, got {fmt!r}")
    source = xyz_source(year=year, z=z, x=x, y=y)
    if source is None:
        return _overview_render(year=year, z=z, x=x, y=y, fmt=fmt)
    with default_storage.open(source.image_name, "rb") as fh, Image.open(fh) as image:
        image = image.convert("RGB")
        width = source.box[2] - source.box[0]
        resample = Image.Resampling.NEAREST if width <= XYZ_TILE_PX else Image.Resampling.BOX
        tile = image.resize((XYZ_TILE_PX, XYZ_TILE_PX), resample=resample, box=source.box)
    buffer = io.BytesIO()
    if fmt == "png":
        tile.save(buffer, format="PNG")
    else:
        tile.save(buffer, format="JPEG", quality=90)
    etag = f'"t{source.tile_id}-{int(source.modified.timestamp())}-{z}-{x}-{y}-{fmt}"'
    return RenderedTile(buffer.getvalue(), _MEDIA_TYPES[fmt], etag, source.modified)
