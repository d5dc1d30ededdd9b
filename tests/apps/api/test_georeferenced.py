"""Georeferenced downloads of a localized photo, opened with rasterio (GDAL) and OGR: the photo's corners
must land within one pixel of its footprint's corners, the right way round."""

import io
import json
import subprocess
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import numpy as np
import pytest
import rasterio
from django.core.files.base import ContentFile
from PIL import Image
from rasterio.io import MemoryFile
from rasterio.warp import transform as crs_transform

from apps.core.geo import polygon_corners
from apps.footprints.constants import FootprintSource
from apps.footprints.services import footprint_add
from apps.photos.constants import Visibility
from tests.factories import photo_create, user_create

pytestmark = pytest.mark.django_db

W, H = 400, 300
MARKERS = {"TL": (255, 0, 0), "TR": (0, 255, 0), "BR": (0, 0, 255), "BL": (255, 255, 0)}
# Footprints built in EPSG:3857 metres around (40.4 E, 10.3 S): an oblique trapezoid (far edge wider, as a
# tilted camera sees it) and a rotated parallelogram (a nadir photo).
CENTRE = (4_497_267.0, -1_152_850.0)
OBLIQUE = [(-30_000, 14_000), (34_000, 16_000), (21_000, -11_000), (-18_000, -12_000)]
PARALLELOGRAM = [(-20_000, 12_000), (22_000, 18_000), (26_000, -12_000), (-16_000, -18_000)]


def _photo_jpeg() -> bytes:
    """A W x H photo: a gradient with a coloured 24-px square in each corner (TL red, TR green, ...)."""
    x, y = np.meshgrid(np.linspace(40, 200, W), np.linspace(40, 200, H))
    pixels = np.stack([x, y, (x + y) / 2], axis=-1).astype(np.uint8)
    m = 24
    for name, (rows, cols) in {"TL": (slice(0, m), slice(0, m)), "TR": (slice(0, m), slice(W - m, W)),
                               "BR": (slice(H - m, H), slice(W - m, W)), "BL": (slice(H - m, H), slice(0, m))}.items():
        pixels[rows, cols] = MARKERS[name]
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "JPEG", quality=95)
    return buffer.getvalue()


def _lonlat(offsets) -> list[tuple[float, float]]:
    xs = [CENTRE[0] + dx for dx, _ in offsets]
    ys = [CENTRE[1] + dy for _, dy in offsets]
    lons, lats = crs_transform("EPSG:3857", "EPSG:4326", xs, ys)
    return list(zip(lons, lats, strict=True))


def _mercator(corners) -> np.ndarray:
    xs, ys = crs_transform("EPSG:4326", "EPSG:3857", [c[0] for c in corners], [c[1] for c in corners])
    return np.column_stack([xs, ys])


def _localized(photo_id: str, offsets, **fields):
    jpeg = _photo_jpeg()
    photo = photo_create(photo_id, width=W, height=H, **fields)
    photo.image.save(f"{photo_id}.jpg", ContentFile(jpeg))
    footprint = footprint_add(photo=photo, corners=_lonlat(offsets), source=FootprintSource.RETRIEVAL, confidence=0.9)
    return photo, footprint


def _get(client, photo, suffix: str, status: int = 200):
    response = client.get(f"/api/v1/photos/{photo.photo_id}/georeferenced.{suffix}")
    assert response.status_code == status, response.content[:300]
    return response


def _ogr_geojson(path: Path) -> dict:
    """The file read by OGR (ogr2ogr, the system GDAL) and written back as GeoJSON."""
    out = subprocess.run(["ogr2ogr", "-f", "GeoJSON", "/vsistdout/", str(path)], check=True, capture_output=True,
                         timeout=60)
    return json.loads(out.stdout)


def _assert_ring(feature: dict, corners) -> None:
    """The feature's polygon has exactly the four corners (OGR may start elsewhere or reverse the ring)."""
    ring = feature["geometry"]["coordinates"][0]
    assert len(ring) == 5 and np.allclose(ring[0], ring[-1])
    assert np.allclose(sorted(map(tuple, ring[:4])), sorted(corners), atol=1e-7)


