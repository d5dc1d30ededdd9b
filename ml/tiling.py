"""Cut database images on the XYZ grid out of a GeoTIFF in any CRS.

The satellite database (docs/design.md s. 2) is a grid of span x span XYZ-tile mosaics at a few zooms. Sources
are GeoTIFF / COG mosaics in whatever CRS their producer chose, so each zoom is read through a GDAL warped
VRT in EPSG:3857 aligned on that zoom's tile grid, one window per database image: the raster is never held
in memory whole, and a source overview is used when the target is much coarser than the source.

Used by the Django ingestion (from a Celery task) and by the ML side to cut training tiles to disk; both
only need the records this module yields, storage is the caller's business.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rasterio
from affine import Affine
from rasterio.crs import CRS
from rasterio.enums import Resampling
from rasterio.errors import RasterioError
from rasterio.vrt import WarpedVRT
from rasterio.warp import calculate_default_transform, transform_bounds
from rasterio.windows import Window

from ml.geo import (
    MAX_MERCATOR_LAT,
    ORIGIN_SHIFT_M,
    TILE_PX,
    Bounds,
    GridCell,
    grid_cells,
    tile_size_m,
)

__all__ = [
    "DEFAULT_ZOOMS",
    "DatabaseImage",
    "RasterError",
    "RasterInfo",
    "cut_database_images",
    "inspect_raster",
    "open_raster",
]

DEFAULT_ZOOMS: tuple[int, ...] = (9, 10, 11)
DEFAULT_SPAN = 4
#: A side longer than this is refused: no honest mosaic is that large, a crafted header can claim anything.
MAX_SIDE_PX = 2_000_000
MAX_PIXELS = 1 << 40
_TIFF_MAGIC = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")
_WEB_MERCATOR = CRS.from_epsg(3857)


class RasterError(ValueError):
    """The file cannot serve as a satellite mosaic; the message says which file, why and what to do."""


@dataclass(frozen=True)
class RasterInfo:
    """What the ingestion needs to know about a mosaic before cutting it."""

    path: Path | str
    crs: str
    width: int
    height: int
    count: int
    bounds_lonlat: Bounds
    overviews: tuple[int, ...]


@dataclass(frozen=True)
class DatabaseImage:
    """One database image: a span x span block of XYZ tiles at ``zoom`` starting at (x, y)."""

    zoom: int
    x: int
    y: int
    span: int
    bounds: Bounds  # lon_min, lat_min, lon_max, lat_max
    image: np.ndarray  # (out_size, out_size, 3) uint8 RGB
    nodata_fraction: float

    @property
    def cell(self) -> GridCell:
        return GridCell(self.zoom, self.x, self.y, self.span)


def open_raster(path: str | Path, *, opener: Callable | None = None, **open_options) -> rasterio.DatasetReader:
    """Open ``path`` as a GeoTIFF only, after checking it can be a mosaic; raises :class:`RasterError`.

    Only the GTiff driver is allowed: a VRT (XML) renamed to .tif could otherwise make GDAL read any
    file on the server. The magic bytes are checked before GDAL sees the file at all. ``opener`` (a URL's
    file opener, for rasterio) reads a remote raster through the caller's own bounded fetch; ``path`` is
    then that URL, passed on untouched.
    """
    if opener is None:
        path = Path(path)
    try:
        with (Path(path).open("rb") if opener is None else opener(path, "rb")) as fh:
            magic = fh.read(4)
    except OSError as exc:
        raise RasterError(f"{path}: cannot be read ({exc.strerror or exc}).") from exc
    if magic not in _TIFF_MAGIC:
        raise RasterError(f"{path}: not a GeoTIFF (no TIFF signature). Provide a GeoTIFF or COG mosaic.")
    try:
        ds = rasterio.open(path, driver="GTiff", opener=opener, **open_options)
    except RasterioError as exc:
        raise RasterError(f"{path}: GDAL cannot open it as a GeoTIFF ({exc}).") from exc
    try:
        _validate(ds, path)
    except RasterError:
        ds.close()
        raise
    return ds


def _validate(ds: rasterio.DatasetReader, path: Path) -> None:
    if ds.width <= 0 or ds.height <= 0:
        raise RasterError(f"{path}: zero-size raster ({ds.width} x {ds.height}).")
    if ds.width > MAX_SIDE_PX or ds.height > MAX_SIDE_PX or ds.width * ds.height > MAX_PIXELS:
        raise RasterError(
            f"{path}: absurd dimensions {ds.width} x {ds.height}; split the mosaic into smaller GeoTIFFs."
        )
    if ds.crs is None:
        raise RasterError(f"{path}: no CRS. Assign one (gdal_edit.py -a_srs EPSG:...) and retry.")
    if ds.transform == Affine.identity():
        raise RasterError(f"{path}: no georeferencing (identity geotransform).")
    if ds.count not in (1, 3, 4):
        raise RasterError(f"{path}: {ds.count} bands; expected 1 (grey), 3 (RGB) or 4 (RGBA).")
    if any(dt != "uint8" for dt in ds.dtypes):
        raise RasterError(
            f"{path}: data type {ds.dtypes[0]}; expected 8-bit. "
            "Convert with gdal_translate -ot Byte -scale <min> <max> 0 255."
        )


def inspect_raster(path: str | Path, *, opener: Callable | None = None) -> RasterInfo:
    """Validate a mosaic and describe it (CRS, size, lon/lat bounds, overviews)."""
    with open_raster(path, opener=opener) as ds:
        return RasterInfo(
            path=Path(path) if opener is None else path,
            crs=ds.crs.to_string(),
            width=ds.width,
            height=ds.height,
            count=ds.count,
            bounds_lonlat=_lonlat_bounds(ds),
            overviews=tuple(ds.overviews(1)),
        )


def _lonlat_bounds(ds: rasterio.DatasetReader) -> Bounds:
    lon_min, lat_min, lon_max, lat_max = transform_bounds(ds.crs, "EPSG:4326", *ds.bounds, densify_pts=21)
    return (
        max(lon_min, -180.0),
        max(lat_min, -MAX_MERCATOR_LAT),
        min(lon_max, 180.0),
        min(lat_max, MAX_MERCATOR_LAT),
    )


def _intersect(a: Bounds, b: Bounds) -> Bounds | None:
    out = (max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3]))
    return out if out[0] < out[2] and out[1] < out[3] else None


def cut_database_images(
    path: str | Path,
    *,
    zooms: Sequence[int] = DEFAULT_ZOOMS,
    span: int = DEFAULT_SPAN,
    out_size: int | None = None,
    max_nodata: float = 0.5,
    bounds: Bounds | None = None,
    resampling: Resampling = Resampling.bilinear,
    opener: Callable | None = None,
) -> Iterator[DatabaseImage]:
    """Yield the database images of ``path`` on the XYZ grid, zoom by zoom, row by row.

    ``out_size`` is the side of each image in pixels (default span * 256, the native XYZ resolution); it
    must be a multiple of ``span`` so that images land on whole pixels of the zoom's grid. Images with more
    than ``max_nodata`` of their area outside the raster (or on its nodata) are skipped. ``bounds``
    (lon/lat) restricts the cut to part of the raster. ``opener``: as for :func:`open_raster`.
    """
    out_size = span * TILE_PX if out_size is None else out_size
    if out_size <= 0 or out_size % span:
        raise ValueError(f"out_size ({out_size}) must be a positive multiple of span ({span}).")
    if not 0.0 <= max_nodata <= 1.0:
        raise ValueError(f"max_nodata must be within [0, 1], got {max_nodata}.")
    px_per_tile = out_size // span
    with open_raster(path, opener=opener) as src:
        area = _lonlat_bounds(src)
        if bounds is not None:
            area = _intersect(area, bounds)
            if area is None:
                return
        native_res = _native_mercator_resolution(src)
        overview_factors = list(src.overviews(1))
    for zoom in zooms:
        cells = grid_cells(area, zoom, span)
        if not cells:
            continue
        target_res = tile_size_m(zoom) / px_per_tile
        level = _overview_level(overview_factors, native_res, target_res)
        options = {} if level is None else {"overview_level": level}
        with open_raster(path, opener=opener, **options) as src:
            yield from _cut_zoom(src, cells, zoom, span, px_per_tile, max_nodata, resampling)


def _native_mercator_resolution(src: rasterio.DatasetReader) -> float:
    """Source pixel size expressed in EPSG:3857 metres (the finest of x and y)."""
    transform, _, _ = calculate_default_transform(
        src.crs, _WEB_MERCATOR, src.width, src.height, *src.bounds
    )
    return min(abs(transform.a), abs(transform.e))


def _overview_level(factors: list[int], native_res: float, target_res: float) -> int | None:
    """Coarsest overview still at least as fine as the target (index for GDAL's OVERVIEW_LEVEL)."""
    best = None
    for i, factor in enumerate(factors):
        if native_res * factor <= target_res:
            best = i
    return best


def _cut_zoom(
    src: rasterio.DatasetReader,
    cells: list[GridCell],
    zoom: int,
    span: int,
    px_per_tile: int,
    max_nodata: float,
    resampling: Resampling,
) -> Iterator[DatabaseImage]:
    x0 = min(c.x for c in cells)
    y0 = min(c.y for c in cells)
    x1 = max(c.x for c in cells) + span
    y1 = max(c.y for c in cells) + span
    res = tile_size_m(zoom) / px_per_tile
    transform = Affine(res, 0.0, -ORIGIN_SHIFT_M + x0 * tile_size_m(zoom),
                       0.0, -res, ORIGIN_SHIFT_M - y0 * tile_size_m(zoom))
    has_mask = src.nodata is not None or src.count in (2, 4)
    vrt_options = {
        "crs": _WEB_MERCATOR,
        "transform": transform,
        "width": (x1 - x0) * px_per_tile,
        "height": (y1 - y0) * px_per_tile,
        "resampling": resampling,
        "add_alpha": not has_mask,
    }
    out_size = span * px_per_tile
    with WarpedVRT(src, **vrt_options) as vrt:
        bands = (1, 1, 1) if src.count == 1 else (1, 2, 3)
        for cell in cells:
            window = Window((cell.x - x0) * px_per_tile, (cell.y - y0) * px_per_tile, out_size, out_size)
            mask = vrt.dataset_mask(window=window)
            nodata_fraction = float(np.count_nonzero(mask == 0)) / mask.size
            if nodata_fraction > max_nodata or math.isclose(nodata_fraction, 1.0):
                continue
            data = vrt.read(indexes=list(dict.fromkeys(bands)), window=window)
            rgb = np.repeat(data, 3, axis=0) if src.count == 1 else data
            yield DatabaseImage(
                zoom=cell.zoom,
                x=cell.x,
                y=cell.y,
                span=span,
                bounds=cell.bounds_lonlat,
                image=np.ascontiguousarray(rgb.transpose(1, 2, 0)),
                nodata_fraction=nodata_fraction,
            )
