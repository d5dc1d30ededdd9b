"""Writes on the photo archive: create an import batch, import its files one by one, finish its report.

The flow: ``batch_create`` (command, API, web) records the Batch, stores uploads and enqueues
``jobs.import`` by name; the worker (``workers/photo_import.py``) calls ``batch_import_plan`` once, then
``batch_import_file`` for each file (each in its own transaction: one bad file never fails the batch) and
``batch_finish``, which writes the report and records what should happen next to the new photos.

Metadata precedence is CSV > EXIF > filename (``apps.photos.metadata``). The same bytes (SHA-256) or the
same mission-roll-frame ID import once: a second time they are skipped and reported, so importing the same
input twice changes nothing.
"""

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import Q

from apps.core.constants import JobKind
from apps.core.geo import lonlat_point
from apps.core.services import job_enqueue
from apps.footprints.constants import FootprintSource
from apps.footprints.services import footprint_add
from apps.photos.constants import BatchStatus, PhotoStatus, Visibility
from apps.photos.files import (
    IMAGE_SUFFIXES,
    DecodedImage,
    ImportItem,
    PhotoFileError,
    SourceReader,
    decode_image,
    derivative_jpeg,
    list_items,
)
from apps.photos.metadata import (
    CsvMetadata,
    MergedMetadata,
    MetadataCsvError,
    exif_metadata,
    filename_photo_id,
    merge_metadata,
    parse_metadata_csv,
)
from apps.photos.models import Batch, Photo

__all__ = [
    "FileOutcome",
    "ImportPlan",
    "MetadataCsvError",
    "batch_create",
    "batch_fail",
    "batch_finish",
    "batch_import_file",
    "batch_import_plan",
    "photo_import",
    "photo_mark_in_progress",
    "photo_mark_unresolved",
    "photo_status_restore",
    "photos_queue_next_steps",
]

logger = logging.getLogger(__name__)

_PHOTO_FIELDS = ("captured_at", "camera", "focal_length_mm", "altitude_km", "center_uncertainty_km",
                 "tilt_class", "tilt_deg", "cloud_pct", "sun_elevation_deg", "sun_azimuth_deg", "feature_text")


# --- batch creation -----------------------------------------------------------------------------------
def _expand_paths(paths: Sequence[Path | str]) -> list[Path]:
    """Files as given; folders expanded (recursively, sorted) to their images, zips and nothing else."""
    out: list[Path] = []
    for raw in paths:
        path = Path(raw).resolve()
        if path.is_dir():
            out += sorted(p for p in path.rglob("*")
                          if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES | {".zip"})
        elif path.is_file():
            out.append(path)
        else:
            raise ValueError(f"{path}: no such file or folder.")
    return out


def batch_create(
    *,
    paths: Sequence[Path | str] = (),
    uploads: Sequence[File] = (),
    csv_path: Path | str | None = None,
    csv_upload: File | None = None,
    name: str = "",
    visibility: str = Visibility.PUBLIC,
    created_by: AbstractBaseUser | None = None,
) -> Batch:
    """Record a batch of photo files (trusted local ``paths`` and/or ``uploads``) and enqueue its import.

    Folders in ``paths`` are expanded to their JPEG/PNG/TIFF files and zips. Uploads are stored under
    ``batches/<id>/`` first; the job reads them from there. ``csv_*`` is the optional metadata CSV.
    """
    files = _expand_paths(paths)
    if not files and not uploads:
        raise ValueError("a batch needs at least one photo file, folder or zip.")
    if csv_path is not None and not Path(csv_path).is_file():
        raise ValueError(f"{csv_path}: no such CSV file.")
    user = created_by if created_by is not None and created_by.is_authenticated else None
    with transaction.atomic():
        batch = Batch.objects.create(name=name, created_by=user, visibility=visibility,
                                     status=BatchStatus.UPLOADED)
        sources: list[dict[str, str]] = [{"path": str(p)} for p in files]
        for upload in uploads:
            base = Path(upload.name or "upload").name
            stored = default_storage.save(f"batches/{batch.pk}/{base}", upload)
            sources.append({"storage": stored, "name": base})
        csv: dict[str, str] | None = None
        if csv_path is not None:
            csv = {"path": str(Path(csv_path).resolve())}
        elif csv_upload is not None:
            base = Path(csv_upload.name or "metadata.csv").name
            csv = {"storage": default_storage.save(f"batches/{batch.pk}/{base}", csv_upload), "name": base}
        job = job_enqueue(kind=JobKind.IMPORT, parameters={"batch_id": batch.pk, "sources": sources, "csv": csv},
                          created_by=user)
        batch.job = job
        batch.save(update_fields=["job"])
    return batch


