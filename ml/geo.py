"""Geometry maths shared by the whole ML core: Web Mercator, the XYZ tile grid, footprints, distances.

Every other module (tiling, synthetic Earth, retrieval evaluation, matching) goes through here so that
one convention holds everywhere: coordinates are **(lon, lat)** in degrees, Web Mercator is EPSG:3857
metres, and a database image is the ``span x span`` block of 256-px XYZ tiles described in docs/design.md s. 2.
Functions are small and pure; the NumPy ones accept scalars or arrays alike.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
from shapely.geometry import Polygon

#: Radius of the sphere that defines Web Mercator (EPSG:3857), in metres.
WEB_MERCATOR_RADIUS_M = 6378137.0
#: Half the width of the Web Mercator square, in metres.
ORIGIN_SHIFT_M = math.pi * WEB_MERCATOR_RADIUS_M
#: Latitude limit of Web Mercator (the square's edge).
MAX_MERCATOR_LAT = 85.0511287798066
#: Mean Earth radius used for distances and camera geometry, in km (IUGG mean radius).
EARTH_RADIUS_KM = 6371.0088
#: Ground length of one degree of latitude (and of longitude at the equator) on that sphere, in km.
KM_PER_DEGREE = EARTH_RADIUS_KM * math.pi / 180.0
#: Side of a standard XYZ tile in pixels.
TILE_PX = 256

LonLat = tuple[float, float]
Bounds = tuple[float, float, float, float]  # (min_x, min_y, max_x, max_y); for lon/lat: lon_min, lat_min, ...


# --------------------------------------------------------------------------------------------------
# Web Mercator <-> lon/lat
# --------------------------------------------------------------------------------------------------
def lonlat_to_mercator(lon, lat):
    """(lon, lat) degrees -> EPSG:3857 (x, y) metres. Latitude is clamped to the Mercator square."""
    lon = np.asarray(lon, dtype=np.float64)
    lat = np.clip(np.asarray(lat, dtype=np.float64), -MAX_MERCATOR_LAT, MAX_MERCATOR_LAT)
    x = np.radians(lon) * WEB_MERCATOR_RADIUS_M
    y = np.log(np.tan(np.pi / 4 + np.radians(lat) / 2)) * WEB_MERCATOR_RADIUS_M
    return _unwrap(x), _unwrap(y)


def mercator_to_lonlat(x, y):
    """EPSG:3857 (x, y) metres -> (lon, lat) degrees."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    lon = np.degrees(x / WEB_MERCATOR_RADIUS_M)
    lat = np.degrees(2 * np.arctan(np.exp(y / WEB_MERCATOR_RADIUS_M)) - np.pi / 2)
    return _unwrap(lon), _unwrap(lat)


def _unwrap(a: np.ndarray):
    """Return a Python float for 0-d arrays so scalar callers get scalars back."""
    return float(a) if a.ndim == 0 else a


# --------------------------------------------------------------------------------------------------
# XYZ tiles
# --------------------------------------------------------------------------------------------------
def tile_size_m(zoom: int) -> float:
    """Side of one XYZ tile at ``zoom`` in EPSG:3857 metres."""
    return 2 * ORIGIN_SHIFT_M / (1 << zoom)


def tile_bounds_mercator(zoom: int, x: int, y: int, span: int = 1) -> Bounds:
    """EPSG:3857 bounds (min_x, min_y, max_x, max_y) of the span x span block of tiles starting at (x, y).

    XYZ rows grow southwards, so tile y=0 touches the northern edge of the Mercator square.
    """
    size = tile_size_m(zoom)
    min_x = -ORIGIN_SHIFT_M + x * size
    max_y = ORIGIN_SHIFT_M - y * size
    return (min_x, max_y - span * size, min_x + span * size, max_y)


