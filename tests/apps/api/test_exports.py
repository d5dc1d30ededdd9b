"""Bulk footprint exports (GeoPackage, FlatGeobuf, KML, CSV) opened with OGR: the filtered rows, their
polygons and the photo metadata as attributes, never a photo the caller may not see."""

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest

from apps.core.geo import polygon_corners

pytestmark = pytest.mark.django_db

FORMATS = ["gpkg", "fgb", "kml", "csv"]


def _export(client, fmt: str, tmp_path: Path, query: str = "") -> dict:
    response = client.get(f"/api/v1/footprints/export.{fmt}{query}")
    assert response.status_code == 200, response.content[:300] if not response.streaming else ""
    assert response.streaming and "attachment" in response["Content-Disposition"]
    path = tmp_path / f"out.{fmt}"
    path.write_bytes(b"".join(response.streaming_content))
    out = subprocess.run(["ogr2ogr", "-f", "GeoJSON", "/vsistdout/", str(path)], check=True, capture_output=True,
                         timeout=60)
    return {f["properties"]["photo_id"]: f for f in json.loads(out.stdout)["features"]}


@pytest.mark.parametrize("fmt", FORMATS)
def test_export_holds_the_visible_rows_with_geometry_and_metadata(archive, client_for, fmt, tmp_path):
    features = _export(client_for(), fmt, tmp_path)

    assert set(features) == {"ISS064-E-1", "ISS065-E-3"}  # the private photo is not anyone's to download
    feature, footprint = features["ISS064-E-1"], archive["fp_public"]
    ring = feature["geometry"]["coordinates"][0]
    assert np.allclose(sorted(map(tuple, ring[:4])), sorted(polygon_corners(footprint.polygon)), atol=1e-7)
    props = feature["properties"]
    assert props["mission"] == "ISS064" and props["tilt_class"] == "NV" and props["source"] == "retrieval"
    assert float(props["cloud_pct"]) == 5.0 and float(props["focal_length_mm"]) == 400.0
    assert float(props["confidence"]) == pytest.approx(0.9) and int(props["footprint_id"]) == footprint.pk
    assert str(props["datetime"]).replace("/", "-").startswith("2021-04-08")


@pytest.mark.parametrize("fmt", ["gpkg", "csv"])
def test_export_applies_the_list_filters_and_visibility(archive, client_for, fmt, tmp_path):
    assert set(_export(client_for(), fmt, tmp_path, "?mission=ISS064")) == {"ISS064-E-1"}
    assert set(_export(client_for(archive["alice"]), fmt, tmp_path, "?mission=ISS064")) == {"ISS064-E-1",
                                                                                           "ISS064-E-2"}
    assert set(_export(client_for(archive["bob"]), fmt, tmp_path, "?bbox=40,-11,41,-10")) == {"ISS064-E-1"}
    assert _export(client_for(), fmt, tmp_path, "?cloud_min=99") == {}


def test_gpkg_columns_are_typed(archive, client_for, tmp_path):
    response = client_for().get("/api/v1/footprints/export.gpkg")
    path = tmp_path / "typed.gpkg"
    path.write_bytes(b"".join(response.streaming_content))
    info = subprocess.run(["ogrinfo", "-so", "-al", str(path)], check=True, capture_output=True, text=True).stdout
    assert "Feature Count: 2" in info and "EPSG" in info and "4326" in info
    for line in ("cloud_pct: Real", "footprint_id: Integer64", "datetime: DateTime", "is_current: Integer(Boolean)",
                 "mission: String"):
        assert line in info, info


def test_bad_filters_and_formats_are_refused(archive, client_for):
    client = client_for()
    response = client.get("/api/v1/footprints/export.gpkg?cloud_min=50&cloud_max=10")
    assert response.status_code == 400 and "cloud_min" in response.json()["fields"]
    assert client.get("/api/v1/footprints/export.shp").status_code == 404
