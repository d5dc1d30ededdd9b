"""ml.tiling: the cut follows the XYZ grid exactly in any CRS, and bad rasters fail clearly."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_bounds

from ml import geo
from ml.tiling import RasterError, cut_database_images, inspect_raster


def _write(path: Path, crs: str, bounds, size=(400, 300), count=3, dtype="uint8", **extra) -> Path:
    width, height = size
    rng = np.random.default_rng(0)
    data = rng.integers(1, 255, (count, height, width)).astype(dtype)
    profile = {"driver": "GTiff", "width": width, "height": height, "count": count, "dtype": dtype,
               "crs": crs, "transform": from_bounds(*(bounds or (0, 0, 1, 1)), width, height), **extra}
    if crs is None:
        profile.pop("crs")
        profile.pop("transform")
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data)
    return path


def _inside_fraction(cell: geo.GridCell, raster_m) -> float:
    a = cell.bounds_mercator
    w = max(0.0, min(a[2], raster_m[2]) - max(a[0], raster_m[0]))
    h = max(0.0, min(a[3], raster_m[3]) - max(a[1], raster_m[1]))
    return w * h / ((a[2] - a[0]) * (a[3] - a[1]))


@pytest.mark.parametrize("crs", ["EPSG:3857", "EPSG:4326"])
def test_cut_matches_xyz_grid(tmp_path, crs):
    lonlat = (10.37, 44.21, 14.83, 47.06)  # not aligned on any tile edge
    if crs == "EPSG:3857":
        mx0, my0 = geo.lonlat_to_mercator(lonlat[0], lonlat[1])
        mx1, my1 = geo.lonlat_to_mercator(lonlat[2], lonlat[3])
        bounds = (mx0, my0, mx1, my1)
    else:
        bounds = lonlat
    path = _write(tmp_path / "r.tif", crs, bounds)
    raster_m = (*geo.lonlat_to_mercator(lonlat[0], lonlat[1]), *geo.lonlat_to_mercator(lonlat[2], lonlat[3]))
    max_nodata = 0.3
    images = list(cut_database_images(path, zooms=(9, 10), span=4, out_size=64, max_nodata=max_nodata))
    got = {img.cell: img for img in images}
    for zoom in (9, 10):
        for cell in geo.grid_cells(lonlat, zoom, 4):
            f = _inside_fraction(cell, raster_m)
            if f >= 1 - max_nodata + 0.02:
                assert cell in got, (cell, f)
            elif f <= 1 - max_nodata - 0.02:
                assert cell not in got, (cell, f)
    assert got, "nothing was cut"
    for cell, img in got.items():
        assert img.bounds == pytest.approx(geo.tile_bounds_lonlat(cell.zoom, cell.x, cell.y, 4))
        assert img.image.shape == (64, 64, 3) and img.image.dtype == np.uint8
        assert img.nodata_fraction == pytest.approx(1 - _inside_fraction(cell, raster_m), abs=0.05)


def test_cut_keeps_positions(tmp_path):
    """A bright square drawn at known lon/lat appears at the pixel the XYZ maths predicts."""
    lonlat = (10.0, 44.0, 15.0, 47.0)
    width, height = 1000, 600
    data = np.zeros((3, height, width), np.uint8) + 40
    lon, lat = 12.3, 45.4
    col = int((lon - lonlat[0]) / (lonlat[2] - lonlat[0]) * width)
    row = int((lonlat[3] - lat) / (lonlat[3] - lonlat[1]) * height)
    data[:, row - 3 : row + 3, col - 3 : col + 3] = 250
    path = tmp_path / "p.tif"
    with rasterio.open(path, "w", driver="GTiff", width=width, height=height, count=3, dtype="uint8",
                       crs="EPSG:4326", transform=from_bounds(*lonlat, width, height)) as dst:
        dst.write(data)
    hits = 0
    for img in cut_database_images(path, zooms=(10,), span=4, out_size=256, max_nodata=0.0):
        c, r = geo.lonlat_to_pixel(img.cell.bounds_mercator, (256, 256), lon, lat)
        if 8 <= c < 248 and 8 <= r < 248:
            ys, xs = np.nonzero(img.image[..., 0] > 150)
            assert abs(xs.mean() - c) < 1.5 and abs(ys.mean() - r) < 1.5
            hits += 1
    assert hits >= 1


def test_inspect_raster(tmp_path):
    path = _write(tmp_path / "r.tif", "EPSG:4326", (10, 40, 12, 41))
    info = inspect_raster(path)
    assert info.width == 400 and info.count == 3 and info.crs == "EPSG:4326"
    assert info.bounds_lonlat == pytest.approx((10, 40, 12, 41))


def test_out_size_must_be_multiple_of_span(tmp_path):
    path = _write(tmp_path / "r.tif", "EPSG:4326", (10, 40, 12, 41))
    with pytest.raises(ValueError, match="multiple of span"):
        list(cut_database_images(path, zooms=(8,), span=4, out_size=66))


def _file(path: Path, content: bytes) -> Path:
    path.write_bytes(content)
    return path


def _vrt(tmp_path: Path) -> Path:
    secret = tmp_path / "secret.tif"
    _write(secret, "EPSG:4326", (10, 40, 12, 41))
    p = tmp_path / "disguised.tif"
    p.write_text(f'<VRTDataset rasterXSize="10" rasterYSize="10"><VRTRasterBand dataType="Byte" band="1">'
                 f"<SimpleSource><SourceFilename>{secret}</SourceFilename></SimpleSource>"
                 f"</VRTRasterBand></VRTDataset>")
    return p


@pytest.mark.parametrize("make", [
    pytest.param(lambda d: _file(d / "t.tif", b"not a raster"), id="text"),
    pytest.param(lambda d: _file(d / "e.tif", b""), id="empty"),
    pytest.param(_vrt, id="vrt-disguised"),
    pytest.param(lambda d: _file(d / "junk.tif", b"II*\x00" + b"\x00" * 64), id="broken-tiff"),
    pytest.param(lambda d: _write(d / "nocrs.tif", None, None), id="no-crs"),
    pytest.param(lambda d: _write(d / "f.tif", "EPSG:4326", (0, 0, 1, 1), dtype="float32"), id="float"),
    pytest.param(lambda d: _write(d / "b2.tif", "EPSG:4326", (0, 0, 1, 1), count=2), id="two-bands"),
    pytest.param(lambda d: d / "missing.tif", id="missing"),
])
def test_bad_rasters_raise_raster_error(tmp_path, make):
    path = make(tmp_path)
    with pytest.raises(RasterError, match=str(path.name)):
        list(cut_database_images(path, zooms=(8,), span=4, out_size=64))


def test_absurd_dimensions(tmp_path):
    path = tmp_path / "huge.tif"
    with rasterio.open(path, "w", driver="GTiff", width=3_000_000, height=16, count=1, dtype="uint8",
                       crs="EPSG:4326", transform=from_bounds(0, 0, 1, 1, 3_000_000, 16),
                       tiled=True, sparse_ok=True):
        pass
    assert path.stat().st_size < 10_000_000
    with pytest.raises(RasterError, match="absurd dimensions"):
        inspect_raster(path)