def tile_bounds_lonlat(zoom: int, x: int, y: int, span: int = 1) -> Bounds:
    """(lon_min, lat_min, lon_max, lat_max) of the span x span block of tiles starting at (x, y)."""
    min_x, min_y, max_x, max_y = tile_bounds_mercator(zoom, x, y, span)
    lon_min, lat_min = mercator_to_lonlat(min_x, min_y)
    lon_max, lat_max = mercator_to_lonlat(max_x, max_y)
    return (lon_min, lat_min, lon_max, lat_max)


def lonlat_to_tile(lon: float, lat: float, zoom: int) -> tuple[int, int]:
    """XYZ tile (x, y) containing the point at ``zoom`` (points on an edge belong to the east/south tile)."""
    mx, my = lonlat_to_mercator(lon, lat)
    size = tile_size_m(zoom)
    n = 1 << zoom
    x = math.floor((mx + ORIGIN_SHIFT_M) / size)
    y = math.floor((ORIGIN_SHIFT_M - my) / size)
    return (min(max(x, 0), n - 1), min(max(y, 0), n - 1))


# --------------------------------------------------------------------------------------------------
# Database-image grid (docs/design.md s. 2)
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True, order=True)
class GridCell:
    """One database image: the span x span block of XYZ tiles whose top-left tile is (x, y) at ``zoom``."""

    zoom: int
    x: int
    y: int
    span: int

    @property
    def bounds_mercator(self) -> Bounds:
        return tile_bounds_mercator(self.zoom, self.x, self.y, self.span)

    @property
    def bounds_lonlat(self) -> Bounds:
        return tile_bounds_lonlat(self.zoom, self.x, self.y, self.span)