# --- planning -----------------------------------------------------------------------------------------
@dataclass
class ImportPlan:
    """The batch expanded: items to import, entries refused up front, and the parsed CSV (if any)."""

    items: list[ImportItem]
    refused: list[dict[str, Any]]
    csv: CsvMetadata | None
    warnings: list[str] = field(default_factory=list)


def _read_csv_source(csv: dict[str, str]) -> tuple[bytes, str]:
    if "path" in csv:
        return Path(csv["path"]).read_bytes(), Path(csv["path"]).name
    with default_storage.open(csv["storage"], "rb") as fh:
        return fh.read(), csv.get("name") or Path(csv["storage"]).name


def batch_import_plan(*, batch: Batch, sources: list[dict[str, str]], csv: dict[str, str] | None) -> ImportPlan:
    """List the batch's files and parse its CSV (given, or the one CSV found in a zip).

    Raises MetadataCsvError when the CSV cannot be used at all: importing the photos without the metadata
    meant for them would make the fixed CSV useless later (re-imports are skipped as duplicates).
    """
    Batch.objects.filter(pk=batch.pk).update(status=BatchStatus.IMPORTING)
    listing = list_items(sources, max_bytes=settings.ASTROLOC_PHOTO_MAX_BYTES,
                         max_entries=settings.ASTROLOC_ZIP_MAX_ENTRIES)
    plan = ImportPlan(items=listing.items, refused=listing.refused, csv=None)
    content, name = None, ""
    if csv is not None:
        content, name = _read_csv_source(csv)
    elif len(listing.csv_members) == 1:
        index, member = listing.csv_members[0]
        with SourceReader(sources, max_bytes=settings.ASTROLOC_PHOTO_MAX_BYTES) as reader:
            content, name = reader.read_member(index, member), member
    elif len(listing.csv_members) > 1:
        plan.warnings.append(f"{len(listing.csv_members)} CSV files in the zip(s); none used. "
                             "Give the metadata CSV separately.")
    if content is not None:
        plan.csv = parse_metadata_csv(content, name=name)
        if plan.csv.unknown_columns:
            plan.warnings.append(f"{name}: unknown columns ignored: {', '.join(plan.csv.unknown_columns)}")
    return plan


# --- one file -----------------------------------------------------------------------------------------
@dataclass
class FileOutcome:
    """What happened to one file (one entry of the batch report)."""

    name: str
    status: str  # imported | skipped | rejected
    code: str = ""
    message: str = ""
    photo_id: str = ""
    photo_pk: int | None = None
    csv_line: int | None = None
    metadata_sources: dict[str, str] = field(default_factory=dict)
    conflicts: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v not in ("", None, [], {})}


def _metadata_for(item: ImportItem, decoded: DecodedImage, plan: ImportPlan) -> tuple[MergedMetadata, int | None]:
    exif = exif_metadata(decoded.image)
    from_name = filename_photo_id(item.parts)
    filename_values = {"photo_id": from_name} if from_name else {}
    line = plan.csv.find(filename=item.parts[-1], photo_ids=[exif.get("photo_id"), from_name]) if plan.csv else None
    csv_values = plan.csv.rows[line] if line is not None else {}
    return merge_metadata(csv_values, exif, filename_values), line