def _marker(rgb) -> str:
    return min(MARKERS, key=lambda name: np.abs(np.array(MARKERS[name]) - np.asarray(rgb, dtype=float)).sum())


def test_warped_geotiff_puts_each_corner_within_a_pixel_of_the_footprint(client):
    photo, footprint = _localized("ISS064-E-101", OBLIQUE)
    corners = _mercator(polygon_corners(footprint.polygon))

    response = _get(client, photo, "tif?kind=warped")

    assert response["Content-Type"].startswith("image/tiff")
    with MemoryFile(response.content) as memory, memory.open() as ds:
        assert ds.crs.to_epsg() == 3857 and ds.count == 4
        assert ds.colorinterp[3].name == "alpha"
        res = ds.transform.a
        pixels = ds.read()
        rows, cols = np.nonzero(pixels[3] > 127)
        xs, ys = rasterio.transform.xy(ds.transform, rows, cols)
        centres = np.column_stack([xs, ys])
        left, bottom, right, top = ds.bounds
    assert left <= corners[:, 0].min() < left + res and right - res < corners[:, 0].max() <= right
    assert bottom <= corners[:, 1].min() < bottom + res and top - res < corners[:, 1].max() <= top
    for name, corner in zip(MARKERS, corners, strict=True):
        distances = np.hypot(*(centres - corner).T) / res
        nearest = int(np.argmin(distances))
        assert distances[nearest] <= 1.0, (name, distances[nearest])
        inside = np.argsort(distances)[:9]  # the photo's corner pixels: its marker colour, not another's
        rgb = pixels[:3, rows[inside], cols[inside]].mean(axis=1)
        assert _marker(rgb) == name, (name, rgb)
    assert 0.3 < (pixels[3] > 127).mean() < 0.9  # transparent outside the quad


def test_gcp_geotiff_carries_the_corners_and_the_untouched_photo(client):
    photo, footprint = _localized("ISS064-E-102", OBLIQUE)
    corners = polygon_corners(footprint.polygon)

    response = _get(client, photo, "tif?kind=gcps")

    with MemoryFile(response.content) as memory, memory.open() as ds:
        gcps, crs = ds.gcps
        assert crs.to_epsg() == 4326 and (ds.width, ds.height) == (W, H)
        photo_pixels = np.asarray(Image.open(photo.image.open("rb")).convert("RGB")).transpose(2, 0, 1)
        assert np.array_equal(ds.read(), photo_pixels)
    by_pixel = {(g.col, g.row): (g.x, g.y) for g in gcps}
    for pixel, corner in zip([(0, 0), (W, 0), (W, H), (0, H)], corners, strict=True):
        assert np.allclose(by_pixel[pixel], corner, atol=1e-9)


def test_kmz_holds_the_photo_and_a_latlonquad_on_the_footprint(client, tmp_path):
    photo, footprint = _localized("ISS064-E-103", OBLIQUE)
    tl, tr, br, bl = polygon_corners(footprint.polygon)

    response = _get(client, photo, "kmz")

    path = tmp_path / "photo.kmz"
    path.write_bytes(response.content)
    with zipfile.ZipFile(path) as archive:
        assert archive.read(f"files/{photo.photo_id}.jpg") == photo.image.open("rb").read()
        root = ET.fromstring(archive.read("doc.kml"))
    ns = {"k": "http://www.opengis.net/kml/2.2", "gx": "http://www.google.com/kml/ext/2.2"}
    overlay = root.find(".//k:GroundOverlay", ns)
    assert overlay.find("k:Icon/k:href", ns).text == f"files/{photo.photo_id}.jpg"
    quad = [tuple(map(float, p.split(","))) for p in overlay.find("gx:LatLonQuad/k:coordinates", ns).text.split()]
    assert np.allclose(quad, [bl, br, tr, tl], atol=1e-7)  # lower-left first, counter-clockwise
    _assert_ring(_ogr_geojson(path)["features"][0], [tl, tr, br, bl])


