"""Writes on the satellite database: register a mosaic and start its ingest, then store what the worker cuts.

The flow: ``mosaic_ingest`` (command, API, web) checksums the raster, records the ``Mosaic`` and enqueues
``jobs.ingest`` by name; the worker (``workers/ingest.py``) validates and cuts the raster with ``ml.tiling``
and writes through ``mosaic_start`` -> ``tiles_store`` (many times) -> ``mosaic_finish`` | ``mosaic_fail``.
The same file and year ingest once (SHA-256): asking again with the same tiling is a no-op. Tile services
(``mosaic_ingest_tiles``) and COGs by URL (``mosaic_ingest_cog``) follow the same flow; their "checksum" is
that of the source's description (URL, bbox), and their URLs are checked against the fetch policy
(``apps.core.remote``) before anything is recorded.

``source_path`` is trusted input (the operator's command line); uploads come in as files and are stored
under ``mosaics/`` first. The API must never pass a user-supplied path here.
"""

import hashlib
import json
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from apps.core.constants import JobKind
from apps.core.geo import bbox_polygon, validate_lonlat
from apps.core.models import Job
from apps.core.remote import FetchFailed, check_url, fetch_bytes, fetch_with_retries, policy_from_settings
from apps.core.services import job_enqueue
from apps.imagery.constants import (
    DEFAULT_MAX_NODATA,
    DEFAULT_SPAN,
    DEFAULT_ZOOMS,
    MAX_ZOOM,
    MosaicSource,
    MosaicStatus,
    TileFormat,
)
from apps.imagery.models import Mosaic, SatelliteTile, TileFeatures
from apps.imagery.tile_templates import TileTemplate

__all__ = [
    "IngestRequest",
    "MosaicInfo",
    "StoredTile",
    "TilingParameters",
    "file_sha256",
    "mosaic_delete",
    "mosaic_fail",
    "mosaic_finish",
    "mosaic_ingest",
    "mosaic_ingest_cog",
    "mosaic_ingest_tiles",
    "mosaic_raster_path",
    "mosaic_start",
    "stac_asset_href",
    "tile_cells_taken",
    "tile_features_save",
    "tiles_store",
]

logger = logging.getLogger(__name__)

_CHUNK = 4 * 1024 * 1024
_STAC_ITEM_MAX_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class TilingParameters:
    """How a mosaic is cut: zooms, span (tiles per side), stored size in px, nodata threshold, file format.

    ``size_px`` None means the native resolution, span x 256 px. It must be a multiple of ``span`` so that
    a stored image lands on whole pixels of its zoom's grid.
    """

    zooms: tuple[int, ...] = DEFAULT_ZOOMS
    span: int = DEFAULT_SPAN
    size_px: int | None = None
    max_nodata: float = DEFAULT_MAX_NODATA
    format: str = TileFormat.JPG

    def __post_init__(self) -> None:
        object.__setattr__(self, "zooms", tuple(sorted({int(z) for z in self.zooms})))
        if not self.zooms or not all(0 <= z <= MAX_ZOOM for z in self.zooms):
            raise ValueError(f"zooms must be a non-empty list within 0..{MAX_ZOOM}, got {list(self.zooms)}.")
        if not 1 <= self.span <= 64:
            raise ValueError(f"span must be within 1..64 tiles, got {self.span}.")
        if self.size_px is not None and (self.size_px <= 0 or self.size_px % self.span or self.size_px > 8192):
            raise ValueError(
                f"size ({self.size_px} px) must be a positive multiple of span ({self.span}), at most 8192."
            )
        if not 0.0 <= self.max_nodata <= 1.0:
            raise ValueError(f"max_nodata must be within 0..1, got {self.max_nodata}.")
        if self.format not in TileFormat.values:
            raise ValueError(f"format must be one of {', '.join(TileFormat.values)}, got {self.format!r}.")

    @property
    def stored_size_px(self) -> int:
        return self.size_px if self.size_px is not None else self.span * 256

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["zooms"] = list(self.zooms)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "TilingParameters":
        fields = {k: data[k] for k in ("zooms", "span", "size_px", "max_nodata", "format") if k in data}
        return cls(**fields)


@dataclass(frozen=True)
class IngestRequest:
    """What ``mosaic_ingest`` did: the mosaic, the job it enqueued (None: nothing to do), whether new."""

    mosaic: Mosaic
    job: Job | None
    created: bool

    @property
    def is_noop(self) -> bool:
        return self.job is None


@dataclass(frozen=True)
class MosaicInfo:
    """What the worker learnt about the raster (from ml.tiling.inspect_raster)."""

    crs: str
    width: int
    height: int
    band_count: int
    bounds_lonlat: tuple[float, float, float, float]
    resolution_m: float | None = None


