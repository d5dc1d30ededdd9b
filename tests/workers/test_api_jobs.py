"""API-started jobs run through the real worker: an uploaded batch imports, a staff ingest cuts tiles."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from apps.core.constants import JobStatus
from apps.core.models import Job
from apps.imagery.models import SatelliteTile
from apps.photos.models import Photo
from tests.factories import user_create
from tests.workers.test_job_runner import wait_final

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]


def _client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_uploaded_batch_is_imported_by_the_worker_as_the_uploader(celery_worker, real_samples):
    alice = user_create("alice")
    ids = ["ISS064-E-513", "ISS062-E-24032"]
    files = [SimpleUploadedFile(f"{mrf}.jpg", (real_samples / mrf / "photo.jpg").read_bytes()) for mrf in ids]
    files.append(SimpleUploadedFile("metadata.csv", (real_samples / "metadata.csv").read_bytes()))

    response = _client(alice).post("/api/v1/batches", {"files": files, "visibility": "private"},
                                   format="multipart")
    assert response.status_code == 201, response.content
    job = Job.objects.get(pk=response.json()["job"]["id"])
    wait_final(job, timeout=120)

    assert job.status == JobStatus.SUCCEEDED, job.error
    photos = Photo.objects.filter(photo_id__in=ids)
    assert sorted(photos.values_list("photo_id", flat=True)) == sorted(ids)
    assert {(p.owner_id, p.visibility) for p in photos} == {(alice.pk, "private")}
    center = Photo.objects.get(photo_id="ISS064-E-513").center_point
    assert (center.x, center.y) == (40.4, -10.3)  # CENTER_LON, CENTER_LAT of metadata.csv


def test_staff_ingest_job_through_the_api_cuts_tiles_and_users_may_not(celery_worker, synth_tiny):
    mosaic = sorted((synth_tiny / "mosaics").glob("*_3857.tif"))[0]
    body = {"kind": "ingest", "parameters": {"path": str(mosaic), "year": 2019, "zooms": [11], "size_px": 64}}

    assert _client(user_create()).post("/api/v1/jobs", body, format="json").status_code == 403
    response = _client(user_create(is_staff=True)).post("/api/v1/jobs", body, format="json")
    assert response.status_code == 201, response.content
    job = Job.objects.get(pk=response.json()["id"])
    wait_final(job, timeout=120)

    assert job.status == JobStatus.SUCCEEDED, job.error
    assert SatelliteTile.objects.filter(zoom=11, year=2019, size_px=64).count() > 0


def test_ingest_job_with_a_missing_file_is_a_clear_400(celery_worker):
    body = {"kind": "ingest", "parameters": {"path": "/nonexistent/mosaic.tif", "year": 2020}}
    response = _client(user_create(is_staff=True)).post("/api/v1/jobs", body, format="json")
    assert response.status_code == 400
    assert "/nonexistent/mosaic.tif: no such file" in response.json()["description"]