def test_kml_links_the_photo_image(client, tmp_path):
    photo, footprint = _localized("ISS064-E-104", OBLIQUE)

    response = _get(client, photo, "kml")

    assert f"/api/v1/photos/{photo.photo_id}/files/original" in response.content.decode()
    path = tmp_path / "photo.kml"
    path.write_bytes(response.content)
    _assert_ring(_ogr_geojson(path)["features"][0], polygon_corners(footprint.polygon))


def _world_file_corners(client, photo, tmp_path) -> tuple[np.ndarray, float, float]:
    response = _get(client, photo, "zip")
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        archive.extractall(tmp_path)
        assert sorted(archive.namelist()) == sorted(["README.txt", f"{photo.photo_id}.jpg", f"{photo.photo_id}.jgw",
                                                     f"{photo.photo_id}.prj", f"{photo.photo_id}.jpg.aux.xml"])
    with rasterio.open(tmp_path / f"{photo.photo_id}.jpg") as ds:  # GDAL reads the .jgw and .aux.xml beside it
        assert ds.crs.to_epsg() == 3857
        placed = np.array([ds.transform * p for p in [(0, 0), (W, 0), (W, H), (0, H)]])
        pixel = abs(ds.transform.a * ds.transform.e - ds.transform.b * ds.transform.d) ** 0.5
    return placed, pixel, float(response["X-AstroLoc-Affine-Max-Error-Px"])


def test_world_file_of_a_nadir_photo_is_exact(client, tmp_path):
    photo, footprint = _localized("ISS064-E-105", PARALLELOGRAM)

    placed, pixel, reported = _world_file_corners(client, photo, tmp_path)

    errors = np.hypot(*(placed - _mercator(polygon_corners(footprint.polygon))).T) / pixel
    assert errors.max() < 1.0 and reported < 1.0


def test_world_file_of_an_oblique_photo_reports_its_error(client, tmp_path):
    photo, footprint = _localized("ISS064-E-106", OBLIQUE)

    placed, pixel, reported = _world_file_corners(client, photo, tmp_path)

    errors = np.hypot(*(placed - _mercator(polygon_corners(footprint.polygon))).T) / pixel
    assert reported > 1.0 and abs(errors.max() - reported) < 0.01
    assert f"{reported:.2f} pixels" in (tmp_path / "README.txt").read_text()


def test_downloads_follow_photo_visibility_and_need_a_footprint(client, client_for):
    alice = user_create("alice")
    private, _ = _localized("ISS064-E-107", OBLIQUE, owner=alice, visibility=Visibility.PRIVATE)
    unlocalized = photo_create("ISS064-E-108")

    _get(client, private, "kmz", status=404)
    assert client_for(alice).get(f"/api/v1/photos/{private.photo_id}/georeferenced.kmz").status_code == 200
    assert b"not localized" in _get(client, unlocalized, "kmz", status=404).content
    photo, _ = _localized("ISS064-E-109", OBLIQUE)
    assert b"unknown kind" in _get(client, photo, "tif?kind=nope", status=400).content
    assert b"unknown format" in _get(client, photo, "png", status=400).content
    broken = photo_create("ISS064-E-111")  # its "original" is a few bytes of text
    footprint_add(photo=broken, corners=_lonlat(OBLIQUE), source=FootprintSource.MANUAL)
    assert b"cannot be decoded" in _get(client, broken, "tif", status=409).content
    assert _get(client, broken, "kml").content.startswith(b"<?xml")  # needs no pixels


def test_stac_item_and_photo_page_offer_the_downloads(client):
    photo, _ = _localized("ISS064-E-110", OBLIQUE)

    item = client.get(f"/stac/collections/astronaut-photos/items/{photo.photo_id}").json()
    page = client.get(f"/photos/{photo.photo_id}/").content.decode()

    for key in ("georeferenced", "georeferenced-gcps", "kmz", "worldfile"):
        href = item["assets"][key]["href"]
        assert client.get(href).status_code == 200, key
        assert href.split("testserver", 1)[1].replace("&", "&amp;") in page, key