def batch_import_file(*, batch: Batch, item: ImportItem, reader: SourceReader, plan: ImportPlan) -> FileOutcome:
    """Validate one file and import it as a photo; never raises for a bad file (the outcome says why)."""
    outcome = FileOutcome(name=item.name, status="rejected")
    try:
        content = reader.read(item)
        decoded = decode_image(content, max_pixels=settings.ASTROLOC_PHOTO_MAX_PIXELS)
    except PhotoFileError as exc:
        outcome.code, outcome.message = exc.code, exc.message
        return outcome
    merged, line = _metadata_for(item, decoded, plan)
    outcome.csv_line = line
    outcome.metadata_sources = merged.sources
    outcome.conflicts = merged.conflicts
    photo_id = merged.values.get("photo_id")
    if not photo_id:
        outcome.code = "no_photo_id"
        outcome.message = ("no mission-roll-frame ID in the CSV, EXIF or file name; name the file like "
                           "ISS064-E-513.jpg or list it in the CSV (MRF or FILENAME column)")
        return outcome
    outcome.photo_id = photo_id
    checksum = hashlib.sha256(content).hexdigest()
    existing = Photo.objects.filter(Q(checksum=checksum) | Q(photo_id=photo_id)).values("pk", "photo_id",
                                                                                         "checksum").first()
    if existing is not None:
        return _duplicate(outcome, existing, checksum)
    try:
        photo = photo_import(batch=batch, content=content, decoded=decoded, metadata=merged.values,
                             checksum=checksum)
    except IntegrityError:  # imported meanwhile by a concurrent batch
        existing = Photo.objects.filter(Q(checksum=checksum) | Q(photo_id=photo_id)).values(
            "pk", "photo_id", "checksum").first()
        return _duplicate(outcome, existing or {"pk": None, "photo_id": photo_id, "checksum": ""}, checksum)
    except ValueError as exc:
        outcome.code, outcome.message = "invalid_metadata", str(exc)
        return outcome
    outcome.status, outcome.photo_pk = "imported", photo.pk
    footprint = merged.values.get("footprint")
    if footprint:
        try:
            footprint_add(photo=photo, corners=footprint, source=FootprintSource.IMPORTED,
                          note=f"batch {batch.pk}, {plan.csv.name if plan.csv else 'CSV'} line {line}")
        except ValueError as exc:
            outcome.warnings.append(f"footprint not imported: {exc}")
    return outcome


def _duplicate(outcome: FileOutcome, existing: dict[str, Any], checksum: str) -> FileOutcome:
    outcome.status = "skipped"
    outcome.photo_pk = existing["pk"]
    if existing["checksum"] == checksum:
        outcome.code = "duplicate_checksum"
        outcome.message = f"same bytes as photo {existing['photo_id']}, already in the archive"
    else:
        outcome.code = "duplicate_id"
        outcome.message = f"photo {existing['photo_id']} is already in the archive (with different bytes)"
    return outcome


def _save_file(name: str, content: bytes) -> str:
    if default_storage.exists(name):  # left by an attempt that died before its row was written
        default_storage.delete(name)
    return default_storage.save(name, ContentFile(content))


def photo_import(
    *, batch: Batch, content: bytes, decoded: DecodedImage, metadata: dict[str, Any], checksum: str
) -> Photo:
    """Store the original untouched, a web-size JPEG and a thumbnail, and create the Photo (`imported`).

    Raises IntegrityError on a duplicate ID or checksum (the files written are removed again) and
    ValueError on metadata the model refuses.
    """
    photo_id = metadata["photo_id"]
    photo = Photo(
        photo_id=photo_id, mission=photo_id.split("-")[0], checksum=checksum, width=decoded.width,
        height=decoded.height, batch=batch, owner=batch.created_by, visibility=batch.visibility,
        status=PhotoStatus.IMPORTED, **{k: metadata[k] for k in _PHOTO_FIELDS if metadata.get(k) is not None},
    )
    if metadata.get("nadir"):
        photo.nadir_point = lonlat_point(*metadata["nadir"])
    if metadata.get("center"):
        photo.center_point = lonlat_point(*metadata["center"])
    photo.camera = photo.camera[:64]
    web = derivative_jpeg(decoded.image, max_side=settings.ASTROLOC_WEB_IMAGE_PX)
    thumb = derivative_jpeg(decoded.image, max_side=settings.ASTROLOC_THUMBNAIL_PX, quality=80)
    names = [
        _save_file(f"photos/original/{photo_id}{decoded.suffix}", content),
        _save_file(f"photos/web/{photo_id}.jpg", web),
        _save_file(f"photos/thumb/{photo_id}.jpg", thumb),
    ]
    photo.image.name, photo.web_image.name, photo.thumbnail.name = names
    try:
        with transaction.atomic():
            photo.save()
    except Exception:
        for name in names:
            default_storage.delete(name)
        raise
    return photo


# --- finishing ----------------------------------------------------------------------------------------
def photos_queue_next_steps(*, photo_pks: Sequence[int]) -> dict[str, Any]:
    """What the new photos need next: labeling (a center point), localization (none), nothing (footprint).

    The jobs are enqueued (by name) only when ``ASTROLOC_QUEUE_AFTER_IMPORT`` is on: labeling and
    localization are other jobs' business, and their workers may not be deployed.
    """
    photos = Photo.objects.filter(pk__in=photo_pks)
    has_footprint = set(photos.filter(footprints__isnull=False).values_list("pk", flat=True))
    label = sorted(p for p in photos.filter(center_point__isnull=False).values_list("pk", flat=True)
                   if p not in has_footprint)
    localize = sorted(p for p in photos.filter(center_point__isnull=True).values_list("pk", flat=True)
                      if p not in has_footprint)
    enqueued: dict[str, int] = {}
    if settings.ASTROLOC_QUEUE_AFTER_IMPORT:
        for kind, pks in ((JobKind.LABEL, label), (JobKind.LOCALIZE, localize)):
            if pks:
                enqueued[kind] = job_enqueue(kind=kind, parameters={"photo_ids": pks}).pk
    return {"label": label, "localize": localize, "has_footprint": sorted(has_footprint), "enqueued_jobs": enqueued}


