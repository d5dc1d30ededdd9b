"""The synthetic Earth: determinism, camera-consistent truth, metadata round trips, reprojection."""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

import numpy as np
import pytest

from ml import geo
from ml.synth.camera import CameraPose, footprint, ground_offset_km, lonlat_to_pixels
from ml.synth.config import get_preset
from ml.synth.generate import generate
from ml.synth.loader import SynthPhoto, load_synth
from ml.synth.metadata import (
    EARTHLOC_COLUMNS,
    EOL_COLUMNS,
    center_from_eol,
    footprint_from_earthloc,
    read_csv,
    read_exif,
)
from ml.tiling import cut_database_images
from tests.conftest import REPO_ROOT

SHARED = (REPO_ROOT / ".." / "shared").resolve()  # beside the checkout, as tests/conftest.py expects; optional here


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("tiny")
    generate(get_preset("tiny", seed=0), out, log=lambda _: None)
    return out


def _digest(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name != "timings.json"
    }


def test_same_seed_same_bytes(tiny, tmp_path):
    generate(get_preset("tiny", seed=0), tmp_path / "again", log=lambda _: None)
    first, second = _digest(tiny), _digest(tmp_path / "again")
    assert len(first) > 20
    assert first == second


def test_other_seed_other_data(tiny, tmp_path):
    generate(get_preset("tiny", seed=1), tmp_path / "other", log=lambda _: None)
    a, b = _digest(tiny), _digest(tmp_path / "other")
    assert a["mosaics/2019_3857.tif"] != b["mosaics/2019_3857.tif"]


def test_variants_change_what_they_say_and_nothing_else(tiny, tmp_path):
    """A camera variant keeps the standard mosaics and changes the photos; a terrain variant changes the land.
    Both record themselves; the standard generator's manifest and truth carry no variant fields."""
    import json

    standard = _digest(tiny)
    assert "variant" not in json.loads((tiny / "manifest.json").read_text())["config"]
    assert all("extra" not in r["effects"] for r in json.loads((tiny / "truth" / "photos.json").read_text()))
    for variant, mosaics_change in (("camera", False), ("terrain", True)):
        out = tmp_path / variant
        generate(get_preset("tiny", seed=0).with_variant(variant), out, log=lambda _: None)
        digest = _digest(out)
        assert (digest["mosaics/2019_3857.tif"] != standard["mosaics/2019_3857.tif"]) is mosaics_change
        def photos(d):
            return {v for k, v in d.items() if k.startswith("photos/")}

        assert photos(standard) and not photos(digest) & photos(standard)
        assert load_synth(out).config["variant"] == variant
        extras = [r["effects"]["extra"] for r in json.loads((out / "truth" / "photos.json").read_text())]
        assert extras and all(extras)
    with pytest.raises(ValueError, match="unknown generator variant"):
        generate(get_preset("tiny").with_variant("nope"), tmp_path / "bad", log=lambda _: None)


def test_loader_contract(tiny):
    ds = load_synth(tiny)
    config = get_preset("tiny")
    assert ds.years == list(config.years)
    assert [p.name for p in ds.mosaics] == [f"{y}_3857.tif" for y in config.years]
    assert ds.mosaic_4326 is not None and ds.mosaic_4326.exists()
    for split, n in config.n_photos.items():
        assert len(ds.split(split)) == n
    assert all(p.weak_center is None for p in ds.split("val") + ds.split("test"))
    assert any(p.weak_center is not None for p in ds.split("train"))
    assert len({p.photo_id for p in ds.photos}) == len(ds.photos)
    assert {t.year for t in ds.tiles} == set(config.years)
    for tile in ds.tiles:
        assert tile.path.exists()
        assert tile.bounds == pytest.approx(geo.tile_bounds_lonlat(tile.zoom, tile.x, tile.y, tile.span))
    for p in ds.photos:
        assert p.path.exists() and len(p.footprint) == 4 and p.split in ("train", "val", "test")


