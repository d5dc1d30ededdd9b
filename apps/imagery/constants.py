"""Choices and defaults of the satellite database (docs/design.md s. 2)."""

from django.db import models

__all__ = [
    "DEFAULT_MAX_NODATA",
    "DEFAULT_SPAN",
    "DEFAULT_ZOOMS",
    "MAX_ZOOM",
    "XYZ_TILE_PX",
    "MosaicSource",
    "MosaicStatus",
    "TileFormat",
]

DEFAULT_ZOOMS = (9, 10, 11)
DEFAULT_SPAN = 4  # a database image is span x span standard 256-px XYZ tiles (EarthLoc: 4 x 4)
DEFAULT_MAX_NODATA = 0.5  # database images with a larger fraction outside the raster / on nodata are skipped
MAX_ZOOM = 22
XYZ_TILE_PX = 256  # side of a standard XYZ tile, as served by the basemap endpoint


class MosaicStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    INGESTING = "ingesting", "Ingesting"
    INGESTED = "ingested", "Ingested"
    FAILED = "failed", "Failed"


class MosaicSource(models.TextChoices):
    """Where a mosaic's pixels are read from: a local GeoTIFF, a tile service (XYZ/TMS/WMTS), a remote COG."""

    FILE = "file", "GeoTIFF file"
    TILES = "tiles", "Tile service (XYZ, TMS, WMTS)"
    COG = "cog", "Cloud-optimized GeoTIFF by URL"


class TileFormat(models.TextChoices):
    """File format of stored database images: JPEG (compact, lossy) or PNG (lossless)."""

    JPG = "jpg", "JPEG (quality 90)"
    PNG = "png", "PNG (lossless)"
