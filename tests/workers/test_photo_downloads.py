"""Photos by URL in a real Celery worker: a manifest's files are downloaded by the import job, and a worker
killed in the middle of a download leaves a job that resumes: finished files are not fetched again, the
partial one continues where it stopped (a Range request)."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings

from apps.core.constants import JOB_KIND_QUEUE, JobKind, JobStatus
from apps.core.services import job_recover_stale
from apps.photos.models import Photo
from apps.photos.services import batch_create
from tests.apps.photos.archive_server import archive_server, jpeg
from tests.workers.fault_helpers import wait_until
from tests.workers.test_job_runner import wait_final

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]

QUEUE = "test-photo-downloads"  # served only by this module's workers
#: The worker's fetch policy: the test's loopback server only (the defaults refuse it twice: no host, private).
FETCH_ENV = {"ASTROLOC_FETCH_ALLOWED_HOSTS": "127.0.0.1", "ASTROLOC_FETCH_ALLOW_PRIVATE": "1"}
SMALL, BIG = "/a/ISS064-E-513.JPG", "/b/ISS062-E-81917.JPG"


@pytest.fixture
def archive(monkeypatch):
    monkeypatch.setitem(JOB_KIND_QUEUE, JobKind.IMPORT, QUEUE)
    with archive_server() as served:
        served.files[SMALL] = jpeg(seed=1)
        served.files[BIG] = jpeg(512, 512, seed=2, noise=True)  # ~0.5 MB: several 64 kB reads
        yield served


def _manifest(tmp_path: Path, url: str) -> Path:
    path = tmp_path / "manifest.csv"
    path.write_text(f"MRF,URL,CLDP\nISS064-E-513,{url}{SMALL},10\nISS062-E-81917,{url}{BIG},20\n"
                    f"ISS050-E-70536,https://photos.example.org/ISS050-E-70536.JPG,30\n")
    return path


def test_a_worker_downloads_the_manifest_and_reports_the_refused_host(worker_factory, archive, tmp_path):
    worker_factory("downloader", QUEUE, env=FETCH_ENV)
    batch = batch_create(csv_path=_manifest(tmp_path, archive.url), download=True)

    wait_final(batch.job, timeout=120)

    job = batch.job
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.result["downloaded"] == 2 and job.result["rejected"] == 1 and job.progress == 1.0
    batch.refresh_from_db()
    refused = [e for e in batch.report["files"] if e["status"] == "rejected"]
    assert [e["photo_id"] for e in refused] == ["ISS050-E-70536"]
    assert "ASTROLOC_FETCH_ALLOWED_HOSTS" in refused[0]["message"]
    for photo_id, path in (("ISS064-E-513", SMALL), ("ISS062-E-81917", BIG)):
        photo = Photo.objects.get(photo_id=photo_id)
        assert photo.image.read() == archive.files[path] and photo.source_url == archive.url + path


@pytest.mark.slow
def test_a_killed_worker_resumes_the_download_where_it_stopped(worker_factory, archive, tmp_path):
    archive.stall.add(BIG)  # the first GET of the big file sends half of it, then hangs
    doomed = worker_factory("doomed", QUEUE, env=FETCH_ENV)
    batch = batch_create(csv_path=_manifest(tmp_path, archive.url), download=True)
    job = batch.job
    downloads = Path(settings.MEDIA_ROOT) / "batches" / str(batch.pk) / "downloads"

    def midway() -> bool:
        job.refresh_from_db()
        parts = list(downloads.glob("*.part"))
        return SMALL in "".join(job.result.get("downloads", {})) and bool(parts) and parts[0].stat().st_size > 0

    wait_until(midway, "the small file recorded and the big one partly on disk", timeout=120)
    doomed.kill()
    job.refresh_from_db()
    part_size = next(downloads.glob("*.part")).stat().st_size
    assert job.status == JobStatus.RUNNING and 0 < part_size < len(archive.files[BIG])

    worker_factory("rescuer", QUEUE, env=FETCH_ENV)
    assert job_recover_stale(stale_after=timedelta(seconds=0)) == [job.pk]
    wait_final(job, timeout=120)

    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.attempts == 2
    assert archive.gets(SMALL) == [""]  # downloaded once, before the crash
    assert archive.gets(BIG) == ["", f"bytes={part_size}-"]  # resumed after the bytes already on disk
    for photo_id, path in (("ISS064-E-513", SMALL), ("ISS062-E-81917", BIG)):
        assert Photo.objects.get(photo_id=photo_id).image.read() == archive.files[path]