def _pose(p: SynthPhoto) -> CameraPose:
    return CameraPose(nadir_lon=p.nadir[0], nadir_lat=p.nadir[1], altitude_km=p.altitude_km,
                      tilt_deg=p.tilt_deg,
                      azimuth_deg=p.azimuth_deg, roll_deg=p.roll_deg, focal_length_mm=p.focal_length_mm,
                      width_px=p.width_px, height_px=p.height_px)


def test_footprint_corners_project_to_image_corners(tiny):
    for p in load_synth(tiny).photos:
        pose = _pose(p)
        u, v, visible = lonlat_to_pixels(pose, [c[0] for c in p.footprint], [c[1] for c in p.footprint])
        assert visible.all()
        w, h = p.width_px, p.height_px
        np.testing.assert_allclose(u, [0, w, w, 0], atol=1.0)
        np.testing.assert_allclose(v, [0, 0, h, h], atol=1.0)
        # The true centre is on the optical axis.
        cu, cv, _ = lonlat_to_pixels(pose, [p.center[0]], [p.center[1]])
        assert (cu[0], cv[0]) == pytest.approx((w / 2, h / 2), abs=1.0)


def test_nadir_is_consistent_with_the_camera(tiny):
    for p in load_synth(tiny).photos:
        dist = geo.haversine_km(p.nadir[0], p.nadir[1], p.center[0], p.center[1])
        assert dist == pytest.approx(ground_offset_km(p.altitude_km, p.tilt_deg), abs=0.5)
        assert 400 <= p.altitude_km <= 420 and 50 <= p.focal_length_mm <= 1150 and 0 <= p.tilt_deg <= 60


@pytest.mark.parametrize("focal", [50.0, 400.0, 1150.0])
def test_nadir_ground_width(focal):
    pose = CameraPose(nadir_lon=30.0, nadir_lat=20.0, altitude_km=410.0, tilt_deg=0.0, azimuth_deg=37.0,
                      roll_deg=0.0, focal_length_mm=focal, width_px=600, height_px=400)
    from ml.synth.camera import pixels_to_lonlat

    lon, lat, _ = pixels_to_lonlat(pose, np.array([0.0, 600.0]), np.array([200.0, 200.0]))
    width = geo.haversine_km(lon[0], lat[0], lon[1], lat[1])
    assert width == pytest.approx(410.0 * 36.0 / focal, rel=0.02)
    tl, _, _, bl = footprint(pose)
    assert geo.haversine_km(*tl, *bl) == pytest.approx(410.0 * 24.0 / focal, rel=0.02)


def test_exif_round_trip(tiny):
    for p in load_synth(tiny).photos:
        exif = read_exif(p.path)
        assert exif.photo_id == p.photo_id
        assert exif.camera == p.camera
        assert exif.captured_at == p.captured_at
        assert exif.focal_length_mm == pytest.approx(p.focal_length_mm)
        assert exif.nadir == pytest.approx(p.nadir, abs=1e-5)
        assert exif.altitude_km == pytest.approx(p.altitude_km, abs=1e-3)


def _header(path: Path) -> list[str]:
    with path.open() as fh:
        return next(csv.reader(fh))