@dataclass(frozen=True)
class StoredTile:
    """One cut database image, encoded, ready to store. ``bounds`` are exact lon/lat (the XYZ maths)."""

    zoom: int
    x: int
    y: int
    bounds: tuple[float, float, float, float]
    content: bytes


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _upload_sha256(upload: File) -> str:
    digest = hashlib.sha256()
    for chunk in upload.chunks(_CHUNK):
        digest.update(chunk)
    upload.seek(0)
    return digest.hexdigest()


def mosaic_ingest(
    *,
    year: int,
    tiling: TilingParameters,
    path: Path | str | None = None,
    upload: File | None = None,
    name: str = "",
    created_by: AbstractBaseUser | None = None,
) -> IngestRequest:
    """Record a raster (a trusted local ``path`` or an ``upload``) of ``year`` and enqueue its ingest job.

    No-op (``job`` None) when the same bytes of the same year were already ingested with the same tiling,
    or are being ingested now (the running job is returned). A mosaic that failed, or is asked for other
    tiling, gets a new job that resumes: cells already stored are kept and skipped.
    """
    if (path is None) == (upload is None):
        raise ValueError("give exactly one of path (a local raster) or upload (an uploaded file).")
    _check_year(year)
    if path is not None:
        path = Path(path).resolve()
        if not path.is_file():
            raise ValueError(f"{path}: no such file. Give the path of a GeoTIFF / COG mosaic.")
        checksum = file_sha256(path)
        default_name = path.name
    else:
        checksum = _upload_sha256(upload)
        default_name = Path(upload.name or "upload.tif").name

    def fill(mosaic: Mosaic) -> None:
        if path is not None:
            mosaic.source_path = str(path)
        else:
            mosaic.file.save(default_name, upload, save=False)

    return _mosaic_record(checksum=checksum, year=year, tiling=tiling, name=name or default_name, fill=fill,
                          created_by=created_by)


def _check_year(year: int) -> None:
    if not 1900 <= int(year) <= 2200:
        raise ValueError(f"year {year} is not plausible for a satellite mosaic.")


def _mosaic_record(
    *,
    checksum: str,
    year: int,
    tiling: TilingParameters,
    name: str,
    fill: Callable[[Mosaic], None],
    created_by: AbstractBaseUser | None,
    job_parameters: dict[str, Any] | None = None,
) -> IngestRequest:
    """The one rule for every source: the same input (``checksum``) and year ingests once with one tiling."""
    with transaction.atomic():
        mosaic = Mosaic.objects.select_for_update().filter(checksum=checksum, year=year).first()
        created = mosaic is None
        if mosaic is not None:
            if mosaic.status == MosaicStatus.INGESTED and mosaic.parameters == tiling.as_dict():
                logger.info("mosaic %s (%s) already ingested with the same tiling: no-op", mosaic.pk, checksum)
                return IngestRequest(mosaic, None, False)
            if mosaic.status in (MosaicStatus.PENDING, MosaicStatus.INGESTING) and mosaic.job is not None \
                    and not mosaic.job.is_final:
                return IngestRequest(mosaic, mosaic.job, False)
        else:
            mosaic = Mosaic(name=name, year=year, checksum=checksum)
            fill(mosaic)
        mosaic.status = MosaicStatus.PENDING
        mosaic.error = ""
        mosaic.parameters = tiling.as_dict()
        mosaic.save()
        job = job_enqueue(
            kind=JobKind.INGEST, created_by=created_by,
            parameters={"mosaic_id": mosaic.pk, **tiling.as_dict(), **(job_parameters or {})},
        )
        mosaic.job = job
        mosaic.save(update_fields=["job"])
    return IngestRequest(mosaic, job, created)


def _check_remote(url: str) -> None:
    """Refuse, before anything is recorded, a URL the fetch policy would refuse (host, address, scheme)."""
    try:
        check_url(url, policy_from_settings())
    except FetchFailed as exc:
        raise ValueError(f"{url}: {exc}") from exc


def _check_bbox(bbox: Sequence[float]) -> tuple[float, float, float, float]:
    if len(bbox) != 4:
        raise ValueError(f"bbox must be lon_min,lat_min,lon_max,lat_max, got {list(bbox)}.")
    lon_min, lat_min = validate_lonlat(bbox[0], bbox[1])
    lon_max, lat_max = validate_lonlat(bbox[2], bbox[3])
    if lon_min >= lon_max or lat_min >= lat_max:
        raise ValueError(f"bbox {list(bbox)} is empty: give lon_min,lat_min,lon_max,lat_max.")
    return lon_min, lat_min, lon_max, lat_max