def grid_stride(span: int) -> int:
    """Step between neighbouring database images, in tiles: span/2 (50 % overlap), at least 1."""
    if span < 1:
        raise ValueError(f"span must be >= 1, got {span}")
    return max(span // 2, 1)


def grid_cells(bounds_lonlat: Bounds, zoom: int, span: int) -> list[GridCell]:
    """All database images of the grid at ``zoom`` that intersect ``bounds_lonlat`` (positive area).

    Images start on multiples of the stride (so every zoom's grid is fixed world-wide, independent of the
    bounds asked for) and never run past the edge of the Mercator square.
    """
    stride = grid_stride(span)
    n = 1 << zoom
    lon_min, lat_min, lon_max, lat_max = bounds_lonlat
    min_x, min_y = lonlat_to_mercator(lon_min, lat_min)
    max_x, max_y = lonlat_to_mercator(lon_max, lat_max)
    size = tile_size_m(zoom)
    # Tile index range (fractional) covered by the bounds.
    tx0 = (min_x + ORIGIN_SHIFT_M) / size
    tx1 = (max_x + ORIGIN_SHIFT_M) / size
    ty0 = (ORIGIN_SHIFT_M - max_y) / size
    ty1 = (ORIGIN_SHIFT_M - min_y) / size
    last_start = max(n - span, 0)
    # An image starting at s covers [s, s + span); it intersects [t0, t1) iff s < t1 and s + span > t0.
    xs = _starts(tx0, tx1, span, stride, last_start)
    ys = _starts(ty0, ty1, span, stride, last_start)
    return [GridCell(zoom, x, y, span) for y in ys for x in xs]


def _starts(t0: float, t1: float, span: int, stride: int, last_start: int) -> list[int]:
    first = max(math.floor((t0 - span) / stride) * stride, 0)
    starts = []
    s = first
    while s < t1 and s <= last_start:
        if s + span > t0:
            starts.append(s)
        s += stride
    return starts


def iter_grid_cells(bounds_lonlat: Bounds, zooms: Sequence[int], span: int) -> Iterator[GridCell]:
    """Grid cells of several zooms, coarse to fine as given."""
    for zoom in zooms:
        yield from grid_cells(bounds_lonlat, zoom, span)


# --------------------------------------------------------------------------------------------------
# Pixels of a georeferenced database image
# --------------------------------------------------------------------------------------------------
def pixel_to_lonlat(bounds_mercator: Bounds, size_px: tuple[int, int], col, row):
    """Pixel (col, row) of an image spanning ``bounds_mercator`` -> (lon, lat).

    Database images are linear in Web Mercator, so the mapping is affine in metres. ``size_px`` is
    (width, height); pixel centres are at half-integers (the GDAL convention: (0, 0) is the top-left corner).
    """
    min_x, min_y, max_x, max_y = bounds_mercator
    width, height = size_px
    mx = min_x + np.asarray(col, dtype=np.float64) * (max_x - min_x) / width
    my = max_y - np.asarray(row, dtype=np.float64) * (max_y - min_y) / height
    return mercator_to_lonlat(mx, my)


def lonlat_to_pixel(bounds_mercator: Bounds, size_px: tuple[int, int], lon, lat):
    """(lon, lat) -> pixel (col, row) of an image spanning ``bounds_mercator``; inverse of pixel_to_lonlat."""
    min_x, min_y, max_x, max_y = bounds_mercator
    width, height = size_px
    mx, my = lonlat_to_mercator(lon, lat)
    col = (np.asarray(mx) - min_x) * width / (max_x - min_x)
    row = (max_y - np.asarray(my)) * height / (max_y - min_y)
    return _unwrap(np.asarray(col)), _unwrap(np.asarray(row))


# --------------------------------------------------------------------------------------------------
# Distances and bearings on the sphere
# --------------------------------------------------------------------------------------------------
def haversine_km(lon1, lat1, lon2, lat2):
    """Great-circle distance in km on the mean-radius sphere."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp = p2 - p1
    dl = np.radians(np.asarray(lon2) - np.asarray(lon1))
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return _unwrap(np.asarray(2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))))


def initial_bearing_deg(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Bearing (degrees clockwise from north, [0, 360)) of the great circle from point 1 to point 2."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dl = math.radians(lon2 - lon1)
    y = math.sin(dl) * math.cos(p2)
    x = math.cos(p1) * math.sin(p2) - math.sin(p1) * math.cos(p2) * math.cos(dl)
    return math.degrees(math.atan2(y, x)) % 360.0


def destination_point(lon: float, lat: float, bearing_deg: float, distance_km: float) -> LonLat:
    """Point reached from (lon, lat) after ``distance_km`` along the great circle with initial bearing."""
    d = distance_km / EARTH_RADIUS_KM
    b = math.radians(bearing_deg)
    p1, l1 = math.radians(lat), math.radians(lon)
    p2 = math.asin(math.sin(p1) * math.cos(d) + math.cos(p1) * math.sin(d) * math.cos(b))
    l2 = l1 + math.atan2(math.sin(b) * math.sin(d) * math.cos(p1), math.cos(d) - math.sin(p1) * math.sin(p2))
    return (((math.degrees(l2) + 540.0) % 360.0) - 180.0, math.degrees(p2))


# --------------------------------------------------------------------------------------------------
# Earth-centred coordinates (camera geometry)
# --------------------------------------------------------------------------------------------------
def lonlat_to_ecef(lon, lat, radius_km: float = EARTH_RADIUS_KM) -> np.ndarray:
    """(lon, lat) on a sphere of ``radius_km`` -> Earth-centred xyz in km, shape (..., 3)."""
    lo, la = np.radians(lon), np.radians(lat)
    return np.stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)], axis=-1) * radius_km


def ecef_to_lonlat(xyz: np.ndarray):
    """Earth-centred xyz (..., 3) -> (lon, lat) degrees of the point's direction."""
    xyz = np.asarray(xyz, dtype=np.float64)
    lon = np.degrees(np.arctan2(xyz[..., 1], xyz[..., 0]))
    lat = np.degrees(np.arctan2(xyz[..., 2], np.hypot(xyz[..., 0], xyz[..., 1])))
    return _unwrap(np.asarray(lon)), _unwrap(np.asarray(lat))


def enu_axes(lon: float, lat: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unit East, North, Up vectors (ECEF) at (lon, lat): the local frame a camera is pointed in."""
    lo, la = math.radians(lon), math.radians(lat)
    east = np.array([-math.sin(lo), math.cos(lo), 0.0])
    north = np.array([-math.sin(la) * math.cos(lo), -math.sin(la) * math.sin(lo), math.cos(la)])
    up = np.array([math.cos(la) * math.cos(lo), math.cos(la) * math.sin(lo), math.sin(la)])
    return east, north, up


# --------------------------------------------------------------------------------------------------
# Footprint polygons
# --------------------------------------------------------------------------------------------------
def _local_equal_area(points: np.ndarray, lon0: float, lat0: float) -> np.ndarray:
    """Lambert azimuthal equal-area projection (km) centred on (lon0, lat0).

    Footprints are compared in a local equal-area plane, not in raw degrees, so that IoU and areas do not
    depend on latitude (a degree of longitude shrinks with cos(lat)).
    """
    lon = np.radians(points[:, 0] - lon0)
    lat = np.radians(points[:, 1])
    p0 = math.radians(lat0)
    cos_c = math.sin(p0) * np.sin(lat) + math.cos(p0) * np.cos(lat) * np.cos(lon)
    k = np.sqrt(2.0 / np.maximum(1.0 + cos_c, 1e-12))
    x = k * np.cos(lat) * np.sin(lon)
    y = k * (math.cos(p0) * np.sin(lat) - math.sin(p0) * np.cos(lat) * np.cos(lon))
    return np.stack([x, y], axis=1) * EARTH_RADIUS_KM


def _polygons(*footprints: Sequence[LonLat]) -> list[Polygon]:
    """Shapely polygons (km) of several footprints in one shared local projection."""
    arrays = [np.asarray(f, dtype=np.float64).reshape(-1, 2) for f in footprints]
    allpts = np.concatenate(arrays)
    lon0 = float(np.degrees(np.arctan2(np.sin(np.radians(allpts[:, 0])).mean(),
                                       np.cos(np.radians(allpts[:, 0])).mean())))
    lat0 = float(allpts[:, 1].mean())
    polys = []
    for arr in arrays:
        shifted = arr.copy()
        shifted[:, 0] = ((shifted[:, 0] - lon0 + 540.0) % 360.0) - 180.0 + lon0  # unwrap at the antimeridian
        poly = Polygon(_local_equal_area(shifted, lon0, lat0))
        polys.append(poly if poly.is_valid else poly.buffer(0))
    return polys


def polygon_area_km2(footprint: Sequence[LonLat]) -> float:
    """Ground area of a footprint polygon in km² (equal-area projection around the polygon)."""
    (poly,) = _polygons(footprint)
    return float(poly.area)


def polygon_intersection_km2(a: Sequence[LonLat], b: Sequence[LonLat]) -> float:
    """Area (km²) shared by two footprints."""
    pa, pb = _polygons(a, b)
    return float(pa.intersection(pb).area)


def polygons_intersect(a: Sequence[LonLat], b: Sequence[LonLat]) -> bool:
    """True when two footprints share a positive area: the retrieval positive criterion (docs/design.md s. 1)."""
    return polygon_intersection_km2(a, b) > 0.0


def polygon_iou(a: Sequence[LonLat], b: Sequence[LonLat]) -> float:
    """Intersection over union of two footprints, in [0, 1] (used for training pairs with IoU > 0.2)."""
    pa, pb = _polygons(a, b)
    union = pa.union(pb).area
    return float(pa.intersection(pb).area / union) if union > 0 else 0.0


def bounds_to_polygon(bounds_lonlat: Bounds) -> tuple[LonLat, ...]:
    """Bounds -> 4 corners in image order (TL, TR, BR, BL), like a footprint."""
    lon_min, lat_min, lon_max, lat_max = bounds_lonlat
    return ((lon_min, lat_max), (lon_max, lat_max), (lon_max, lat_min), (lon_min, lat_min))
