"""NASA EOL metadata: the Photos Database API's JSON and CSV exports in all three spellings import every mapped
field; ``mlcoord`` becomes a ``nasa_ml`` footprint; the report says what was read, ignored and missing."""

from datetime import UTC, datetime
from pathlib import Path

import pytest
from PIL import Image

from apps.core.jobrun import job_run_here
from apps.footprints.constants import FootprintSource
from apps.footprints.models import Footprint
from apps.photos.metadata import parse_metadata_file
from apps.photos.models import Batch, Photo
from apps.photos.services import batch_create

pytestmark = pytest.mark.django_db

EOL = Path(__file__).parent / "eol"
SPELLINGS = ["photos_api.json", "frames_dot.csv", "frames_pipe.csv", "bare_upper.csv"]
BASE = "https://eol.jsc.nasa.gov"

# What every spelling must put on the photos (from the fixtures' values).
EXPECTED = {
    "ISS064-E-513": {
        "captured_at": datetime(2020, 10, 21, 10, 11, 12, tzinfo=UTC), "center": (40.4, -10.3),
        "nadir": (43.3, -11.3), "center_uncertainty_km": 111.0, "altitude_km": 227 * 1.852, "tilt_class": "LO",
        "tilt_deg": None, "focal_length_mm": 1150.0, "cloud_pct": 10.0, "sun_azimuth_deg": 112.0,
        "sun_elevation_deg": 54.0, "camera": "N5", "geographic_name": "TANZANIA",
        "feature_text": "RUFIJI RIVER DELTA",
        "source_url": f"{BASE}/DatabaseImages/ESC/large/ISS064/ISS064-E-513.JPG",
    },
    "ISS062-E-81917": {
        "captured_at": datetime(2020, 3, 16, 8, 30, 5, tzinfo=UTC), "center": (-70.6, -33.4),
        "nadir": (-72.1, -31.9), "center_uncertainty_km": 111.0, "altitude_km": 225 * 1.852, "tilt_class": "",
        "tilt_deg": 25.0, "focal_length_mm": 400.0, "cloud_pct": 0.0, "sun_azimuth_deg": 71.0,
        "sun_elevation_deg": 38.0, "camera": "N5", "geographic_name": "CHILE", "feature_text": "SANTIAGO",
        "source_url": f"{BASE}/DatabaseImages/ESC/large/ISS062/ISS062-E-81917.JPG",
    },
}
ML_CORNERS = [(40.1, -10.0), (40.7, -10.0), (40.7, -10.6), (40.1, -10.6)]


def _photo_files(folder: Path) -> list[Path]:
    """The two photos as 64 x 48 JPEGs named as EOL names them (images.filename)."""
    paths = []
    for i, name in enumerate(["ISS064-E-513.JPG", "ISS062-E-81917.JPG"]):
        path = folder / name
        Image.new("RGB", (64, 48), (40 + 80 * i, 90, 140)).save(path, "JPEG")
        paths.append(path)
    return paths


def _import(tmp_path: Path, metadata: Path) -> Batch:
    batch = batch_create(paths=_photo_files(tmp_path), csv_path=metadata)
    job = job_run_here(batch.job)
    assert job.status == "succeeded", job.error
    batch.refresh_from_db()
    return batch


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_every_spelling_imports_every_mapped_field(tmp_path, settings, spelling):
    settings.ASTROLOC_EOL_IMAGE_BASE_URL = BASE
    batch = _import(tmp_path, EOL / spelling)

    assert batch.report["summary"]["imported"] == 2
    assert batch.report["csv"]["ignored_columns"] == [] and batch.report["csv"]["unmatched_rows"] == []
    assert batch.report["summary"]["needs_attention"] is False, batch.report["attention"]
    for photo_id, expected in EXPECTED.items():
        photo = Photo.objects.get(photo_id=photo_id)
        got = {name: getattr(photo, name) for name in expected if name not in ("center", "nadir")}
        got["center"] = (photo.center_point.x, photo.center_point.y)
        got["nadir"] = (photo.nadir_point.x, photo.nadir_point.y)
        got["altitude_km"] = pytest.approx(expected["altitude_km"], abs=1e-3) if got["altitude_km"] else None
        assert got == expected, photo_id
        assert (photo.width, photo.height) == (64, 48)


