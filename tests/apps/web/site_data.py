"""A small populated archive for the page-quality browser tests and the screenshots.

Two imagery years of the synthetic Earth's ``tiny`` preset ingested as the basemap, its photos (web image and
thumbnail from the generated JPEGs) with their true footprints from several sources and confidences, one
rejected footprint in a history, a photo that needs review, a finished import batch with its report and jobs
in every state. Everything goes through the services where one exists, otherwise through plain rows.
"""

import io
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from django.core.files.base import ContentFile
from PIL import Image

from apps.core.constants import JobKind, JobStatus
from apps.core.jobrun import job_run_here
from apps.core.models import Job
from apps.footprints.constants import FootprintSource
from apps.footprints.services import footprint_add, footprint_manual_record, footprint_reject
from apps.imagery.services import TilingParameters, mosaic_ingest
from apps.photos.constants import BatchStatus, PhotoStatus
from apps.photos.models import Batch, Photo
from tests.factories import photo_create, user_create

PASSWORD = "pw-for-tests-1"


@dataclass
class Site:
    staff: object
    photo_ids: list[str]
    detail_id: str  # a localized photo with a rejected footprint in its history
    review_id: str  # a photo with a low-confidence current footprint, in the review queue
    batch_pk: int
    job_pk: int
    running_job_pk: int
    centre: tuple[float, float]  # (lat, lon) of the photos, for the map's URL


def _jpeg(path: Path, longest: int) -> bytes:
    image = Image.open(path).convert("RGB")
    image.thumbnail((longest, longest))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return out.getvalue()


def populate(synth_dir: Path, *, n_photos: int = 8) -> Site:
    """Fill the test database; returns what the tests navigate to."""
    for year, name in ((2019, "2019_3857.tif"), (2021, "2021_3857.tif")):
        request = mosaic_ingest(path=synth_dir / "mosaics" / name, year=year,
                                tiling=TilingParameters(zooms=(10, 11), span=4, size_px=256, format="png"))
        job_run_here(request.job)
    staff = user_create("archivist", is_staff=True)
    truth = json.loads((synth_dir / "truth" / "photos.json").read_text())[:n_photos]
    sources = [FootprintSource.RETRIEVAL, FootprintSource.AUTO_LABEL, FootprintSource.IMPORTED, FootprintSource.MANUAL]
    confidences = [0.93, 0.71, 0.35, None]
    ids = []
    for i, row in enumerate(truth):
        photo = photo_create(row["photo_id"], captured_at=datetime(2020, 7, 1, tzinfo=UTC) + timedelta(days=17 * i),
                             feature_text=f"Synthetic desert scene {i + 1}", cloud_pct=float(5 * i),
                             tilt_class="NV", camera="NIKON D5", altitude_km=418.0, owner=staff,
                             status=PhotoStatus.LOCALIZED)
        source = synth_dir / row["path"]
        photo.web_image.save(f"{row['photo_id']}-web.jpg", ContentFile(_jpeg(source, 800)), save=False)
        photo.thumbnail.save(f"{row['photo_id']}-thumb.jpg", ContentFile(_jpeg(source, 256)), save=False)
        with Image.open(source) as img:
            photo.width, photo.height = img.size
        photo.save()
        corners = [tuple(c) for c in row["footprint"]]
        if sources[i % 4] == FootprintSource.MANUAL:
            footprint_manual_record(photo=photo, corners=corners, reviewer=staff, note="edited: corner moved")
        else:
            footprint_add(photo=photo, corners=corners, source=sources[i % 4], confidence=confidences[i % 4],
                          inliers=40 + 10 * i if confidences[i % 4] else None)
        ids.append(row["photo_id"])

    detail = Photo.objects.get(photo_id=ids[0])
    shifted = [(lon + 0.3, lat - 0.2) for lon, lat in truth[0]["footprint"]]
    wrong = footprint_add(photo=detail, corners=shifted, source=FootprintSource.RETRIEVAL, confidence=0.42)
    footprint_reject(footprint=wrong, reviewer=staff, note="matched the wrong dune field")
    footprint_manual_record(photo=detail, corners=[tuple(c) for c in truth[0]["footprint"]], reviewer=staff,
                            note="edited: redrawn after rejection")
    photo_create("ISS071-E-9001", status=PhotoStatus.NEEDS_REVIEW, owner=staff,
                 status_reason="No tile verified above the inlier threshold (best: 12 inliers).")

    now = datetime.now(UTC)
    batch = Batch.objects.create(name="July downlink", created_by=staff, status=BatchStatus.IMPORTED, report={
        "summary": {"files": 4, "imported": 2, "skipped": 1, "rejected": 1, "conflicts": 0},
        "files": [
            {"name": f"{ids[1]}.jpg", "status": "imported", "photo_id": ids[1]},
            {"name": f"{ids[2]}.jpg", "status": "imported", "photo_id": ids[2]},
            {"name": f"{ids[1]} copy.jpg", "status": "skipped", "photo_id": ids[1],
             "message": "same bytes as an imported photo", "code": "duplicate"},
            {"name": "notes.txt", "status": "rejected", "message": "not a JPEG, PNG or TIFF image",
             "code": "unsupported"},
        ],
    })
    job = Job.objects.create(kind=JobKind.IMPORT, status=JobStatus.SUCCEEDED, progress=1.0, created_by=staff,
                             progress_message="4 files: 2 imported, 1 duplicate, 1 rejected",
                             parameters={"batch_id": batch.pk}, result={"imported": 2, "skipped": 1, "rejected": 1},
                             started_at=now - timedelta(seconds=40), finished_at=now - timedelta(seconds=31),
                             attempts=1, worker="cpu@test")
    label = Job.objects.create(kind=JobKind.LABEL, status=JobStatus.SUCCEEDED, progress=1.0, created_by=staff,
                               progress_message="2 of 2 photos labeled", parameters={"photo_ids": [ids[1], ids[2]]},
                               started_at=now - timedelta(seconds=30), finished_at=now - timedelta(seconds=12))
    batch.job = job
    batch.report["next_steps"] = {"label": [ids[1], ids[2]], "localize": [], "enqueued_jobs": {"label": label.pk}}
    batch.save(update_fields=["job", "report"])
    Job.objects.create(kind=JobKind.LOCALIZE, status=JobStatus.FAILED, progress=0.25, created_by=staff,
                       parameters={"photo_ids": [ids[3]]}, error="No active model version: train one first.",
                       started_at=now - timedelta(minutes=5), finished_at=now - timedelta(minutes=4), attempts=1)
    running = Job.objects.create(kind=JobKind.EMBED, status=JobStatus.RUNNING, progress=0.4, created_by=staff,
                                 progress_message="tiles 410 of 1,024", parameters={"model_version_id": 1},
                                 started_at=now - timedelta(minutes=1), attempts=1, worker="gpu0@test")
    return Site(staff=staff, photo_ids=ids, detail_id=ids[0], review_id=ids[2], batch_pk=batch.pk, job_pk=job.pk,
                running_job_pk=running.pk, centre=(20.7, 30.5))
