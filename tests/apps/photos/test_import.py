"""Photo batch import against the real database: real samples, a batch of good and bad files, metadata."""

import csv
import hashlib
import io
import shutil
import struct
import zipfile
import zlib
from pathlib import Path

import pytest
from django.conf import settings
from PIL import Image

from apps.core.constants import JobKind, JobStatus
from apps.core.jobrun import job_run_here
from apps.core.models import Job
from apps.footprints.constants import FootprintSource
from apps.footprints.models import Footprint
from apps.photos.constants import BatchStatus, PhotoStatus
from apps.photos.models import Batch, Photo
from apps.photos.services import batch_create

pytestmark = pytest.mark.django_db


def run_batch(paths, csv_path=None) -> tuple[Batch, Job]:
    batch = batch_create(paths=paths, csv_path=csv_path)
    job = job_run_here(batch.job)
    batch.refresh_from_db()
    return batch, job


def synth_photos(synth_tiny: Path) -> list[Path]:
    return sorted((synth_tiny / "photos").rglob("*.jpg"))


def test_real_samples_import_with_ids_centers_and_nadirs(real_samples):
    photos = sorted(real_samples.glob("*/photo.jpg"))
    assert len(photos) == 8
    rows = {r["MRF"]: r for r in csv.DictReader((real_samples / "metadata.csv").open())}

    batch, job = run_batch(photos, real_samples / "metadata.csv")

    assert job.status == JobStatus.SUCCEEDED, job.error
    assert batch.status == BatchStatus.IMPORTED
    assert batch.report["summary"]["imported"] == 8 and batch.report["summary"]["rejected"] == 0
    assert batch.report["csv"]["layout"] == "eol" and batch.report["csv"]["unmatched_rows"] == []
    assert set(Photo.objects.values_list("photo_id", flat=True)) == set(rows) == {p.parent.name for p in photos}
    for photo in Photo.objects.all():
        row = rows[photo.photo_id]
        assert (photo.center_point.x, photo.center_point.y) == (float(row["CENTER_LON"]), float(row["CENTER_LAT"]))
        assert (photo.nadir_point.x, photo.nadir_point.y) == (float(row["NADIR_LON"]), float(row["NADIR_LAT"]))
        assert photo.focal_length_mm == float(row["FOCAL_LENGTH_MM"])
        assert photo.tilt_deg == float(row["TILT_DEG"]) and photo.cloud_pct == float(row["CLOUD_PCT"])
        assert photo.status == PhotoStatus.IMPORTED and photo.mission == row["MISSION"]
        original = real_samples / photo.photo_id / "photo.jpg"
        assert photo.image.read() == original.read_bytes()  # stored untouched
        assert photo.checksum == hashlib.sha256(original.read_bytes()).hexdigest()
        assert (photo.width, photo.height) == (1024, 1024)
        assert max(Image.open(photo.web_image.path).size) <= settings.ASTROLOC_WEB_IMAGE_PX
        assert max(Image.open(photo.thumbnail.path).size) == settings.ASTROLOC_THUMBNAIL_PX
    assert sorted(batch.report["next_steps"]["label"]) == sorted(Photo.objects.values_list("pk", flat=True))
    assert batch.report["next_steps"]["enqueued_jobs"] == {}
    assert not Job.objects.filter(kind__in=[JobKind.LABEL, JobKind.LOCALIZE]).exists()


