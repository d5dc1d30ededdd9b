"""Batch upload: store the uploaded files under ``batches/<batch_id>/`` and enqueue the import job.

The import itself (metadata parsing, Photo rows, the report) is the ``import`` job's work
(``jobs.import`` with parameters ``{"batch_id": N}``); this only records what arrived.
"""

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass

from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from apps.core.constants import JobKind
from apps.core.models import Job
from apps.core.services import job_enqueue
from apps.photos.constants import Visibility
from apps.photos.models import Batch

__all__ = ["ALLOWED_UPLOAD_EXTENSIONS", "MAX_FILES_PER_BATCH", "BatchUpload", "batch_upload"]

ALLOWED_UPLOAD_EXTENSIONS = (".jpg", ".jpeg", ".png", ".tif", ".tiff", ".csv")
MAX_FILES_PER_BATCH = 2000


@dataclass(frozen=True)
class BatchUpload:
    batch: Batch
    job: Job
    stored: list[str]


def _safe_name(name: str) -> str:
    base = os.path.basename(name.replace("\\", "/"))
    base = re.sub(r"[^A-Za-z0-9._-]+", "_", base).strip("._") or "file"
    return base[:200]


def batch_upload_validate(files: Sequence[UploadedFile]) -> None:
    """ValueError naming the first file that cannot be part of a batch."""
    if not files:
        raise ValueError("no files: upload photo files (JPEG/PNG/TIFF) and optionally a metadata CSV")
    if len(files) > MAX_FILES_PER_BATCH:
        raise ValueError(f"{len(files)} files: a batch takes at most {MAX_FILES_PER_BATCH}; split the upload")
    for f in files:
        ext = os.path.splitext(f.name or "")[1].lower()
        if ext not in ALLOWED_UPLOAD_EXTENSIONS:
            raise ValueError(f"{f.name!r}: extension {ext or '(none)'} is not accepted; "
                             f"use {', '.join(ALLOWED_UPLOAD_EXTENSIONS)}")
    if all(os.path.splitext(f.name)[1].lower() == ".csv" for f in files):
        raise ValueError("only CSV files: a batch needs at least one photo file")


def batch_upload(
    *, files: Sequence[UploadedFile], created_by, name: str = "", visibility: str = Visibility.PUBLIC
) -> BatchUpload:
    """Create a Batch, store its files, and enqueue ``import`` (sent after commit)."""
    batch_upload_validate(files)
    with transaction.atomic():
        batch = Batch.objects.create(name=name, created_by=created_by, visibility=visibility)
        stored = []
        for f in files:
            stored.append(default_storage.save(f"batches/{batch.pk}/{_safe_name(f.name)}", f))
        batch.report = {"uploaded": [os.path.basename(p) for p in stored]}
        batch.save(update_fields=["report"])
        job = job_enqueue(kind=JobKind.IMPORT, parameters={"batch_id": batch.pk}, created_by=created_by)
    return BatchUpload(batch=batch, job=job, stored=stored)
