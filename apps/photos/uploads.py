"""Batch upload from the web or the API: validate what arrived, then hand it to ``batch_create``.

A batch is photo files (with at most one metadata file: CSV or EOL JSON), or a manifest alone whose rows'
files the import job downloads (``apps.photos.downloads``), or both.

The import itself (metadata parsing, Photo rows, the report) is the ``import`` job's work; uploads go
through the same service as the command line, so both produce the same job parameters.
"""

import os
from collections.abc import Sequence
from dataclasses import dataclass

from django.core.files.uploadedfile import UploadedFile

from apps.core.models import Job
from apps.photos.constants import Visibility
from apps.photos.models import Batch
from apps.photos.services import batch_create

__all__ = ["ALLOWED_UPLOAD_EXTENSIONS", "MAX_FILES_PER_BATCH", "METADATA_EXTENSIONS", "BatchUpload", "batch_upload"]

ALLOWED_UPLOAD_EXTENSIONS = (".jpg", ".jpeg", ".png", ".tif", ".tiff", ".zip", ".csv", ".json")
METADATA_EXTENSIONS = (".csv", ".json")
MAX_FILES_PER_BATCH = 2000


@dataclass(frozen=True)
class BatchUpload:
    batch: Batch
    job: Job


def _is_csv(upload: UploadedFile) -> bool:
    """A metadata file (CSV or EOL JSON), not a photo."""
    return os.path.splitext(upload.name or "")[1].lower() in METADATA_EXTENSIONS


def batch_upload_validate(files: Sequence[UploadedFile], *, manifest: UploadedFile | None = None) -> None:
    """ValueError naming the first file that cannot be part of a batch."""
    if manifest is not None:
        if not _is_csv(manifest):
            raise ValueError(f"manifest {manifest.name!r}: give the EOL JSON (.json) or a CSV (.csv) with a URL "
                             "column or EOL images.directory + images.filename")
        if any(_is_csv(f) for f in files):
            raise ValueError("a manifest is the batch's metadata file: do not upload another CSV or JSON beside it")
    elif not files:
        raise ValueError("no files: upload photo files (JPEG/PNG/TIFF or a zip) and optionally a metadata CSV, "
                         "or a manifest alone")
    if len(files) > MAX_FILES_PER_BATCH:
        raise ValueError(f"{len(files)} files: a batch takes at most {MAX_FILES_PER_BATCH}; split the upload")
    for f in files:
        ext = os.path.splitext(f.name or "")[1].lower()
        if ext not in ALLOWED_UPLOAD_EXTENSIONS:
            raise ValueError(f"{f.name!r}: extension {ext or '(none)'} is not accepted; "
                             f"use {', '.join(ALLOWED_UPLOAD_EXTENSIONS)}")
    csvs = [f.name for f in files if _is_csv(f)]
    if files and len(csvs) == len(files):
        raise ValueError("only metadata files: a batch needs at least one photo file (or send the file as "
                         "`manifest` to download the photos it names)")
    if len(csvs) > 1:
        raise ValueError(f"{len(csvs)} metadata files ({', '.join(csvs)}): a batch takes one CSV or JSON")


def batch_upload(
    *, files: Sequence[UploadedFile] = (), manifest: UploadedFile | None = None, created_by, name: str = "",
    visibility: str = Visibility.PUBLIC,
) -> BatchUpload:
    """Create a Batch from uploaded files (one optional metadata file among them) and/or a ``manifest`` whose
    rows' files the job downloads, and enqueue its import."""
    batch_upload_validate(files, manifest=manifest)
    csv = manifest or next((f for f in files if _is_csv(f)), None)
    photos = [f for f in files if not _is_csv(f)]
    batch = batch_create(uploads=photos, csv_upload=csv, download=manifest is not None, name=name,
                         visibility=visibility, created_by=created_by)
    return BatchUpload(batch=batch, job=batch.job)
