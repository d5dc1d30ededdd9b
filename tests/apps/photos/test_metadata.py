"""Metadata parsing: photo IDs in names, both CSV layouts, EXIF vs CSV precedence."""

from datetime import UTC, datetime

import pytest

from apps.photos.metadata import (
    MetadataCsvError,
    filename_photo_id,
    merge_metadata,
    normalize_photo_id,
    parse_metadata_csv,
)


@pytest.mark.parametrize("text,expected", [
    ("ISS064-E-513", "ISS064-E-513"),
    ("iss064e000513", "ISS064-E-513"),
    ("ISS047-E-055412", "ISS047-E-55412"),
    ("STS088-724-38", "STS088-724-38"),
    ("photo", None),
    ("ISS064", None),
])
def test_normalize_photo_id(text, expected):
    assert normalize_photo_id(text) == expected


def test_filename_id_from_name_then_parent_folder():
    assert filename_photo_id(("x", "ISS064-E-513.JPG")) == "ISS064-E-513"
    assert filename_photo_id(("ISS050-E-70536", "photo.jpg")) == "ISS050-E-70536"
    assert filename_photo_id(("scan_ISS064-E-513_large.jpg",)) == "ISS064-E-513"
    assert filename_photo_id(("holiday", "beach.jpg")) is None


def test_eol_csv_swaps_lat_lon_into_lon_lat():
    parsed = parse_metadata_csv(
        b"MRF,CENTER_LAT,CENTER_LON,NADIR_LAT,NADIR_LON,DATE,TIME,TILT\n"
        b"ISS064-E-513,-10.3,40.4,-11.3,43.3,20201020,101112,LO\n", name="m.csv")
    values = parsed.rows[parsed.by_id["ISS064-E-513"]]
    assert values["center"] == (40.4, -10.3) and values["nadir"] == (43.3, -11.3)
    assert values["captured_at"] == datetime(2020, 10, 20, 10, 11, 12, tzinfo=UTC)
    assert values["tilt_class"] == "LO" and parsed.layout == "eol"


def test_bad_rows_are_listed_not_fatal():
    parsed = parse_metadata_csv(
        b"MRF,CENTER_LAT,CENTER_LON\nISS064-E-1,95,10\nISS064-E-2,10,\nISS064-E-3,1,2\nISS064-E-3,1,2\n",
        name="m.csv")
    assert list(parsed.by_id) == ["ISS064-E-3"]
    errors = {r["line"]: r["error"] for r in parsed.invalid_rows}
    assert "outside" in errors[2] and "both" in errors[3] and "repeats line 4" in errors[5]


def test_csv_without_id_column_is_refused():
    with pytest.raises(MetadataCsvError, match="no photo ID column"):
        parse_metadata_csv(b"A,B\n1,2\n", name="m.csv")
    with pytest.raises(MetadataCsvError, match="not UTF-8"):
        parse_metadata_csv(b"MRF\n\xff\xfe\xfa\n", name="m.csv")


def test_date_only_csv_agrees_with_exif_time_on_the_same_day():
    exif_time = datetime(2020, 1, 2, 3, 4, 5, tzinfo=UTC)
    same = merge_metadata({"captured_at": datetime(2020, 1, 2, tzinfo=UTC), "date_only": True},
                          {"captured_at": exif_time}, {})
    assert same.values["captured_at"] == exif_time and same.conflicts == []
    other = merge_metadata({"captured_at": datetime(2020, 1, 9, tzinfo=UTC), "date_only": True},
                           {"captured_at": exif_time}, {})
    assert other.values["captured_at"].day == 9 and other.conflicts[0]["field"] == "captured_at"


def test_id_conflict_between_exif_and_filename_uses_exif():
    merged = merge_metadata({}, {"photo_id": "ISS064-E-1"}, {"photo_id": "ISS064-E-2"})
    assert merged.values["photo_id"] == "ISS064-E-1"
    assert merged.conflicts == [{"field": "photo_id", "used": "exif", "value": "ISS064-E-1",
                                 "filename": "ISS064-E-2"}]
