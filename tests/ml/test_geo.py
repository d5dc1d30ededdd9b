"""ml.geo on known values and round trips."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from ml import geo


def test_mercator_known_points():
    assert geo.lonlat_to_mercator(0.0, 0.0) == pytest.approx((0.0, 0.0), abs=1e-6)
    x, y = geo.lonlat_to_mercator(180.0, geo.MAX_MERCATOR_LAT)
    assert x == pytest.approx(geo.ORIGIN_SHIFT_M, rel=1e-12)
    assert y == pytest.approx(geo.ORIGIN_SHIFT_M, rel=1e-9)
    # Paris, from EPSG:3857 reference values (pyproj).
    assert geo.lonlat_to_mercator(2.3522, 48.8566) == pytest.approx((261845.7, 6250564.3), abs=1.0)


def test_mercator_round_trip():
    rng = np.random.default_rng(0)
    lon = rng.uniform(-180, 180, 100)
    lat = rng.uniform(-85, 85, 100)
    back = geo.mercator_to_lonlat(*geo.lonlat_to_mercator(lon, lat))
    np.testing.assert_allclose(back[0], lon, atol=1e-9)
    np.testing.assert_allclose(back[1], lat, atol=1e-9)


def test_tile_bounds_and_lookup():
    world = (-180, -geo.MAX_MERCATOR_LAT, 180, geo.MAX_MERCATOR_LAT)
    assert geo.tile_bounds_lonlat(0, 0, 0) == pytest.approx(world)
    assert geo.tile_bounds_lonlat(1, 1, 0) == pytest.approx((0, 0, 180, geo.MAX_MERCATOR_LAT), abs=1e-9)
    assert geo.lonlat_to_tile(2.2945, 48.8584, 10) == (518, 352)  # Eiffel tower, OSM tile z10
    assert geo.tile_size_m(11) == pytest.approx(19567.88, abs=0.01)
    # A span block is span tiles wide and the lookup of its centre falls in it.
    b = geo.tile_bounds_lonlat(9, 300, 200, span=4)
    x, y = geo.lonlat_to_tile((b[0] + b[2]) / 2, (b[1] + b[3]) / 2, 9)
    assert (x, y) == (302, 202)


def _brute_force_cells(bounds, zoom, span):
    stride = max(span // 2, 1)
    lon0, lat0, lon1, lat1 = bounds
    out = []
    for y in range(0, (1 << zoom) - span + 1, stride):
        for x in range(0, (1 << zoom) - span + 1, stride):
            a = geo.tile_bounds_lonlat(zoom, x, y, span)
            if a[0] < lon1 and a[2] > lon0 and a[1] < lat1 and a[3] > lat0:
                out.append(geo.GridCell(zoom, x, y, span))
    return out


@pytest.mark.parametrize(("bounds", "zoom", "span"), [
    ((10.3, 40.1, 14.9, 44.7), 6, 4),
    ((-3.0, -2.0, 3.0, 2.0), 5, 2),
    ((100.0, -30.0, 101.0, -29.0), 8, 4),
    ((-180.0, -85.0, 180.0, 85.0), 3, 4),
])
def test_grid_cells_match_brute_force(bounds, zoom, span):
    assert sorted(geo.grid_cells(bounds, zoom, span)) == sorted(_brute_force_cells(bounds, zoom, span))


def test_grid_cells_step_by_half_span():
    cells = geo.grid_cells((10.0, 40.0, 20.0, 45.0), 8, 4)
    xs = sorted({c.x for c in cells})
    assert all(b - a == 2 for a, b in itertools.pairwise(xs))
    assert all(c.x % 2 == 0 and c.y % 2 == 0 for c in cells)


def test_haversine_and_destination():
    assert geo.haversine_km(0, 0, 0, 1) == pytest.approx(111.195, abs=0.01)
    assert geo.haversine_km(0, 0, 180, 0) == pytest.approx(math.pi * geo.EARTH_RADIUS_KM, rel=1e-9)
    lon, lat = geo.destination_point(10.0, 45.0, 60.0, 500.0)
    assert geo.haversine_km(10.0, 45.0, lon, lat) == pytest.approx(500.0, rel=1e-9)
    assert geo.initial_bearing_deg(10.0, 45.0, lon, lat) == pytest.approx(60.0, abs=1e-6)


def test_ecef_round_trip():
    xyz = geo.lonlat_to_ecef(np.array([-120.0, 30.0]), np.array([10.0, -60.0]))
    lon, lat = geo.ecef_to_lonlat(xyz)
    np.testing.assert_allclose(lon, [-120.0, 30.0])
    np.testing.assert_allclose(lat, [10.0, -60.0])


def test_polygon_iou_and_area():
    a = geo.bounds_to_polygon((0.0, 0.0, 1.0, 1.0))
    b = geo.bounds_to_polygon((0.5, 0.0, 1.5, 1.0))
    c = geo.bounds_to_polygon((2.0, 0.0, 3.0, 1.0))
    assert geo.polygon_iou(a, a) == pytest.approx(1.0)
    assert geo.polygon_iou(a, b) == pytest.approx(1 / 3, abs=0.01)
    assert geo.polygon_iou(a, c) == 0.0
    assert geo.polygons_intersect(a, b) and not geo.polygons_intersect(a, c)
    assert geo.polygon_area_km2(a) == pytest.approx(111.19**2, rel=0.01)
    # Same footprint across the antimeridian.
    d = geo.bounds_to_polygon((179.5, 0.0, 180.5, 1.0))
    e = ((179.5, 1.0), (-179.5, 1.0), (-179.5, 0.0), (179.5, 0.0))
    assert geo.polygon_iou(d, e) == pytest.approx(1.0, abs=1e-6)


def test_pixel_lonlat_round_trip():
    cell = geo.GridCell(10, 600, 400, 4)
    size = (512, 512)
    lon, lat = geo.pixel_to_lonlat(cell.bounds_mercator, size, 0, 0)
    assert (lon, lat) == pytest.approx((cell.bounds_lonlat[0], cell.bounds_lonlat[3]))
    lon, lat = geo.pixel_to_lonlat(cell.bounds_mercator, size, 512, 512)
    assert (lon, lat) == pytest.approx((cell.bounds_lonlat[2], cell.bounds_lonlat[1]))
    lonlat = geo.pixel_to_lonlat(cell.bounds_mercator, size, 123.4, 321.0)
    col, row = geo.lonlat_to_pixel(cell.bounds_mercator, size, *lonlat)
    assert (col, row) == pytest.approx((123.4, 321.0), abs=1e-6)