def _source_checksum(*parts: object) -> str:
    return hashlib.sha256("\n".join(str(p) for p in parts).encode()).hexdigest()


def mosaic_ingest_tiles(
    *,
    url_template: str,
    bbox: Sequence[float],
    year: int,
    tiling: TilingParameters,
    attribution: str = "",
    name: str = "",
    concurrency: int | None = None,
    rate_per_s: float | None = None,
    created_by: AbstractBaseUser | None = None,
) -> IngestRequest:
    """Record a tile service (XYZ / TMS / WMTS REST ``url_template``) read over ``bbox`` (lon/lat) as a
    mosaic of ``year`` and enqueue its ingest job (the worker fetches politely, see ``tile_fetch``).

    The same template, bbox and year ingest once, like the same file; re-asking resumes a failed ingest,
    and tiles fetched before come from the on-disk cache.
    """
    _check_year(year)
    template = TileTemplate(url_template)
    bbox = _check_bbox(bbox)
    zoom = max(tiling.zooms)
    _check_remote(template.url(zoom, 0, 0))
    concurrency = settings.ASTROLOC_TILE_FETCH_CONCURRENCY if concurrency is None else int(concurrency)
    rate_per_s = settings.ASTROLOC_TILE_FETCH_RATE if rate_per_s is None else float(rate_per_s)
    if not 1 <= concurrency <= 64 or rate_per_s < 0:
        raise ValueError(f"concurrency must be 1..64 and rate >= 0 (0: unlimited), got {concurrency}, {rate_per_s}.")

    def fill(mosaic: Mosaic) -> None:
        mosaic.source, mosaic.source_url, mosaic.attribution = MosaicSource.TILES, template.template, attribution

    return _mosaic_record(
        checksum=_source_checksum("tiles", template.template, *bbox), year=year, tiling=tiling,
        name=name or urlsplit(template.template).hostname or "tile service", fill=fill, created_by=created_by,
        job_parameters={"bbox": list(bbox), "concurrency": concurrency, "rate_per_s": rate_per_s},
    )


def stac_asset_href(*, item_url: str, asset: str) -> str:
    """The absolute URL of ``asset`` of the STAC item at ``item_url`` (fetched under the fetch policy)."""
    _check_remote(item_url)
    result = fetch_with_retries(lambda: fetch_bytes(item_url, policy_from_settings(max_bytes=_STAC_ITEM_MAX_BYTES)))
    try:
        item = json.loads(result.content)
    except ValueError as exc:
        raise ValueError(f"{item_url}: not JSON, so not a STAC item ({exc}).") from exc
    assets = item.get("assets") if isinstance(item, dict) else None
    entry = assets.get(asset) if isinstance(assets, dict) else None
    href = entry.get("href") if isinstance(entry, dict) else None
    if not isinstance(href, str) or not href:
        names = ", ".join(assets) if isinstance(assets, dict) else "none"
        raise ValueError(f"{item_url}: the STAC item has no asset {asset!r} with an href (its assets: {names}).")
    return urljoin(result.url, href)


def mosaic_ingest_cog(
    *,
    url: str,
    year: int,
    tiling: TilingParameters,
    bbox: Sequence[float] | None = None,
    attribution: str = "",
    name: str = "",
    created_by: AbstractBaseUser | None = None,
) -> IngestRequest:
    """Record a cloud-optimized GeoTIFF at ``url`` (optionally only ``bbox`` of it) as a mosaic of ``year``
    and enqueue its ingest: the worker reads it in windows over HTTP range requests, under the fetch policy
    and a total byte budget (``apps.core.remote_file``)."""
    _check_year(year)
    _check_remote(url)
    bbox = None if bbox is None else _check_bbox(bbox)

    def fill(mosaic: Mosaic) -> None:
        mosaic.source, mosaic.source_url, mosaic.attribution = MosaicSource.COG, url, attribution

    return _mosaic_record(
        checksum=_source_checksum("cog", url, *(bbox or ())), year=year, tiling=tiling,
        name=name or urlsplit(url).path.rsplit("/", 1)[-1] or url, fill=fill, created_by=created_by,
        job_parameters={"bbox": list(bbox) if bbox else None},
    )


def mosaic_raster_path(*, mosaic: Mosaic) -> Path:
    """The local file the worker reads: the uploaded copy, or the operator's path."""
    return Path(mosaic.file.path) if mosaic.file else Path(mosaic.source_path)


