"""Footprint geometry: homography -> warped photo corners -> lon/lat polygon, and the helpers around it.

Why pure functions: this is where a matching result becomes a claim about the Earth, so every step is
small and tested on constructed homographies (tests/ml/test_footprint_geometry.py). Reference images are
georeferenced by their EPSG:3857 bounds (database images are linear in Web Mercator, docs/design.md s. 2), so
pixel <-> lon/lat goes through :func:`ml.geo.pixel_to_lonlat`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ml.geo import (
    KM_PER_DEGREE,
    Bounds,
    LonLat,
    haversine_km,
    lonlat_to_mercator,
    lonlat_to_pixel,
    mercator_to_lonlat,
    pixel_to_lonlat,
)

__all__ = [
    "GeoImage",
    "expected_ground_size_km",
    "footprint_from_homography",
    "image_corners",
    "is_convex_quad",
    "lonlat_bounds_around",
    "mercator_bounds",
    "quad_side_lengths_km",
    "transfer_homography",
    "warp_points",
]

#: Long side of the full-frame sensor of the ISS Nikon cameras, in mm.
SENSOR_LONG_MM = 36.0
SENSOR_SHORT_MM = 24.0


@dataclass(frozen=True)
class GeoImage:
    """An RGB image linear in Web Mercator: a database image or a mosaic of them.

    ``tiles`` lists the ids of the database images it was assembled from (the "matched tile" candidates).
    """

    image: np.ndarray  # (H, W, 3) uint8 RGB
    bounds_mercator: Bounds
    zoom: int | None = None
    year: int | None = None
    tiles: tuple = ()

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) in pixels."""
        return (self.image.shape[1], self.image.shape[0])

    def pixel_to_lonlat(self, col, row):
        return pixel_to_lonlat(self.bounds_mercator, self.size, col, row)

    def lonlat_to_pixel(self, lon, lat):
        return lonlat_to_pixel(self.bounds_mercator, self.size, lon, lat)

    def km_per_px(self) -> float:
        """Ground sampling at the image centre (Mercator metres shrink by cos(lat) on the ground)."""
        min_x, min_y, max_x, max_y = self.bounds_mercator
        _, lat = mercator_to_lonlat((min_x + max_x) / 2, (min_y + max_y) / 2)
        return (max_x - min_x) / self.size[0] * math.cos(math.radians(lat)) / 1000.0


def image_corners(size: tuple[int, int]) -> np.ndarray:
    """Corners TL, TR, BR, BL of an image of ``size`` (w, h), corner convention, shape (4, 2)."""
    w, h = size
    return np.array([[0.0, 0.0], [w, 0.0], [w, h], [0.0, h]])


