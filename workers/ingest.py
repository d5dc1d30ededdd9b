"""The `ingest` job: cut a satellite mosaic into database images on the XYZ grid and store them.

The source (``workers/ingest_sources.py``: a local GeoTIFF or a COG by URL; ``workers/ingest_tiles.py``: a
tile service) is validated first (``ml.tiling.inspect_raster``: GeoTIFF driver only, with a CRS, sane size,
8-bit, 1/3/4 bands; for a tile service, the template and the number of tiles), so bad input fails before
anything is written, with the reason on the job and on the Mosaic row. Then each zoom is cut through a
warped view in EPSG:3857, window by window (never the whole raster in memory), or assembled from the
service's tiles, and stored through ``apps.imagery.services.tiles_store`` in small batches.

Bands: 1 band is grey and stored as R = G = B; 3 bands are stored as RGB in band order; of 4 bands the
first three are RGB and the fourth is not stored (an alpha band, if tagged so, is the validity mask, so
transparent pixels count as nodata). 2 bands or more than 4 (e.g. multispectral products) are refused:
make an RGB composite first, e.g. ``gdal_translate -b 4 -b 3 -b 2 in.tif rgb.tif``.

Idempotent and resumable: cells already stored for this grid and year are skipped, and each finished zoom
is recorded in the job's partial result, so a redelivered or re-run job continues where it stopped.
Last, the basemap's overview tiles above the mosaic are (re)built (``apps.imagery.overviews``), so the web
map shows its imagery at every zoom.
"""

import io
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from celery import shared_task
from PIL import Image

from apps.imagery.constants import MosaicSource
from apps.imagery.models import Mosaic
from apps.imagery.overviews import basemap_overviews_build
from apps.imagery.services import (
    StoredTile,
    TilingParameters,
    mosaic_fail,
    mosaic_finish,
    mosaic_start,
    tile_cells_taken,
    tiles_store,
)
from ml.geo import grid_cells
from workers.ingest_sources import IngestInputError, IngestSource, cog_source, file_source
from workers.ingest_tiles import tile_service_source
from workers.jobs import JobContext, run_job

__all__ = ["IngestInputError", "encode_image", "ingest", "ingest_mosaic"]

logger = logging.getLogger(__name__)

STORE_BATCH = 32
SOURCES = {MosaicSource.FILE: file_source, MosaicSource.COG: cog_source, MosaicSource.TILES: tile_service_source}


@dataclass
class _Counters:
    stored: int = 0
    covered_elsewhere: int = 0
    per_zoom: dict[str, int] = field(default_factory=dict)


def encode_image(rgb, fmt: str) -> bytes:
    """Encode an (H, W, 3) uint8 array as JPEG (quality 90) or PNG (zlib level 6, like GDAL's PNG driver)."""
    buffer = io.BytesIO()
    image = Image.fromarray(rgb, mode="RGB")
    if fmt == "png":
        image.save(buffer, format="PNG", compress_level=6)
    else:
        image.save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def ingest_mosaic(ctx: JobContext) -> dict[str, Any]:
    """Job body: validate, then cut and store every zoom not yet done; returns the job's result."""
    mosaic_id = int(ctx.parameters["mosaic_id"])
    tiling = TilingParameters.from_dict(ctx.parameters)
    try:
        return _ingest(ctx, mosaic_id, tiling)
    except Exception as exc:
        mosaic_fail(mosaic_id=mosaic_id, error=f"{type(exc).__name__}: {exc}")
        raise


def _ingest(ctx: JobContext, mosaic_id: int, tiling: TilingParameters) -> dict[str, Any]:
    started = time.monotonic()
    mosaic = Mosaic.objects.get(pk=mosaic_id)
    source: IngestSource = SOURCES[mosaic.source](mosaic, tiling, ctx.parameters)
    info = source.info
    mosaic = mosaic_start(mosaic_id=mosaic_id, info=info)
    logger.info("ingest %s: %s %dx%d %s validated in %.2fs", mosaic_id, source.label, info.width, info.height,
                info.crs, time.monotonic() - started)

    expected = {z: len(grid_cells(source.area, z, tiling.span)) for z in tiling.zooms}
    total = max(sum(expected.values()), 1)
    done_zooms = set(ctx.partial.get("done_zooms", []))
    counters = _Counters(
        stored=int(ctx.partial.get("stored", 0)),
        covered_elsewhere=int(ctx.partial.get("covered_elsewhere", 0)),
        per_zoom=dict(ctx.partial.get("per_zoom", {})),
    )
    seen = sum(expected[z] for z in done_zooms if z in expected)
    ext = tiling.format
    for zoom in tiling.zooms:
        if zoom in done_zooms:
            continue
        zoom_started = time.monotonic()
        taken = tile_cells_taken(year=mosaic.year, span=tiling.span, zoom=zoom)
        mine = sum(1 for owner in taken.values() if owner == mosaic.pk)
        batch: list[StoredTile] = []
        for image in source.images(zoom):
            seen += 1
            ctx.progress(min(seen / total, 0.99), f"zoom {zoom}: {mine + len(batch)} images cut")
            owner = taken.get((image.x, image.y))
            if owner is not None:
                counters.covered_elsewhere += owner != mosaic.pk
                continue
            batch.append(StoredTile(zoom=zoom, x=image.x, y=image.y, bounds=image.bounds,
                                    content=encode_image(image.image, ext)))
            if len(batch) >= STORE_BATCH:
                mine += tiles_store(mosaic=mosaic, span=tiling.span, size_px=tiling.stored_size_px, ext=ext,
                                    tiles=batch)
                batch = []
        mine += tiles_store(mosaic=mosaic, span=tiling.span, size_px=tiling.stored_size_px, ext=ext, tiles=batch)
        counters.per_zoom[str(zoom)] = mine
        done_zooms.add(zoom)
        seen = sum(expected[z] for z in done_zooms)
        ctx.partial.update(done_zooms=sorted(done_zooms), stored=sum(counters.per_zoom.values()),
                           covered_elsewhere=counters.covered_elsewhere, per_zoom=counters.per_zoom)
        ctx.save_partial(min(seen / total, 0.99), f"zoom {zoom} done: {mine} images")
        logger.info("ingest %s: zoom %d, %d images in %.2fs", mosaic_id, zoom, mine, time.monotonic() - zoom_started)

    ctx.progress(0.99, "building overview tiles")
    overviews = basemap_overviews_build(year=mosaic.year, bounds=source.area)
    mosaic = mosaic_finish(mosaic=mosaic)
    seconds = time.monotonic() - started
    return {
        "source": mosaic.source,
        "fetch": source.stats(),
        "mosaic_id": mosaic.pk,
        "tile_count": mosaic.tile_count,
        "per_zoom": counters.per_zoom,
        "covered_by_other_mosaics": counters.covered_elsewhere,
        "grid_cells": {str(z): n for z, n in expected.items()},
        "seconds": round(seconds, 3),
        "done_zooms": sorted(done_zooms),
        "overview_tiles": {str(z): n for z, n in overviews.per_zoom.items()},
    }


@shared_task(name="jobs.ingest")
def ingest(job_id: int) -> dict[str, Any]:
    return run_job(job_id, ingest_mosaic)