def mosaic_start(*, mosaic_id: int, info: MosaicInfo) -> Mosaic:
    """Mark the mosaic ingesting and record what the raster is (CRS, size, bands, lon/lat bounds)."""
    mosaic = Mosaic.objects.get(pk=mosaic_id)
    mosaic.status = MosaicStatus.INGESTING
    mosaic.error = ""
    mosaic.crs = info.crs
    mosaic.width = info.width
    mosaic.height = info.height
    mosaic.band_count = info.band_count
    mosaic.bounds = bbox_polygon(*info.bounds_lonlat)
    mosaic.resolution_m = info.resolution_m
    mosaic.save()
    return mosaic


def tile_cells_taken(*, year: int, span: int, zoom: int) -> dict[tuple[int, int], int]:
    """(x, y) -> mosaic id of every stored cell of this grid (year, span, zoom): what must not be cut again."""
    rows = SatelliteTile.objects.filter(year=year, span=span, zoom=zoom).values_list("x", "y", "mosaic_id")
    return {(x, y): mosaic_id for x, y, mosaic_id in rows}


def _tile_name(mosaic: Mosaic, span: int, tile: StoredTile, ext: str) -> str:
    return f"tiles/{mosaic.year}/s{span}/z{tile.zoom}/{tile.x}_{tile.y}_m{mosaic.pk}.{ext}"


def tiles_store(*, mosaic: Mosaic, span: int, size_px: int, ext: str, tiles: Sequence[StoredTile]) -> int:
    """Store image files then rows for ``tiles`` (bulk insert); return how many rows were created.

    File names are deterministic per mosaic and cell, so a file left by a crashed attempt (file written,
    row not) is replaced, never duplicated. Cells stored meanwhile by another mosaic of the same year are
    left to it (their rows are not inserted and their files removed).
    """
    if not tiles:
        return 0
    rows = []
    for tile in tiles:
        name = _tile_name(mosaic, span, tile, ext)
        if default_storage.exists(name):
            default_storage.delete(name)
        stored = default_storage.save(name, ContentFile(tile.content))
        rows.append(SatelliteTile(
            zoom=tile.zoom, x=tile.x, y=tile.y, span=span, year=mosaic.year, mosaic=mosaic,
            bounds=bbox_polygon(*tile.bounds), image=stored, size_px=size_px,
        ))
    with transaction.atomic():
        SatelliteTile.objects.bulk_create(rows, ignore_conflicts=True)
        mine = set(
            SatelliteTile.objects.filter(mosaic=mosaic, image__in=[r.image.name for r in rows])
            .values_list("image", flat=True)
        )
    lost = [r.image.name for r in rows if r.image.name not in mine]
    _delete_files(lost)
    return len(rows) - len(lost)


def mosaic_finish(*, mosaic: Mosaic) -> Mosaic:
    """Mark the mosaic ingested and count its tiles."""
    mosaic.tile_count = mosaic.tiles.count()
    mosaic.status = MosaicStatus.INGESTED
    mosaic.error = ""
    mosaic.ingested_at = timezone.now()
    mosaic.save(update_fields=["tile_count", "status", "error", "ingested_at"])
    return mosaic


def mosaic_fail(*, mosaic_id: int, error: str) -> None:
    """Record why the ingest failed; tiles already stored stay (a new ingest of the file resumes)."""
    Mosaic.objects.filter(pk=mosaic_id).update(
        status=MosaicStatus.FAILED, error=error, tile_count=SatelliteTile.objects.filter(mosaic_id=mosaic_id).count()
    )


def _delete_files(names: Iterable[str]) -> None:
    for name in names:
        if name:
            default_storage.delete(name)


def mosaic_delete(*, mosaic: Mosaic) -> None:
    """Delete a mosaic, its tile rows and its files (tile images and the uploaded raster)."""
    names = list(mosaic.tiles.values_list("image", flat=True))
    upload = mosaic.file.name if mosaic.file else ""
    with transaction.atomic():
        mosaic.delete()
    _delete_files([*names, upload])


def tile_features_save(*, matcher_key: str, rows: Sequence[tuple[int, int, bytes]]) -> int:
    """Store encoded features as (tile id, keypoint count, data); rows already stored are kept as they are
    (a redone batch of the embed job adds nothing). Returns how many rows were new."""
    objs = [TileFeatures(tile_id=tid, matcher_key=matcher_key, keypoints=n, data=data) for tid, n, data in rows]
    before = TileFeatures.objects.filter(matcher_key=matcher_key, tile_id__in=[r[0] for r in rows]).count()
    TileFeatures.objects.bulk_create(objs, ignore_conflicts=True)
    return len(rows) - before