def batch_finish(*, batch: Batch, plan: ImportPlan, outcomes: list[dict[str, Any]]) -> dict[str, Any]:
    """Write the batch report (every file's fate, CSV rows without a file, files without metadata)."""
    matched_lines = {o["csv_line"] for o in outcomes if o.get("csv_line") is not None}
    files_without_metadata = [
        o["name"] for o in outcomes if o["status"] == "imported"
        and not set(o.get("metadata_sources", {}).values()) - {"filename"}
    ]
    imported = [o["photo_pk"] for o in outcomes if o["status"] == "imported"]
    rejected = [*plan.refused, *(o for o in outcomes if o["status"] == "rejected")]
    report: dict[str, Any] = {
        "summary": {
            "files": len(outcomes) + len(plan.refused),
            "imported": len(imported),
            "skipped": sum(o["status"] == "skipped" for o in outcomes),
            "rejected": len(rejected),
            "conflicts": sum(len(o.get("conflicts", [])) for o in outcomes),
        },
        "files": [*outcomes, *({**r, "status": "rejected"} for r in plan.refused)],
        "files_without_metadata": files_without_metadata,
        "warnings": plan.warnings,
        "next_steps": photos_queue_next_steps(photo_pks=imported),
    }
    if plan.csv is not None:
        unmatched = [{"line": line, "photo_id": values["photo_id"]}
                     for line, values in plan.csv.rows.items() if line not in matched_lines]
        report["csv"] = {**plan.csv.summary(), "unmatched_rows": unmatched}
        report["files_without_csv_row"] = [o["name"] for o in outcomes if o.get("csv_line") is None]
    Batch.objects.filter(pk=batch.pk).update(status=BatchStatus.IMPORTED, report=report)
    return report


def batch_fail(*, batch_id: int, error: str) -> None:
    """The batch as a whole could not be imported (e.g. its CSV is unusable); nothing was imported."""
    batch = Batch.objects.filter(pk=batch_id).first()
    if batch is not None:
        batch.status = BatchStatus.FAILED
        batch.report = {**batch.report, "error": error}
        batch.save(update_fields=["status", "report"])



# --- labeling outcomes --------------------------------------------------------------------------------
def photo_mark_unresolved(*, photo: Photo, reason: str, status: str = PhotoStatus.NEEDS_REVIEW) -> None:
    """No acceptable footprint came out of labeling or retrieval: the photo goes to review (or ``failed``
    when it could not be processed at all) with ``reason`` saying why; its footprints are untouched."""
    if status not in (PhotoStatus.NEEDS_REVIEW, PhotoStatus.FAILED):
        raise ValueError(f"an unresolved photo is needs_review or failed, not {status!r}")
    Photo.objects.filter(pk=photo.pk).update(status=status, status_reason=reason[:2000])


IN_PROGRESS = (PhotoStatus.LABELING, PhotoStatus.LOCALIZING)


def photo_mark_in_progress(*, photo: Photo, status: str = PhotoStatus.LOCALIZING) -> str:
    """A job started working on the photo (``labeling`` or ``localizing``), so the map, review and API show
    it is being processed; returns the status it had, for ``photo_status_restore`` if the work aborts.

    Every normal end sets a final status (``localized`` with a footprint, or ``photo_mark_unresolved``)."""
    if status not in IN_PROGRESS:
        raise ValueError(f"a photo in progress is {' or '.join(IN_PROGRESS)}, not {status!r}")
    previous = Photo.objects.filter(pk=photo.pk).values_list("status", flat=True).first()
    Photo.objects.filter(pk=photo.pk).update(status=status)
    return PhotoStatus.IMPORTED if previous is None or previous in IN_PROGRESS else previous


def photo_status_restore(*, photo: Photo, status: str) -> None:
    """Work on the photo aborted without an outcome: put back the status it had (never an in-progress one)."""
    if status in IN_PROGRESS:
        raise ValueError(f"cannot restore an in-progress status ({status!r})")
    Photo.objects.filter(pk=photo.pk, status__in=IN_PROGRESS).update(status=status)
