"""Overview tiles: the basemap below a year's coarsest stored zoom, down to zoom 0, as gdal2tiles builds them.

Database images exist only at the ingested zooms (9-11 by default), so without overviews the web map shows
no imagery zoomed out. ``basemap_overviews_build`` makes each XYZ tile one level above the coarsest stored
zoom from its four children (rendered from the stored images), then each level above from the four tiles
of the level below, averaging 2 x 2 pixels (``Image.reduce``, gdal2tiles' "average"), down to zoom 0.

Every ingest path calls it once its tiles are stored (``workers.ingest`` for files; any other source does
the same), and ``manage.py build_overviews`` builds them for mosaics ingested before. Given the ``bounds``
of what changed, it rebuilds only the overview tiles above those bounds; without, the whole year.
"""

import io
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db.models import Min
from PIL import Image

from apps.core.geo import bbox_geometry
from apps.imagery.basemap import xyz_source
from apps.imagery.constants import XYZ_TILE_PX
from apps.imagery.models import BasemapOverview, SatelliteTile

__all__ = ["OverviewResult", "basemap_overviews_build", "overview_name"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class OverviewResult:
    """What a build did: the year, the stored zoom it started from (None: no imagery), tiles per level."""

    year: int
    from_zoom: int | None
    per_zoom: dict[int, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def tile_count(self) -> int:
        return sum(self.per_zoom.values())


def overview_name(year: int, z: int, x: int, y: int) -> str:
    """Deterministic file name: a rebuild replaces the file, never duplicates it."""
    return f"overviews/{year}/{z}/{x}_{y}.png"


def _covered_tiles(year: int, zoom: int, bounds: tuple[float, float, float, float] | None) -> set[tuple[int, int]]:
    """XYZ tiles (x, y) at ``zoom`` covered by the year's stored images (those touching ``bounds`` if given)."""
    images = SatelliteTile.objects.filter(year=year, zoom=zoom)
    if bounds is not None:
        images = images.filter(bounds__intersects=bbox_geometry(bounds))
    covered: set[tuple[int, int]] = set()
    for x, y, span in images.values_list("x", "y", "span"):
        covered.update((tx, ty) for tx in range(x, x + span) for ty in range(y, y + span))
    return covered


class _StoredReader:
    """Renders XYZ tiles at a stored zoom from the database images, keeping the last images open."""

    def __init__(self, year: int, keep: int = 16):
        self.year, self.keep = year, keep
        self.images: dict[str, Image.Image] = {}

    def tile(self, z: int, x: int, y: int) -> Image.Image | None:
        source = xyz_source(year=self.year, z=z, x=x, y=y)
        if source is None:
            return None
        image = self.images.get(source.image_name)
        if image is None:
            if len(self.images) >= self.keep:
                self.images.pop(next(iter(self.images)))
            with default_storage.open(source.image_name, "rb") as fh, Image.open(fh) as opened:
                image = _nodata_transparent(opened.convert("RGBA")).convert("RGBa")
            self.images[source.image_name] = image
        # Premultiplied alpha: averaging imagery with transparent nodata must not darken the imagery's edge.
        return image.resize((XYZ_TILE_PX, XYZ_TILE_PX), resample=Image.Resampling.BOX, box=source.box).convert("RGBA")


#: Stored images hold nodata (outside the raster) as black; lossy JPEG turns it into near-black noise, so
#: "black" means every channel at or below this value (gdal's ``nearblack`` uses 15 the same way).
NEAR_BLACK = 12


def _nodata_transparent(image: Image.Image) -> Image.Image:
    """Near-black is the stored images' nodata: transparent in overviews, so the world layer shows through
    instead of a black frame."""
    rgba = np.asarray(image).copy()
    rgba[..., 3] = np.where(rgba[..., :3].max(axis=2) > NEAR_BLACK, rgba[..., 3], 0)
    return Image.fromarray(rgba, mode="RGBA")


def _overview_tile(year: int, z: int, x: int, y: int) -> Image.Image | None:
    if not default_storage.exists(overview_name(year, z, x, y)):
        return None
    with default_storage.open(overview_name(year, z, x, y), "rb") as fh, Image.open(fh) as opened:
        return opened.convert("RGBA")


def _parent(children: Iterable[tuple[int, int, Image.Image | None]], x: int, y: int) -> Image.Image:
    """The parent tile (x, y): its four children side by side (transparent where missing), halved."""
    canvas = Image.new("RGBa", (2 * XYZ_TILE_PX, 2 * XYZ_TILE_PX), (0, 0, 0, 0))
    for cx, cy, child in children:
        if child is not None:
            canvas.paste(child.convert("RGBa"), ((cx - 2 * x) * XYZ_TILE_PX, (cy - 2 * y) * XYZ_TILE_PX))
    return canvas.reduce(2).convert("RGBA")  # premultiplied, so transparent children do not darken the edge


def _store(year: int, z: int, x: int, y: int, image: Image.Image) -> None:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=6)
    name = overview_name(year, z, x, y)
    if default_storage.exists(name):
        default_storage.delete(name)
    stored = default_storage.save(name, ContentFile(buffer.getvalue()))
    BasemapOverview.objects.update_or_create(year=year, zoom=z, x=x, y=y, defaults={"image": stored})


def basemap_overviews_build(*, year: int, bounds: tuple[float, float, float, float] | None = None) -> OverviewResult:
    """Build (or rebuild) the overview tiles of ``year`` from its coarsest stored zoom down to zoom 0.

    ``bounds`` (west, south, east, north, lon/lat): rebuild only the tiles above this area (what an ingest
    just added); None: the whole year. Idempotent: a tile is rewritten from its children each time.
    """
    started = time.monotonic()
    from_zoom = SatelliteTile.objects.filter(year=year).aggregate(z=Min("zoom"))["z"]
    if from_zoom is None:
        return OverviewResult(year=year, from_zoom=None)
    level = _covered_tiles(year, from_zoom, bounds)
    reader = _StoredReader(year)
    per_zoom: dict[int, int] = {}
    for z in range(from_zoom - 1, -1, -1):
        parents = {(x >> 1, y >> 1) for x, y in level}
        for px, py in sorted(parents):
            kids = [(cx, cy) for cx in (2 * px, 2 * px + 1) for cy in (2 * py, 2 * py + 1)]
            if z == from_zoom - 1:
                children = [(cx, cy, reader.tile(z + 1, cx, cy)) for cx, cy in kids]
            else:
                children = [(cx, cy, _overview_tile(year, z + 1, cx, cy)) for cx, cy in kids]
            _store(year, z, px, py, _parent(children, px, py))
        per_zoom[z] = len(parents)
        level = parents
    result = OverviewResult(year=year, from_zoom=from_zoom, per_zoom=per_zoom,
                            seconds=round(time.monotonic() - started, 3))
    logger.info("overviews of %s from z%s: %d tiles in %.2fs", year, from_zoom, result.tile_count, result.seconds)
    return result
