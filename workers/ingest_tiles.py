"""Ingest source for tile services (XYZ, TMS, WMTS REST): database images assembled from fetched tiles.

A database image at zoom z is span x span XYZ tiles of zoom z, so a tile service at the same zoom gives
its pixels directly: the tiles are fetched (``apps.imagery.tile_fetch``: concurrency, rate limit, retries,
on-disk cache, the fetch policy), decoded and pasted side by side, with no resampling when the stored
size is the native span x 256 px (a smaller ``size_px`` is a box-filter reduction). Only tiles that
intersect the bbox are fetched; the rest of a cell, tiles the service does not have (404, empty) and
transparent pixels are nodata (black), counted against ``max_nodata`` exactly as the file ingest counts
pixels outside the raster.
"""

import io
import math
from collections.abc import Iterator
from typing import Any

import numpy as np
from django.conf import settings
from PIL import Image, UnidentifiedImageError

from apps.core.remote import FetchRefused, policy_from_settings
from apps.imagery.models import Mosaic
from apps.imagery.services import MosaicInfo, TilingParameters
from apps.imagery.tile_fetch import TileFetcher
from apps.imagery.tile_templates import TileTemplate
from ml.geo import ORIGIN_SHIFT_M, TILE_PX, GridCell, grid_cells, lonlat_to_mercator, tile_size_m
from ml.tiling import DatabaseImage
from workers.ingest_sources import IngestInputError, IngestSource

__all__ = ["tile_service_source"]

#: Database images whose tiles are fetched together (concurrently); neighbours share tiles via the cache.
CELLS_PER_BATCH = 32
#: A served tile larger than this (a side in px) is refused before decoding.
MAX_TILE_SIDE_PX = 4096
#: Bytes of one tile: far above any real tile, far below the general fetch limit.
MAX_TILE_BYTES = 16 * 1024 * 1024


def _tile_range(bbox: tuple[float, float, float, float], zoom: int) -> tuple[int, int, int, int]:
    """XYZ tiles (x0, y0, x1, y1), end exclusive, that intersect ``bbox`` with positive area."""
    min_x, min_y = lonlat_to_mercator(bbox[0], bbox[1])
    max_x, max_y = lonlat_to_mercator(bbox[2], bbox[3])
    size, n = tile_size_m(zoom), 1 << zoom
    eps = 1e-9  # a bbox on tile edges (float noise) takes no sliver of the neighbours
    x0 = max(math.floor((min_x + ORIGIN_SHIFT_M) / size + eps), 0)
    x1 = min(math.ceil((max_x + ORIGIN_SHIFT_M) / size - eps), n)
    y0 = max(math.floor((ORIGIN_SHIFT_M - max_y) / size + eps), 0)
    y1 = min(math.ceil((ORIGIN_SHIFT_M - min_y) / size - eps), n)
    return x0, y0, x1, y1


def _decode(content: bytes, px: int, where: str) -> tuple[np.ndarray, np.ndarray]:
    """(px, px, 3) RGB and (px, px) validity of one served tile; transparent pixels are invalid and black."""
    try:
        with Image.open(io.BytesIO(content)) as image:
            if max(image.size) > MAX_TILE_SIDE_PX or image.size[0] != image.size[1]:
                raise IngestInputError(f"{where}: a {image.size[0]} x {image.size[1]} px tile; tiles must be "
                                       f"square and at most {MAX_TILE_SIDE_PX} px.")
            has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
            image = image.convert("RGBA" if has_alpha else "RGB")
            if image.size != (px, px):
                image = image.resize((px, px), Image.Resampling.BOX)
            pixels = np.asarray(image)
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise IngestInputError(f"{where}: the service did not return an image ({exc}).") from exc
    if not has_alpha:
        return pixels, np.ones((px, px), dtype=bool)
    valid = pixels[..., 3] > 0
    rgb = np.where(valid[..., None], pixels[..., :3], 0).astype(np.uint8)
    return rgb, valid


