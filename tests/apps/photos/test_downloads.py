"""Photos by URL, run in this process against a loopback archive: off by default, configured hosts only,
private addresses refused unless configured, pixel and byte limits, the API and the command take a manifest."""

import json
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from apps.core.jobrun import job_run_here
from apps.footprints.constants import FootprintSource
from apps.footprints.models import Footprint
from apps.photos.models import Batch, Photo
from apps.photos.services import batch_create
from tests.apps.photos.archive_server import Archive, archive_server, jpeg
from tests.factories import user_create

pytestmark = pytest.mark.django_db

EOL = Path(__file__).parent / "eol"
PATH_513 = "/DatabaseImages/ESC/large/ISS064/ISS064-E-513.JPG"
PATH_81917 = "/DatabaseImages/ESC/large/ISS062/ISS062-E-81917.JPG"


@pytest.fixture
def archive():
    with archive_server() as served:
        served.files[PATH_513] = jpeg(seed=1)
        served.files[PATH_81917] = jpeg(seed=2)
        yield served


@pytest.fixture
def loopback(settings, archive: Archive):
    """Downloads allowed from the test's server (loopback is private: allowed explicitly, as tests must)."""
    settings.ASTROLOC_FETCH_ALLOWED_HOSTS = ["127.0.0.1"]
    settings.ASTROLOC_FETCH_ALLOW_PRIVATE = True
    settings.ASTROLOC_EOL_IMAGE_BASE_URL = archive.url
    return settings


def _manifest(tmp_path: Path, rows: list[tuple[str, str]]) -> Path:
    path = tmp_path / "manifest.csv"
    path.write_text("MRF,URL\n" + "".join(f"{photo_id},{url}\n" for photo_id, url in rows))
    return path


def _run(manifest: Path, paths=()) -> Batch:
    batch = batch_create(paths=paths, csv_path=manifest, download=True)
    job = job_run_here(batch.job)
    assert job.status == "succeeded", job.error
    batch.refresh_from_db()
    return batch


def _refusals(batch: Batch) -> dict[str, dict]:
    return {e["photo_id"]: e for e in batch.report["files"] if e["status"] == "rejected"}


def test_eol_json_manifest_downloads_each_photo_with_its_metadata(loopback, archive):
    batch = _run(EOL / "photos_api.json")

    assert batch.report["summary"]["imported"] == 2 and batch.report["summary"]["downloaded"] == 2
    photo = Photo.objects.get(photo_id="ISS064-E-513")
    assert photo.image.read() == archive.files[PATH_513]  # stored untouched
    assert photo.source_url == archive.url + PATH_513 and photo.geographic_name == "TANZANIA"
    assert Footprint.objects.get(photo=photo).source == FootprintSource.NASA_ML
    assert archive.gets(PATH_513) == [""] and archive.gets(PATH_81917) == [""]  # one plain GET each
    assert not list(Path(loopback.MEDIA_ROOT, "batches", str(batch.pk), "downloads").glob("*"))  # cleaned up
    assert batch.job.progress == 1.0


def test_downloads_are_off_until_hosts_are_configured(settings, tmp_path, archive):
    assert settings.ASTROLOC_FETCH_ALLOWED_HOSTS == []
    batch = _run(_manifest(tmp_path, [("ISS064-E-513", archive.url + PATH_513)]))

    refused = _refusals(batch)["ISS064-E-513"]
    assert refused["code"] == "download_refused" and "fetching is off" in refused["message"]
    assert archive.requests == [] and not Photo.objects.exists()
    assert batch.report["summary"]["needs_attention"] is True


def test_private_address_is_refused_and_the_rest_of_the_batch_imports(settings, tmp_path, archive):
    settings.ASTROLOC_FETCH_ALLOWED_HOSTS = ["127.0.0.1"]  # allowed host, but a loopback address
    given = tmp_path / "ISS062-E-81917.JPG"
    given.write_bytes(jpeg(seed=3))
    manifest = _manifest(tmp_path, [("ISS064-E-513", archive.url + PATH_513), ("ISS062-E-81917", "")])

    batch = _run(manifest, paths=[given])

    refused = _refusals(batch)["ISS064-E-513"]
    assert refused["code"] == "download_refused"
    assert "private, loopback" in refused["message"] and "ASTROLOC_FETCH_ALLOW_PRIVATE" in refused["message"]
    assert archive.requests == []
    assert list(Photo.objects.values_list("photo_id", flat=True)) == ["ISS062-E-81917"]


def test_a_host_not_allowed_and_a_missing_file_are_reported_beside_the_good_download(loopback, tmp_path, archive):
    manifest = _manifest(tmp_path, [("ISS064-E-513", archive.url + PATH_513),
                                    ("ISS050-E-70536", "https://photos.example.org/ISS050-E-70536.JPG"),
                                    ("ISS054-E-21023", archive.url + "/missing.JPG")])
    batch = _run(manifest)

    refused = _refusals(batch)
    assert "'photos.example.org' is not allowed" in refused["ISS050-E-70536"]["message"]
    assert "HTTP 404" in refused["ISS054-E-21023"]["message"]
    assert list(Photo.objects.values_list("photo_id", flat=True)) == ["ISS064-E-513"]
    assert batch.report["summary"]["rejected"] == 2 and batch.report["csv"]["unmatched_rows"] == []


def test_a_photo_declared_above_the_pixel_limit_is_not_downloaded(loopback, archive):
    loopback.ASTROLOC_PHOTO_MAX_PIXELS = 64 * 48 - 1
    batch = _run(EOL / "photos_api.json")

    assert {e["code"] for e in _refusals(batch).values()} == {"too_many_pixels"}
    assert archive.requests == []


def test_a_file_above_the_byte_limit_is_cut_off(loopback, archive):
    loopback.ASTROLOC_PHOTO_MAX_BYTES = 200
    batch = _run(EOL / "photos_api.json")

    messages = [e["message"] for e in _refusals(batch).values()]
    assert len(messages) == 2 and all("exceed the limit of 200" in m for m in messages)


def test_api_accepts_a_manifest_without_photo_files(loopback, archive):
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(user_create())
    upload = SimpleUploadedFile("eol.json", (EOL / "photos_api.json").read_bytes(), content_type="application/json")
    response = api.post("/api/v1/batches", {"manifest": upload}, format="multipart")

    assert response.status_code == 201, response.content
    batch = Batch.objects.get(pk=response.json()["batch"]["id"])
    assert batch.job.parameters["download"] is True
    job_run_here(batch.job)
    assert Photo.objects.count() == 2

    empty = api.post("/api/v1/batches", {}, format="multipart")
    assert empty.status_code == 400 and "manifest" in json.dumps(empty.json())


def test_import_photos_command_takes_a_manifest(loopback, capsys):
    call_command("import_photos", "--manifest", str(EOL / "frames_pipe.csv"), "--in-process")

    assert Photo.objects.count() == 2
    assert "'downloaded': 2" in capsys.readouterr().out


def test_rows_without_a_url_or_repeating_one_are_reported_not_fetched_twice(loopback, tmp_path, archive):
    url = archive.url + PATH_513
    batch = _run(_manifest(tmp_path, [("ISS064-E-513", url), ("ISS062-E-81917", url), ("ISS050-E-70536", "")]))

    codes = {photo_id: e["code"] for photo_id, e in _refusals(batch).items()}
    assert codes == {"ISS062-E-81917": "duplicate_url", "ISS050-E-70536": "no_url"}
    assert archive.gets(PATH_513) == [""]
    assert list(Photo.objects.values_list("photo_id", flat=True)) == ["ISS064-E-513"]