def _png_bomb(path: Path, side: int = 100_000) -> Path:
    """A PNG whose header claims side x side pixels, with a few bytes of data: refused from the header."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64))
                     + chunk(b"IEND", b""))
    return path


@pytest.fixture
def mixed_batch(synth_tiny, tmp_path):
    """Good synthetic photos (with EXIF) and one of every kind of bad file, plus a metadata CSV."""
    good = synth_photos(synth_tiny)[:3]
    folder = tmp_path / "upload"
    folder.mkdir()
    for p in good:
        shutil.copy(p, folder / p.name)
    truncated = folder / "ISS070-E-1001.jpg"
    truncated.write_bytes(good[0].read_bytes()[: len(good[0].read_bytes()) // 2])
    text = folder / "ISS070-E-1002.jpg"
    text.write_text("not an image at all")
    _png_bomb(folder / "ISS070-E-1003.png")
    same_bytes = folder / "ISS070-E-1004.jpg"
    shutil.copy(good[1], same_bytes)
    same_id = folder / "again" / good[2].name
    same_id.parent.mkdir()
    Image.open(good[2]).save(same_id, quality=60)
    noise = folder / "ISS070-E-1005.png"
    Image.effect_noise((900, 900), 80).convert("RGB").save(noise)
    tiff = folder / "ISS070-E-1006.tif"
    Image.new("RGB", (40, 30), (10, 200, 30)).save(tiff)
    no_id = folder / "holiday.jpg"
    Image.new("RGB", (20, 20)).save(no_id)
    archive = folder / "more.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(synth_photos(synth_tiny)[3], f"nested/{synth_photos(synth_tiny)[3].name}")
        zf.writestr("../ISS070-E-1007.jpg", good[0].read_bytes())
        zf.writestr("/abs/ISS070-E-1008.jpg", good[0].read_bytes())
    metadata = tmp_path / "metadata.csv"
    with metadata.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["MRF", "CENTER_LAT", "CENTER_LON", "NADIR_LAT", "NADIR_LON", "FOCAL_LENGTH_MM",
                         "SHUTTER_COLOUR"])
        writer.writerow([good[0].stem, "20.5", "30.5", "19.9", "29.4", "400", "blue"])
        writer.writerow(["ISS070-E-1006", "21.0", "31.0", "", "", "50", ""])
        writer.writerow(["ISS099-E-4242", "1.0", "2.0", "", "", "", ""])
        writer.writerow(["not-an-id", "1.0", "2.0", "", "", "", ""])
    return {"good": good, "folder": folder, "csv": metadata, "zip_good": synth_photos(synth_tiny)[3]}


def test_batch_with_good_and_bad_files_imports_exactly_the_good_ones(mixed_batch, settings):
    settings.ASTROLOC_PHOTO_MAX_BYTES = 1_000_000
    settings.ASTROLOC_PHOTO_MAX_PIXELS = 50_000_000

    batch, job = run_batch([mixed_batch["folder"]], mixed_batch["csv"])

    assert job.status == JobStatus.SUCCEEDED, job.error
    good_ids = {p.stem for p in mixed_batch["good"]} | {mixed_batch["zip_good"].stem, "ISS070-E-1006"}
    assert set(Photo.objects.values_list("photo_id", flat=True)) == good_ids
    report = batch.report
    entries = {e["name"].replace(str(mixed_batch["folder"]) + "/", ""): e for e in report["files"]}
    codes = {name: (e["status"], e.get("code", "")) for name, e in entries.items()}
    assert codes["ISS070-E-1001.jpg"] == ("rejected", "corrupt")
    assert codes["ISS070-E-1002.jpg"] == ("rejected", "not_an_image")
    assert codes["ISS070-E-1003.png"] == ("rejected", "too_many_pixels")
    assert codes["ISS070-E-1004.jpg"] == ("skipped", "duplicate_checksum")
    assert codes[f"again/{mixed_batch['good'][2].name}"] == ("skipped", "duplicate_id")
    assert codes["ISS070-E-1005.png"] == ("rejected", "oversize")
    assert codes["holiday.jpg"] == ("rejected", "no_photo_id")
    assert codes["more.zip!../ISS070-E-1007.jpg"] == ("rejected", "unsafe_zip_path")
    assert codes["more.zip!/abs/ISS070-E-1008.jpg"] == ("rejected", "unsafe_zip_path")
    assert codes[f"more.zip!nested/{mixed_batch['zip_good'].name}"] == ("imported", "")
    assert "10000000000" in entries["ISS070-E-1003.png"]["message"].replace(",", "")
    summary = report["summary"]
    assert {k: summary[k] for k in ("files", "imported", "skipped", "rejected", "downloaded")} == {
        "files": 14, "imported": 5, "skipped": 2, "rejected": 7, "downloaded": 0}
    assert summary["needs_attention"] is True  # rejected files, an unknown column, a bad row, an unmatched row
    assert any("SHUTTER_COLOUR" in a for a in report["attention"])
    assert report["csv"]["unmatched_rows"] == [{"line": 4, "photo_id": "ISS099-E-4242"}]
    assert report["csv"]["invalid_rows"][0]["line"] == 5
    assert any("SHUTTER_COLOUR" in w for w in report["warnings"])
    assert report["files_without_metadata"] == []  # the TIFF has a CSV row, the others EXIF
    tiff = Photo.objects.get(photo_id="ISS070-E-1006")
    assert tiff.image.name.endswith(".tif") and tiff.focal_length_mm == 50.0
    assert (tiff.center_point.x, tiff.center_point.y) == (31.0, 21.0)
    assert Photo.objects.filter(batch=batch).count() == 5
    # nothing stored for the refused files
    stored = {p.name for p in (Path(settings.MEDIA_ROOT) / "photos" / "original").iterdir()}
    assert not any(n.startswith(("ISS070-E-1001", "ISS070-E-1002", "ISS070-E-1003", "ISS070-E-1005")) for n in stored)


def test_csv_beats_exif_beats_filename_and_conflicts_are_reported(mixed_batch):
    batch, _ = run_batch(mixed_batch["good"][:1], mixed_batch["csv"])

    photo = Photo.objects.get()
    entry = batch.report["files"][0]
    assert photo.focal_length_mm == 400.0  # CSV, although EXIF says otherwise
    assert entry["metadata_sources"]["focal_length_mm"] == "csv"
    exif_model = Image.open(mixed_batch["good"][0]).getexif()[0x0110]
    assert entry["metadata_sources"]["camera"] == "exif" and photo.camera == exif_model
    assert entry["metadata_sources"]["captured_at"] == "exif" and photo.captured_at is not None
    conflict = next(c for c in entry["conflicts"] if c["field"] == "focal_length_mm")
    assert conflict["used"] == "csv" and conflict["value"] == 400.0 and conflict["exif"] != 400.0
    assert (photo.center_point.x, photo.center_point.y) == (30.5, 20.5)
    assert batch.report["files_without_csv_row"] == []


def test_files_without_metadata_are_listed(tmp_path):
    bare = tmp_path / "ISS071-E-77.png"
    Image.new("RGB", (32, 32), "white").save(bare)

    batch, _ = run_batch([bare])

    assert Photo.objects.get().photo_id == "ISS071-E-77"
    assert batch.report["files_without_metadata"] == [str(bare)]
    assert batch.report["next_steps"]["localize"] == [Photo.objects.get().pk]


def test_decompression_bomb_is_refused_without_decoding(tmp_path, monkeypatch):
    from PIL import ImageFile

    decoded = []
    real_load = ImageFile.ImageFile.load

    def spy(self):
        decoded.append(self.size)
        return real_load(self)

    monkeypatch.setattr(ImageFile.ImageFile, "load", spy)
    bomb = _png_bomb(tmp_path / "ISS070-E-9.png", side=60_000)

    batch, _ = run_batch([bomb])

    assert batch.report["files"][0]["code"] == "too_many_pixels"
    assert (60_000, 60_000) not in decoded
    assert not Photo.objects.exists()


def test_reimporting_the_same_input_changes_nothing(synth_tiny):
    files = synth_photos(synth_tiny)
    first, _ = run_batch(files, synth_tiny / "metadata" / "eol.csv")
    assert first.report["summary"]["imported"] == len(files)
    before = sorted(Photo.objects.values_list("pk", "photo_id", "checksum", "image"))

    second, job = run_batch(files, synth_tiny / "metadata" / "eol.csv")

    assert job.status == JobStatus.SUCCEEDED
    assert second.report["summary"]["imported"] == 0
    assert second.report["summary"]["skipped"] == len(files)
    assert {e["code"] for e in second.report["files"]} == {"duplicate_checksum"}
    assert sorted(Photo.objects.values_list("pk", "photo_id", "checksum", "image")) == before


def test_earthloc_csv_imports_footprints(synth_tiny):
    files = synth_photos(synth_tiny)
    rows = list(csv.DictReader((synth_tiny / "truth" / "footprints_earthloc.csv").open()))

    batch, _ = run_batch(files, synth_tiny / "truth" / "footprints_earthloc.csv")

    assert batch.report["csv"]["layout"] == "earthloc"
    assert Footprint.objects.count() == len(rows) == Photo.objects.count()
    for row in rows:
        footprint = Footprint.objects.get(photo__photo_id=f"{row['MISSION']}-{row['ROLL']}-{row['FRAME']}")
        assert footprint.source == FootprintSource.IMPORTED and footprint.is_current
        corners = footprint.polygon.exterior_ring.coords[:4]
        assert corners[0] == pytest.approx((float(row["UL_LON"]), float(row["UL_LAT"])))
        assert corners[2] == pytest.approx((float(row["LR_LON"]), float(row["LR_LAT"])))
        photo = footprint.photo
        assert (photo.nadir_point.x, photo.nadir_point.y) == (float(row["NADIR_LON"]), float(row["NADIR_LAT"]))
    steps = batch.report["next_steps"]
    assert steps["label"] == [] and steps["localize"] == [] and len(steps["has_footprint"]) == len(rows)


def test_next_steps_are_enqueued_only_when_enabled(synth_tiny, settings):
    settings.ASTROLOC_QUEUE_AFTER_IMPORT = True

    batch, _ = run_batch(synth_photos(synth_tiny), synth_tiny / "metadata" / "eol.csv")

    steps = batch.report["next_steps"]
    with_center = set(Photo.objects.filter(center_point__isnull=False).values_list("pk", flat=True))
    assert set(steps["label"]) == with_center and with_center
    assert set(steps["localize"]) == set(Photo.objects.values_list("pk", flat=True)) - with_center
    label_job = Job.objects.get(kind=JobKind.LABEL)
    assert label_job.parameters == {"photo_ids": steps["label"]}
    assert steps["enqueued_jobs"]["label"] == label_job.pk


def test_unusable_csv_fails_the_batch_and_imports_nothing(synth_tiny, tmp_path):
    bad = tmp_path / "meta.csv"
    bad.write_text("NAME,WHEN\nfoo,bar\n")

    batch, job = run_batch(synth_photos(synth_tiny), bad)

    assert job.status == JobStatus.FAILED
    assert "no photo ID column" in job.error.splitlines()[0]
    assert batch.status == BatchStatus.FAILED and "no photo ID column" in batch.report["error"]
    assert not Photo.objects.exists()


def test_zip_with_csv_inside(synth_tiny, tmp_path):
    archive = tmp_path / "batch.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for p in synth_photos(synth_tiny):
            zf.write(p, p.name)
        zf.write(synth_tiny / "metadata" / "eol.csv", "eol.csv")

    batch, _ = run_batch([archive])

    assert batch.report["summary"]["imported"] == len(synth_photos(synth_tiny))
    assert batch.report["csv"]["name"] == "eol.csv" and batch.report["csv"]["unmatched_rows"] == []
    assert Photo.objects.exclude(center_point=None).exists()


def test_import_photos_command(real_samples, capsys):
    from django.core.management import call_command

    call_command("import_photos", *map(str, sorted(real_samples.glob("*/photo.jpg"))),
                 "--csv", str(real_samples / "metadata.csv"), "--in-process")

    assert Photo.objects.count() == 8
    assert "'imported': 8" in capsys.readouterr().out


def test_in_memory_upload_batch(synth_tiny):
    from django.core.files.uploadedfile import SimpleUploadedFile

    photo = synth_photos(synth_tiny)[0]
    upload = SimpleUploadedFile(photo.name, photo.read_bytes(), content_type="image/jpeg")
    csv_upload = SimpleUploadedFile("m.csv", (synth_tiny / "metadata" / "eol.csv").read_bytes())

    batch = batch_create(uploads=[upload], csv_upload=csv_upload)
    job_run_here(batch.job)
    batch.refresh_from_db()

    assert batch.report["summary"]["imported"] == 1
    assert Photo.objects.get().photo_id == photo.stem
    assert io.BytesIO(Photo.objects.get().image.read()).getvalue() == photo.read_bytes()
