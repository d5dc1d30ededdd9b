"""Writes on the photo archive: create an import batch, import its files one by one, finish its report.

The flow: ``batch_create`` (command, API, web) records the Batch, stores uploads and enqueues
``jobs.import`` by name; the worker (``workers/photo_import.py``) calls ``batch_import_plan`` once, downloads
the files a manifest names (``apps.photos.downloads``; each outcome joins the plan with
``ImportPlan.add_download``), then calls ``batch_import_file`` for each file (each in its own transaction: one
bad file never fails the batch) and ``batch_finish``, which writes the report and records what should happen
next to the new photos.

Metadata precedence is metadata file (CSV or EOL JSON) > EXIF > filename (``apps.photos.metadata``). The
same bytes (SHA-256) or the same mission-roll-frame ID import once: a second time they are skipped and
reported, so importing the same input twice changes nothing.
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
from apps.photos.downloads import PhotoDownload, photo_download_plan
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
    parse_metadata_file,
)
from apps.photos.models import Batch, Photo
from apps.photos.selectors import has_own_footprint
from apps.photos.status import IN_PROGRESS, photo_status_change

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
                 "tilt_class", "tilt_deg", "cloud_pct", "sun_elevation_deg", "sun_azimuth_deg", "feature_text",
                 "geographic_name", "source_url")
#: What each next step needs from the metadata (reported per photo when missing): labeling matches around
#: NASA's centre point; localization's prior (search area and scale) uses the nadir, altitude, focal length
#: and tilt.
_NEEDED = {
    "labeling": {"center": "center point"},
    "localization_prior": {"nadir": "nadir point", "altitude_km": "altitude", "focal_length_mm": "focal length",
                           "tilt": "tilt (class or degrees)"},
}


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
    download: bool = False,
    name: str = "",
    visibility: str = Visibility.PUBLIC,
    created_by: AbstractBaseUser | None = None,
) -> Batch:
    """Record a batch of photo files (trusted local ``paths`` and/or ``uploads``) and enqueue its import.

    Folders in ``paths`` are expanded to their JPEG/PNG/TIFF files and zips. Uploads are stored under
    ``batches/<id>/`` first; the job reads them from there. ``csv_*`` is the optional metadata file (CSV or
    EOL JSON). With ``download`` it is a manifest: the job downloads the file of every row that no given file
    matches (from its URL, or EOL's directory + filename), so a manifest alone is a batch.
    """
    files = _expand_paths(paths)
    has_metadata = csv_path is not None or csv_upload is not None
    if download and not has_metadata:
        raise ValueError("a download batch needs a manifest (EOL JSON, or a CSV with a URL column).")
    if not files and not uploads and not download:
        raise ValueError("a batch needs at least one photo file, folder or zip (or a manifest of URLs).")
    if csv_path is not None and not Path(csv_path).is_file():
        raise ValueError(f"{csv_path}: no such metadata file.")
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
        parameters = {"batch_id": batch.pk, "sources": sources, "csv": csv, "download": download}
        job = job_enqueue(kind=JobKind.IMPORT, parameters=parameters, created_by=user)
        batch.job = job
        batch.save(update_fields=["job"])
    return batch


# --- planning -----------------------------------------------------------------------------------------
@dataclass
class ImportPlan:
    """The batch expanded: items to import, entries refused up front, the parsed metadata file (if any), and
    the files a manifest names to download (each joins ``items`` or ``refused`` through ``add_download``)."""

    items: list[ImportItem]
    refused: list[dict[str, Any]]
    csv: CsvMetadata | None
    sources: list[dict[str, str]]
    downloads: list[PhotoDownload] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def add_download(self, download: PhotoDownload, outcome: dict[str, Any]) -> None:
        """A downloaded file becomes an item (tied to its manifest row); a refused or failed one is reported."""
        if outcome["status"] != "downloaded":
            self.refused.append({"name": download.url, "code": outcome["code"], "message": outcome["message"],
                                 "photo_id": download.photo_id, "csv_line": download.line})
            return
        self.sources.append({"path": download.path, "name": download.url})
        self.items.append(ImportItem(name=download.url, parts=(download.filename,), source=len(self.sources) - 1,
                                     size=int(outcome["size"]), csv_line=download.line))


def _read_csv_source(csv: dict[str, str]) -> tuple[bytes, str]:
    if "path" in csv:
        return Path(csv["path"]).read_bytes(), Path(csv["path"]).name
    with default_storage.open(csv["storage"], "rb") as fh:
        return fh.read(), csv.get("name") or Path(csv["storage"]).name


def batch_import_plan(*, batch: Batch, sources: list[dict[str, str]], csv: dict[str, str] | None,
                      download: bool = False) -> ImportPlan:
    """List the batch's files, parse its metadata file (given, or the one CSV found in a zip) and, for a
    manifest (``download``), list the files to download: every row no given file matches.

    Raises MetadataCsvError when the metadata file cannot be used at all: importing the photos without the
    metadata meant for them would make the fixed file useless later (re-imports are skipped as duplicates).
    """
    Batch.objects.filter(pk=batch.pk).update(status=BatchStatus.IMPORTING)
    listing = list_items(sources, max_bytes=settings.ASTROLOC_PHOTO_MAX_BYTES,
                         max_entries=settings.ASTROLOC_ZIP_MAX_ENTRIES)
    plan = ImportPlan(items=listing.items, refused=listing.refused, csv=None, sources=list(sources))
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
        plan.csv = parse_metadata_file(content, name=name, base_url=settings.ASTROLOC_EOL_IMAGE_BASE_URL)
        if plan.csv.unknown_columns:
            plan.warnings.append(f"{name}: unknown columns ignored: {', '.join(plan.csv.unknown_columns)}")
        if plan.csv.invalid_rows:
            plan.warnings.append(f"{name}: {len(plan.csv.invalid_rows)} rows could not be read (see csv.invalid_rows)")
    if download and plan.csv is not None:
        _plan_downloads(plan, batch)
    return plan


def _plan_downloads(plan: ImportPlan, batch: Batch) -> None:
    """The manifest rows no given file matches: a download each, or a refusal when the row names no file."""
    assert plan.csv is not None
    given = {plan.csv.find(filename=item.parts[-1], photo_ids=[filename_photo_id(item.parts)])
             for item in plan.items}
    planned: dict[str, int] = {}  # URL -> the line that downloads it
    for line, values in plan.csv.rows.items():
        if line in given:
            continue
        url = values.get("source_url")
        problem = None
        if not url:
            problem = ("no_url", "the row names no file to download: give a URL column, or EOL's images.directory "
                                 "and images.filename")
        elif url in planned:
            problem = ("duplicate_url", f"the same URL as line {planned[url]}; downloaded once, for that row")
        if problem:
            plan.refused.append({"name": f"{plan.csv.name} line {line}", "code": problem[0], "message": problem[1],
                                 "photo_id": values["photo_id"], "csv_line": line})
            continue
        planned[url] = line
        width, height = values.get("declared_width"), values.get("declared_height")
        plan.downloads.append(photo_download_plan(
            batch_id=batch.pk, line=line, url=url, photo_id=values["photo_id"],
            declared_pixels=width * height if width and height else None))


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
    missing: dict[str, list[str]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v not in ("", None, [], {})}


def _metadata_for(item: ImportItem, decoded: DecodedImage, plan: ImportPlan) -> tuple[MergedMetadata, int | None]:
    exif = exif_metadata(decoded.image)
    from_name = filename_photo_id(item.parts)
    filename_values = {"photo_id": from_name} if from_name else {}
    line = item.csv_line
    if line is None and plan.csv is not None:
        line = plan.csv.find(filename=item.parts[-1], photo_ids=[exif.get("photo_id"), from_name])
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
    outcome.missing = _missing(merged.values)
    outcome.warnings += _declared_size_warnings(merged.values, decoded)
    where = f"batch {batch.pk}, {plan.csv.name if plan.csv else 'CSV'} line {line}"
    for key, source, note in (
        ("ml_footprint", FootprintSource.NASA_ML, f"NASA mlcoord; centre {merged.values.get('ml_center')}; {where}"),
        ("footprint", FootprintSource.IMPORTED, where),
    ):
        if merged.values.get(key):
            try:
                footprint_add(photo=photo, corners=merged.values[key], source=source, note=note)
            except ValueError as exc:
                outcome.warnings.append(f"{source} footprint not imported: {exc}")
    return outcome


def _missing(values: dict[str, Any]) -> dict[str, list[str]]:
    """Per next step, what the photo's metadata lacks (empty when nothing is missing)."""
    present = {**values, "tilt": values.get("tilt_class") or values.get("tilt_deg")}
    out = {step: [label for key, label in needs.items() if present.get(key) is None] for step, needs in _NEEDED.items()}
    return {step: labels for step, labels in out.items() if labels}


def _declared_size_warnings(values: dict[str, Any], decoded: DecodedImage) -> list[str]:
    width, height = values.get("declared_width"), values.get("declared_height")
    if width and height and (width, height) != (decoded.width, decoded.height):
        return [f"the metadata declares {width} x {height} pixels, the file holds {decoded.width} x {decoded.height}"]
    return []


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
    photo.camera, photo.geographic_name = photo.camera[:64], photo.geographic_name[:128]
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
    """What the new photos need next: labeling (a center point), localization (none), nothing (a footprint
    of ours: an imported one; NASA's ``nasa_ml`` footprint alone still leaves the photo to label or localize).

    The jobs are enqueued (by name) only when ``ASTROLOC_QUEUE_AFTER_IMPORT`` is on: labeling and
    localization are other jobs' business, and their workers may not be deployed.
    """
    photos = Photo.objects.filter(pk__in=photo_pks)
    has_footprint = set(photos.filter(has_own_footprint()).values_list("pk", flat=True))
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
    """Write the batch report: every file's fate, metadata rows without a file, files without metadata, the
    columns read and ignored, what each photo lacks for labeling or localization, and ``attention``: every
    reason the batch is not a plain success (``summary.needs_attention``), so no loss passes silently."""
    matched_lines = {o["csv_line"] for o in [*outcomes, *plan.refused] if o.get("csv_line") is not None}
    files_without_metadata = [
        o["name"] for o in outcomes if o["status"] == "imported"
        and not set(o.get("metadata_sources", {}).values()) - {"filename"}
    ]
    imported = [o["photo_pk"] for o in outcomes if o["status"] == "imported"]
    rejected = [*plan.refused, *(o for o in outcomes if o["status"] == "rejected")]
    missing = {step: [o["photo_id"] for o in outcomes if step in o.get("missing", {})] for step in _NEEDED}
    attention: list[str] = []
    report: dict[str, Any] = {
        "summary": {
            "files": len(outcomes) + len(plan.refused),
            "imported": len(imported),
            "skipped": sum(o["status"] == "skipped" for o in outcomes),
            "rejected": len(rejected),
            "conflicts": sum(len(o.get("conflicts", [])) for o in outcomes),
            "downloaded": sum(1 for item in plan.items if item.csv_line is not None),
            "missing_for_labeling": len(missing["labeling"]),
            "missing_for_localization_prior": len(missing["localization_prior"]),
        },
        "files": [*outcomes, *({**r, "status": "rejected"} for r in plan.refused)],
        "files_without_metadata": files_without_metadata,
        "missing_metadata": missing,
        "warnings": plan.warnings,
        "attention": attention,
        "next_steps": photos_queue_next_steps(photo_pks=imported),
    }
    if rejected:
        attention.append(f"{len(rejected)} files rejected or not downloaded (see files)")
    if plan.csv is not None:
        unmatched = [{"line": line, "photo_id": values["photo_id"]}
                     for line, values in plan.csv.rows.items() if line not in matched_lines]
        report["csv"] = {**plan.csv.summary(), "unmatched_rows": unmatched}
        report["files_without_csv_row"] = [o["name"] for o in outcomes if o.get("csv_line") is None]
        if plan.csv.unknown_columns:
            attention.append(f"{plan.csv.name}: {len(plan.csv.unknown_columns)} columns not read, their data is not "
                             f"imported: {', '.join(plan.csv.unknown_columns)}")
        if plan.csv.invalid_rows:
            attention.append(f"{plan.csv.name}: {len(plan.csv.invalid_rows)} rows could not be read")
        if unmatched:
            attention.append(f"{plan.csv.name}: {len(unmatched)} rows matched no file")
    report["summary"]["needs_attention"] = bool(attention)
    Batch.objects.filter(pk=batch.pk).update(status=BatchStatus.IMPORTED, report=report)
    _remove_downloads(plan)
    return report


def _remove_downloads(plan: ImportPlan) -> None:
    """The downloaded files are copied into the archive by now (or reported): free the disk."""
    for download in plan.downloads:
        Path(download.path).unlink(missing_ok=True)


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
    photo_status_change(photo_pk=photo.pk, status=status, reason=reason)


def photo_mark_in_progress(*, photo: Photo, status: str = PhotoStatus.LOCALIZING) -> str:
    """A job started working on the photo (``labeling`` or ``localizing``), so the map, review and API show
    it is being processed; returns the status it had, for ``photo_status_restore`` if the work aborts.

    Every normal end sets a final status (``localized`` with a footprint, or ``photo_mark_unresolved``)."""
    if status not in IN_PROGRESS:
        raise ValueError(f"a photo in progress is {' or '.join(sorted(IN_PROGRESS))}, not {status!r}")
    previous = photo_status_change(photo_pk=photo.pk, status=status)
    return PhotoStatus.IMPORTED if previous is None or previous in IN_PROGRESS else previous


def photo_status_restore(*, photo: Photo, status: str) -> None:
    """Work on the photo aborted without an outcome: put back the status it had (never an in-progress one)."""
    if status in IN_PROGRESS:
        raise ValueError(f"cannot restore an in-progress status ({status!r})")
    photo_status_change(photo_pk=photo.pk, status=status, only_from=IN_PROGRESS)