def _assemble(cell: GridCell, tiles: dict, in_bbox, px: int, template: TileTemplate) -> tuple[np.ndarray, float]:
    """One database image from its tiles and its nodata fraction."""
    side = cell.span * px
    rgb = np.zeros((side, side, 3), dtype=np.uint8)
    valid = np.zeros((side, side), dtype=bool)
    for row in range(cell.span):
        for col in range(cell.span):
            key = (cell.zoom, cell.x + col, cell.y + row)
            content = tiles.get(key) if in_bbox(key) else None
            if content is None:
                continue
            tile_rgb, tile_valid = _decode(content, px, template.url(*key))
            rgb[row * px:(row + 1) * px, col * px:(col + 1) * px] = tile_rgb
            valid[row * px:(row + 1) * px, col * px:(col + 1) * px] = tile_valid
    return rgb, 1.0 - float(np.count_nonzero(valid)) / valid.size


def tile_service_source(mosaic: Mosaic, tiling: TilingParameters, parameters: dict[str, Any]) -> IngestSource:
    """The mosaic's tile service over its bbox, at the tiling's zooms."""
    template = TileTemplate(mosaic.source_url)
    bbox = tuple(float(v) for v in parameters["bbox"])
    ranges = {zoom: _tile_range(bbox, zoom) for zoom in tiling.zooms}
    tile_count = sum((x1 - x0) * (y1 - y0) for x0, y0, x1, y1 in ranges.values())
    if tile_count > settings.ASTROLOC_TILE_INGEST_MAX_TILES:
        raise IngestInputError(
            f"{template.template}: the bbox at zooms {list(tiling.zooms)} covers {tile_count:,} tiles, more than "
            f"ASTROLOC_TILE_INGEST_MAX_TILES ({settings.ASTROLOC_TILE_INGEST_MAX_TILES:,}); ingest a smaller bbox "
            "or fewer zooms."
        )
    fetcher = TileFetcher(
        template, policy=policy_from_settings(max_bytes=min(MAX_TILE_BYTES, settings.ASTROLOC_FETCH_MAX_BYTES)),
        cache_dir=settings.ASTROLOC_TILE_FETCH_CACHE_DIR, concurrency=int(parameters["concurrency"]),
        rate_per_s=float(parameters["rate_per_s"]),
    )
    finest = max(tiling.zooms)
    x0, y0, x1, y1 = ranges[finest]
    resolution = tile_size_m(finest) / TILE_PX
    info = MosaicInfo(crs="EPSG:3857", width=(x1 - x0) * TILE_PX, height=(y1 - y0) * TILE_PX, band_count=3,
                      bounds_lonlat=bbox, resolution_m=resolution)
    px = tiling.stored_size_px // tiling.span

    def images(zoom: int) -> Iterator[DatabaseImage]:
        tx0, ty0, tx1, ty1 = ranges[zoom]

        def in_bbox(key: tuple[int, int, int]) -> bool:
            return tx0 <= key[1] < tx1 and ty0 <= key[2] < ty1

        cells = grid_cells(bbox, zoom, tiling.span)
        for start in range(0, len(cells), CELLS_PER_BATCH):
            batch = cells[start:start + CELLS_PER_BATCH]
            keys = [(zoom, c.x + col, c.y + row) for c in batch for row in range(c.span) for col in range(c.span)]
            try:
                tiles = fetcher.fetch_many(k for k in keys if in_bbox(k))
            except FetchRefused as exc:
                raise IngestInputError(str(exc)) from exc
            for cell in batch:
                rgb, nodata = _assemble(cell, tiles, in_bbox, px, template)
                if nodata > tiling.max_nodata or math.isclose(nodata, 1.0):
                    continue
                yield DatabaseImage(zoom=zoom, x=cell.x, y=cell.y, span=cell.span, bounds=cell.bounds_lonlat,
                                    image=rgb, nodata_fraction=nodata)

    def stats() -> dict[str, Any]:
        s = fetcher.stats
        return {"requests": s.requests, "cache_hits": s.cache_hits, "missing": s.missing, "bytes": s.bytes}

    return IngestSource(info=info, area=bbox, images=images, label=template.template, stats=stats)
