"""Where an ingest reads its pixels: a local GeoTIFF, or a COG by URL read in windows over HTTP.

A source is what the `ingest` job needs from a mosaic: what the raster is (``MosaicInfo``, checked before
anything is written) and, per zoom, the database images cut from it on the XYZ grid. The job body
(``workers/ingest.py``) is the same for every source; tile services are in ``workers/ingest_tiles.py``.
"""

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from rasterio.errors import RasterioError

from apps.core.remote import FetchRefused, policy_from_settings
from apps.core.remote_file import RemoteBlocks, remote_opener
from apps.core.services import JobInputError
from apps.imagery.models import Mosaic
from apps.imagery.services import MosaicInfo, TilingParameters, mosaic_raster_path
from ml.tiling import DatabaseImage, RasterError, cut_database_images, inspect_raster

__all__ = ["IngestInputError", "IngestSource", "cog_source", "file_source"]

logger = logging.getLogger(__name__)


class IngestInputError(JobInputError):
    """The source cannot be ingested; the message names the file or URL, the reason and what to do."""


@dataclass(frozen=True)
class IngestSource:
    """What the ingest job reads: the raster's description and its database images, zoom by zoom."""

    info: MosaicInfo
    area: tuple[float, float, float, float]  # lon/lat extent that is cut (the grid cells counted for progress)
    images: Callable[[int], Iterator[DatabaseImage]]
    label: str
    stats: Callable[[], dict[str, Any]] = dict


def _info(raster) -> MosaicInfo:
    lon_min, lat_min, lon_max, lat_max = raster.bounds_lonlat
    if lon_min >= lon_max or lat_min >= lat_max:
        raise IngestInputError(f"{raster.path}: the raster lies outside the Web Mercator square (|lat| > 85.05).")
    return MosaicInfo(crs=raster.crs, width=raster.width, height=raster.height, band_count=raster.count,
                      bounds_lonlat=raster.bounds_lonlat)


def _intersection(a, b):
    out = (max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3]))
    return out if out[0] < out[2] and out[1] < out[3] else None


def file_source(mosaic: Mosaic, tiling: TilingParameters, parameters: dict[str, Any]) -> IngestSource:
    """A local GeoTIFF / COG: the uploaded copy or the operator's path."""
    path = mosaic_raster_path(mosaic=mosaic)
    if not path.is_file():
        raise IngestInputError(f"{path}: the raster file is missing; register the mosaic again.")
    if path.stat().st_size == 0:
        raise IngestInputError(f"{path}: empty file (0 bytes). Provide a GeoTIFF or COG mosaic.")
    try:
        info = _info(inspect_raster(path))
    except RasterError as exc:
        raise IngestInputError(str(exc)) from exc

    def images(zoom: int) -> Iterator[DatabaseImage]:
        return cut_database_images(path, zooms=[zoom], span=tiling.span, out_size=tiling.stored_size_px,
                                   max_nodata=tiling.max_nodata)

    return IngestSource(info=info, area=info.bounds_lonlat, images=images, label=Path(path).name)


def cog_source(mosaic: Mosaic, tiling: TilingParameters, parameters: dict[str, Any]) -> IngestSource:
    """A COG by URL, read in windows through HTTP range requests under the fetch policy.

    Every byte goes through ``apps.core.remote`` (``apps.core.remote_file``: host rules on every request
    and redirect, timeouts, retries, User-Agent) and the whole ingest may read at most
    ``ASTROLOC_COG_MAX_BYTES`` from the file; ``bbox`` (if given) limits the cut to part of the raster.
    """
    url = mosaic.source_url
    try:
        blocks = RemoteBlocks(url, policy_from_settings(), budget_bytes=settings.ASTROLOC_COG_MAX_BYTES)
    except FetchRefused as exc:
        raise IngestInputError(str(exc)) from exc
    opener = remote_opener(url, blocks)

    def fetch_error(exc: Exception) -> Exception:
        """The fetch's own reason when GDAL's error hides it: refusals are final, failures may pass."""
        if isinstance(blocks.error, FetchRefused):
            return IngestInputError(str(blocks.error))
        if blocks.error is not None:
            return blocks.error
        return IngestInputError(str(exc)) if isinstance(exc, RasterError) else exc

    try:
        info = _info(inspect_raster(url, opener=opener))
    except (RasterError, RasterioError) as exc:
        raise fetch_error(exc) from exc
    bbox = tuple(parameters["bbox"]) if parameters.get("bbox") else None
    area = info.bounds_lonlat if bbox is None else _intersection(info.bounds_lonlat, bbox)
    if area is None:
        raise IngestInputError(f"{url}: the bbox {list(bbox)} does not overlap the raster "
                               f"({[round(v, 5) for v in info.bounds_lonlat]}).")

    def images(zoom: int) -> Iterator[DatabaseImage]:
        try:
            yield from cut_database_images(url, zooms=[zoom], span=tiling.span, out_size=tiling.stored_size_px,
                                           max_nodata=tiling.max_nodata, bounds=area, opener=opener)
        except (RasterError, RasterioError) as exc:
            raise fetch_error(exc) from exc

    return IngestSource(info=info, area=area, images=images, label=url,
                        stats=lambda: {"requests": blocks.requests, "bytes": blocks.bytes_read, "size": blocks.size})