def warp_points(H: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Apply a 3x3 homography to (N, 2) points. Points mapped to infinity come back as inf."""
    pts = np.asarray(points, np.float64).reshape(-1, 2)
    hom = np.hstack([pts, np.ones((len(pts), 1))]) @ np.asarray(H, np.float64).T
    with np.errstate(divide="ignore", invalid="ignore"):
        out = hom[:, :2] / hom[:, 2:3]
    out[~np.isfinite(out)] = np.inf
    out[hom[:, 2] <= 0] = np.inf  # behind the "camera": the quad folds through infinity
    return out


def footprint_from_homography(
    H: np.ndarray, photo_size: tuple[int, int], ref: GeoImage | tuple[Bounds, tuple[int, int]]
) -> tuple[LonLat, LonLat, LonLat, LonLat]:
    """The photo's footprint: its corners TL, TR, BR, BL through ``H`` into ``ref`` pixels, then lon/lat.

    ``ref`` is a :class:`GeoImage` or (bounds_mercator, (width, height)). Raises ValueError if a corner
    maps to infinity (a degenerate homography).
    """
    bounds, size = (ref.bounds_mercator, ref.size) if isinstance(ref, GeoImage) else ref
    pts = warp_points(H, image_corners(photo_size))
    if not np.all(np.isfinite(pts)):
        raise ValueError("homography sends a photo corner to infinity; no footprint")
    lon, lat = pixel_to_lonlat(bounds, size, pts[:, 0], pts[:, 1])
    return tuple((float(a), float(b)) for a, b in zip(lon, lat, strict=True))  # type: ignore[return-value]


def transfer_homography(H: np.ndarray, src: GeoImage, dst: GeoImage) -> np.ndarray:
    """Re-express a photo->``src`` pixel homography as photo->``dst`` pixels (both Mercator-linear).

    Used to carry a match found on a coarse mosaic to a finer one around it: the two pixel grids differ by
    a scale and a translation in Mercator metres.
    """
    return _pixel_to_mercator(dst, inverse=True) @ _pixel_to_mercator(src) @ H


def _pixel_to_mercator(g: GeoImage, inverse: bool = False) -> np.ndarray:
    min_x, min_y, max_x, max_y = g.bounds_mercator
    w, h = g.size
    sx, sy = (max_x - min_x) / w, (max_y - min_y) / h
    a = np.array([[sx, 0.0, min_x], [0.0, -sy, max_y], [0.0, 0.0, 1.0]])
    return np.linalg.inv(a) if inverse else a


def is_convex_quad(quad: np.ndarray) -> bool:
    """True for a simple convex quadrilateral with the winding of an image's TL, TR, BR, BL corners.

    In pixel coordinates (y down) an image's corners turn the same way at every vertex; a self-intersecting
    ("bow-tie") or concave quad changes sign, and a mirrored one (reflection) turns the other way.
    """
    q = np.asarray(quad, np.float64).reshape(4, 2)
    if not np.all(np.isfinite(q)):
        return False
    crosses = []
    for i in range(4):
        a, b, c = q[i], q[(i + 1) % 4], q[(i + 2) % 4]
        ab, bc = b - a, c - b
        crosses.append(ab[0] * bc[1] - ab[1] * bc[0])
    return bool(all(c > 0 for c in crosses))


def quad_side_lengths_km(corners: Sequence[LonLat]) -> np.ndarray:
    """Ground lengths (km) of the sides TL-TR, TR-BR, BR-BL, BL-TL of a footprint."""
    c = np.asarray(corners, np.float64).reshape(4, 2)
    n = np.roll(c, -1, axis=0)
    return np.asarray(haversine_km(c[:, 0], c[:, 1], n[:, 0], n[:, 1]), np.float64)


def expected_ground_size_km(
    focal_length_mm: float, altitude_km: float, photo_size: tuple[int, int]
) -> tuple[float, float]:
    """Nadir ground (width, height) in km of a full-frame photo: altitude x sensor side / focal length.

    The long image side gets the 36 mm sensor side. Oblique photos cover more; callers widen the bounds.
    """
    if focal_length_mm <= 0 or altitude_km <= 0:
        raise ValueError(f"focal length and altitude must be positive, got {focal_length_mm} mm, {altitude_km} km")
    long_km = altitude_km * SENSOR_LONG_MM / focal_length_mm
    short_km = altitude_km * SENSOR_SHORT_MM / focal_length_mm
    w, h = photo_size
    return (long_km, short_km) if w >= h else (short_km, long_km)


def lonlat_bounds_around(center: LonLat, radius_km: float) -> Bounds:
    """(lon_min, lat_min, lon_max, lat_max) of the square of half-side ``radius_km`` around ``center``."""
    lon, lat = center
    dlat = radius_km / KM_PER_DEGREE
    dlon = radius_km / (KM_PER_DEGREE * max(math.cos(math.radians(lat)), 0.05))
    return (lon - dlon, max(lat - dlat, -85.0), lon + dlon, min(lat + dlat, 85.0))


def mercator_bounds(bounds_lonlat: Bounds) -> Bounds:
    """Lon/lat bounds -> EPSG:3857 bounds."""
    x0, y0 = lonlat_to_mercator(bounds_lonlat[0], bounds_lonlat[1])
    x1, y1 = lonlat_to_mercator(bounds_lonlat[2], bounds_lonlat[3])
    return (x0, y0, x1, y1)