@pytest.mark.parametrize("spelling", ["photos_api.json", "frames_dot.csv", "frames_pipe.csv"])
def test_mlcoord_becomes_a_nasa_ml_footprint_that_leaves_the_photo_to_label(tmp_path, spelling):
    batch = _import(tmp_path, EOL / spelling)

    footprint = Footprint.objects.get(photo__photo_id="ISS064-E-513")
    assert footprint.source == FootprintSource.NASA_ML and footprint.is_current  # the photo's only footprint
    assert [tuple(round(v, 6) for v in c) for c in footprint.polygon.coords[0][:4]] == ML_CORNERS
    assert "(40.42, -10.31)" in footprint.note  # NASA's mlcoord centre
    assert not Footprint.objects.filter(photo__photo_id="ISS062-E-81917").exists()  # nulls: no footprint
    both = sorted(Photo.objects.values_list("pk", flat=True))
    assert sorted(batch.report["next_steps"]["label"]) == both  # nasa_ml is not ours: both still need labeling
    assert batch.report["next_steps"]["has_footprint"] == []


def test_report_names_the_columns_read_and_what_each_photo_lacks(tmp_path):
    metadata = tmp_path / "export.csv"
    metadata.write_text("MISSION,ROLL,FRAME,PDATE,LAT,LON,SHUTTER,FCLT\n"
                        "ISS064,E,513,20201021,-10.3,40.4,1/500,1150\n"
                        "ISS062,E,81917,20200316,,,1/250,400\n")
    (tmp_path / "photos").mkdir()

    batch = batch_create(paths=_photo_files(tmp_path / "photos"), csv_path=metadata)
    job_run_here(batch.job)
    batch.refresh_from_db()
    report = batch.report

    assert report["csv"]["columns_read"] == {"MISSION": "mission", "ROLL": "roll", "FRAME": "frame", "PDATE": "date",
                                             "LAT": "center_lat", "LON": "center_lon", "FCLT": "focal_length_mm"}
    assert report["csv"]["ignored_columns"] == ["SHUTTER"]
    # A column set that loses data is never a plain success.
    assert report["summary"]["needs_attention"] is True
    assert any("SHUTTER" in reason for reason in report["attention"])
    missing = {e["photo_id"]: e["missing"] for e in report["files"]}
    assert missing["ISS064-E-513"] == {"localization_prior": ["nadir point", "altitude", "tilt (class or degrees)"]}
    assert missing["ISS062-E-81917"] == {"labeling": ["center point"],
                                         "localization_prior": ["nadir point", "altitude", "tilt (class or degrees)"]}
    assert report["missing_metadata"]["labeling"] == ["ISS062-E-81917"]
    assert report["summary"]["missing_for_labeling"] == 1 and report["summary"]["missing_for_localization_prior"] == 2


def test_json_that_is_not_a_record_list_is_refused_with_what_to_fix():
    from apps.photos.metadata import MetadataCsvError

    with pytest.raises(MetadataCsvError, match="list of records"):
        parse_metadata_file(b'{"a": 1}', name="eol.json")
    with pytest.raises(MetadataCsvError, match="not valid JSON"):
        parse_metadata_file(b"[{", name="eol.json")
    with pytest.raises(MetadataCsvError, match=r"frames\.mission"):
        parse_metadata_file(b'[{"frames.lat": "1"}]', name="eol.json")


def test_tilt_is_a_class_or_degrees_and_nothing_else():
    parsed = parse_metadata_file(b"MRF,TILT\nISS064-E-1,HO\nISS064-E-2,45.5\nISS064-E-3,sideways\n", name="t.csv")
    assert parsed.rows[2]["tilt_class"] == "HO" and parsed.rows[3]["tilt_deg"] == 45.5
    assert parsed.invalid_rows == [{"line": 4, "error": "TILT='sideways' is not NV, LO, HO or an angle in degrees"}]
