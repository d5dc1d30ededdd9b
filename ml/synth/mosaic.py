"""GeoTIFF mosaics of the synthetic Earth, written like real satellite products.

The mosaic grid is snapped to the XYZ tiles of the finest zoom so that database images at that zoom are
pixel-aligned crops; files are tiled, DEFLATE-compressed and carry internal overviews, the layout the
ingestion expects from Cloud-Optimised GeoTIFFs. One copy is reprojected to EPSG:4326 so that the
reprojecting path of :mod:`ml.tiling` is exercised too.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rasterio
from affine import Affine
from rasterio.enums import Resampling
from rasterio.warp import calculate_default_transform, reproject

from ml.geo import ORIGIN_SHIFT_M, Bounds, lonlat_to_mercator, tile_size_m

_PROFILE = {
    "driver": "GTiff",
    "dtype": "uint8",
    "count": 3,
    "tiled": True,
    "blockxsize": 256,
    "blockysize": 256,
    "compress": "deflate",
    "predictor": 2,
    "interleave": "pixel",
    "photometric": "rgb",
}
OVERVIEW_FACTORS = (2, 4, 8, 16)


@dataclass(frozen=True)
class MosaicGrid:
    """Pixel grid of the 3857 mosaic: bounds in metres, size, and ground km per pixel at its centre."""

    bounds_m: Bounds
    width: int
    height: int
    km_per_px: float

    @property
    def transform(self) -> Affine:
        min_x, _, _, max_y = self.bounds_m
        res = (self.bounds_m[2] - min_x) / self.width
        return Affine(res, 0.0, min_x, 0.0, -res, max_y)


def mosaic_grid(region: Bounds, zoom: int, px_per_tile: int) -> MosaicGrid:
    """Smallest grid of whole XYZ tiles at ``zoom`` that covers ``region`` (lon/lat)."""
    size = tile_size_m(zoom)
    min_x, min_y = lonlat_to_mercator(region[0], region[1])
    max_x, max_y = lonlat_to_mercator(region[2], region[3])
    tx0 = math.floor((min_x + ORIGIN_SHIFT_M) / size)
    tx1 = math.ceil((max_x + ORIGIN_SHIFT_M) / size)
    ty0 = math.floor((ORIGIN_SHIFT_M - max_y) / size)
    ty1 = math.ceil((ORIGIN_SHIFT_M - min_y) / size)
    bounds = (-ORIGIN_SHIFT_M + tx0 * size, ORIGIN_SHIFT_M - ty1 * size,
              -ORIGIN_SHIFT_M + tx1 * size, ORIGIN_SHIFT_M - ty0 * size)
    centre_lat = (region[1] + region[3]) / 2
    km_per_px = size / px_per_tile / 1000.0 * math.cos(math.radians(centre_lat))
    return MosaicGrid(bounds, (tx1 - tx0) * px_per_tile, (ty1 - ty0) * px_per_tile, km_per_px)


def write_mosaic_3857(path: Path, rgb: np.ndarray, grid: MosaicGrid) -> None:
    """Write an RGB uint8 array as a tiled, compressed EPSG:3857 GeoTIFF with overviews."""
    profile = dict(_PROFILE, width=grid.width, height=grid.height, crs="EPSG:3857", transform=grid.transform)
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(np.moveaxis(rgb, 2, 0))
        dst.build_overviews(list(OVERVIEW_FACTORS), Resampling.average)


def reproject_to_4326(src_path: Path, dst_path: Path) -> None:
    """Copy a mosaic into EPSG:4326 at a matching resolution (exercises reprojection on ingestion)."""
    with rasterio.open(src_path) as src:
        transform, width, height = calculate_default_transform(
            src.crs, "EPSG:4326", src.width, src.height, *src.bounds
        )
        profile = dict(_PROFILE, width=width, height=height, crs="EPSG:4326", transform=transform)
        with rasterio.open(dst_path, "w", **profile) as dst:
            for band in (1, 2, 3):
                reproject(
                    source=rasterio.band(src, band),
                    destination=rasterio.band(dst, band),
                    resampling=Resampling.bilinear,
                )
            dst.build_overviews(list(OVERVIEW_FACTORS), Resampling.average)