def test_csv_layouts_and_round_trip(tiny):
    ds = load_synth(tiny)
    by_id = {p.photo_id: p for p in ds.photos}
    eol = read_csv(tiny / "metadata" / "eol.csv")
    earthloc = read_csv(tiny / "truth" / "footprints_earthloc.csv")
    assert len(eol) == len(earthloc) == len(ds.photos)
    for row in eol:
        p = by_id[row["MRF"]]
        assert row["MRF"] == f"{row['MISSION']}-{row['ROLL']}-{row['FRAME']}"
        assert center_from_eol(row) == p.weak_center
        assert (float(row["NADIR_LON"]), float(row["NADIR_LAT"])) == pytest.approx(p.nadir, abs=1e-4)
        assert float(row["FOCAL_LENGTH_MM"]) == pytest.approx(p.focal_length_mm, abs=0.5)
        assert row["DATE"] == p.captured_at.strftime("%Y%m%d")
    for row in earthloc:
        p = by_id[f"{row['MISSION']}-{row['ROLL']}-{row['FRAME']}"]
        np.testing.assert_allclose(footprint_from_earthloc(row), p.footprint, atol=1e-6)
        assert float(row["SQ_KM_AREA"]) == pytest.approx(geo.polygon_area_km2(p.footprint), abs=1)
    real_eol = SHARED / "real-samples" / "metadata.csv"
    real_earthloc = SHARED / "real-footprints" / "iss_footprints_earthloc.csv"
    if real_eol.exists():
        assert list(EOL_COLUMNS[: len(_header(real_eol))]) == _header(real_eol)
    if real_earthloc.exists():
        assert list(EARTHLOC_COLUMNS) == _header(real_earthloc)
    assert _header(tiny / "metadata" / "eol.csv") == list(EOL_COLUMNS)


def test_weak_labels_are_noisy_centres(tiny):
    for p in load_synth(tiny).split("train"):
        if p.weak_center is None:
            continue
        assert p.weak_center[0] * 2 == int(p.weak_center[0] * 2)
        assert geo.haversine_km(*p.weak_center, *p.center) < 600


def test_reprojection_keeps_positions(tiny):
    """The same database image cut from the 3857 and the 4326 mosaic shows the same ground."""
    ds = load_synth(tiny)
    a = {i.cell: i.image for i in cut_database_images(ds.mosaics[0], zooms=(11,), span=4, out_size=128,
                                                      max_nodata=0.0)}
    b = {i.cell: i.image for i in cut_database_images(ds.mosaic_4326, zooms=(11,), span=4, out_size=128,
                                                      max_nodata=0.0)}
    common = sorted(set(a) & set(b))
    assert common
    import cv2

    for cell in common:
        ga = cv2.cvtColor(a[cell], cv2.COLOR_RGB2GRAY).astype(np.float32)
        gb = cv2.cvtColor(b[cell], cv2.COLOR_RGB2GRAY).astype(np.float32)
        (dx, dy), _ = cv2.phaseCorrelate(ga, gb)
        assert abs(dx) < 0.5 and abs(dy) < 0.5, (cell, dx, dy)
        assert np.abs(ga - gb).mean() < 6.0


def test_photo_shows_its_footprint(tiny):
    """Photo pixels come from the footprint: the photo correlates with the mosaic warped into the camera."""
    import cv2
    import rasterio

    from ml.synth.camera import pixels_to_lonlat

    ds = load_synth(tiny)
    with rasterio.open(ds.mosaics[0]) as src:
        mosaic = src.read(1).astype(np.float32)
        bounds = tuple(src.bounds)
    scores = []
    for p in ds.photos:
        pose = _pose(p)
        uu, vv = np.meshgrid(np.arange(p.width_px) + 0.5, np.arange(p.height_px) + 0.5)
        lon, lat, _ = pixels_to_lonlat(pose, uu, vv)
        col, row = geo.lonlat_to_pixel(bounds, (mosaic.shape[1], mosaic.shape[0]), lon, lat)
        expected = cv2.remap(mosaic, (col - 0.5).astype(np.float32), (row - 0.5).astype(np.float32),
                             cv2.INTER_LINEAR)
        photo = cv2.cvtColor(cv2.imread(str(p.path)), cv2.COLOR_BGR2GRAY).astype(np.float32)
        right = np.corrcoef(photo.ravel(), expected.ravel())[0, 1]
        wrong = np.corrcoef(photo.ravel(), np.flipud(np.fliplr(expected)).ravel())[0, 1]
        scores.append(right - wrong)
    assert np.median(scores) > 0.1
