"""Oblique photos: their expected ground size, and the homography that makes them look straight down.

Why: an astronaut photo taken 40-60 deg off nadir sees the ground from a slant range 1.5-2.5 x the altitude,
foreshortened along the look direction. SIFT tolerates rotation and scale but not such an anisotropic
stretch, and the nadir rule (altitude x sensor / focal) underestimates the footprint, so the search would
pick the wrong zoom and query scale. Rotating the camera virtually to nadir about its own centre is a
homography of the image (K R K^-1); the unknown roll is tried in a few directions.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from ml.geo import EARTH_RADIUS_KM
from ml.matching.geometry import SENSOR_LONG_MM, SENSOR_SHORT_MM, image_corners, is_convex_quad, warp_points

__all__ = ["incidence_deg", "oblique_ground_size_km", "rectified_views", "slant_range_km", "tilt_rectification"]


def slant_range_km(altitude_km: float, tilt_deg: float) -> float:
    """Distance from the spacecraft to the ground point on a ray ``tilt_deg`` off nadir (spherical Earth)."""
    t = math.radians(tilt_deg)
    r, big = EARTH_RADIUS_KM, EARTH_RADIUS_KM + altitude_km
    disc = r * r - (big * math.sin(t)) ** 2
    if disc < 0:
        raise ValueError(f"a ray {tilt_deg} deg off nadir from {altitude_km} km misses the Earth")
    return big * math.cos(t) - math.sqrt(disc)


def oblique_ground_size_km(focal_length_mm: float, altitude_km: float, tilt_deg: float,
                           photo_size: tuple[int, int]) -> tuple[float, float]:
    """Ground (width, height) in km around the photo centre: slant range x sensor / focal length, with the
    side along the look direction further stretched by 1 / cos(incidence). Equals the nadir rule at tilt 0.

    The roll is unknown, so the stretch is shared between both sides (geometric mean): the returned sizes
    have the right area and a mean width that does not depend on how the camera was turned.
    """
    rng = slant_range_km(altitude_km, tilt_deg)
    stretch = math.sqrt(1.0 / max(math.cos(math.radians(incidence_deg(altitude_km, tilt_deg))), 0.05))
    long_km = rng * SENSOR_LONG_MM / focal_length_mm * stretch
    short_km = rng * SENSOR_SHORT_MM / focal_length_mm * stretch
    w, h = photo_size
    return (long_km, short_km) if w >= h else (short_km, long_km)


def incidence_deg(altitude_km: float, tilt_deg: float) -> float:
    """Angle between the ray ``tilt_deg`` off nadir and the local vertical where it meets the (spherical) ground:
    the off-nadir angle plus the Earth-central angle, the tilt of the ground as the camera sees it."""
    s = (EARTH_RADIUS_KM + altitude_km) / EARTH_RADIUS_KM * math.sin(math.radians(tilt_deg))
    if s > 1.0:
        raise ValueError(f"a ray {tilt_deg} deg off nadir from {altitude_km} km misses the Earth")
    return math.degrees(math.asin(s))


def tilt_rectification(photo_size: tuple[int, int], focal_length_mm: float, incidence: float,
                       direction_deg: float) -> tuple[np.ndarray, tuple[int, int]] | None:
    """Homography photo px -> "straight down" px, and the output size; None if the view cannot be undone.

    The camera is turned by ``incidence`` (:func:`incidence_deg`: the ground's tilt as seen from the camera,
    not the off-nadir angle) about its image axis perpendicular to ``direction_deg`` (the far side
    of the scene is at the image top for 0, at the right for 90 ...: the synthetic camera's roll). The
    output keeps the photo's pixel count, so its resolution stays comparable. Composing a match on the
    rectified image with this homography gives the match of the photo itself.
    """
    w, h = photo_size
    f = focal_length_mm / SENSOR_LONG_MM * max(w, h)  # square pixels: 36 mm across the long side
    K = np.array([[f, 0.0, w / 2], [0.0, f, h / 2], [0.0, 0.0, 1.0]])
    t, r = math.radians(incidence), math.radians(direction_deg)
    pitch = np.array([[1.0, 0.0, 0.0], [0.0, math.cos(t), -math.sin(t)], [0.0, math.sin(t), math.cos(t)]])
    # Image axes of the rolled camera are those of the unrolled one turned by the roll: undo it first.
    roll = np.array([[math.cos(r), math.sin(r), 0.0], [-math.sin(r), math.cos(r), 0.0], [0.0, 0.0, 1.0]])
    H = K @ pitch @ roll.T @ np.linalg.inv(K)
    corners = warp_points(H, image_corners((w, h)))
    if not np.all(np.isfinite(corners)) or not is_convex_quad(corners):
        return None
    lo, hi = corners.min(axis=0), corners.max(axis=0)
    x, y = corners[:, 0], corners[:, 1]
    area = 0.5 * abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))
    scale = math.sqrt(w * h / area)
    fit = np.array([[scale, 0.0, -scale * lo[0]], [0.0, scale, -scale * lo[1]], [0.0, 0.0, 1.0]])
    H = fit @ H
    size = (max(8, math.ceil(scale * (hi[0] - lo[0]))), max(8, math.ceil(scale * (hi[1] - lo[1]))))
    return H / H[2, 2], size


def rectified_views(image: np.ndarray, focal_length_mm: float | None, altitude_km: float | None,
                    tilt_deg: float | None, directions: tuple[float, ...]
                    ) -> list[tuple[float, np.ndarray, np.ndarray]]:
    """(direction, homography photo px -> view px, view image) of ``image`` rectified to nadir for each roll
    direction (degrees in [0, 180) suffice: the opposite direction gives nearly the same view); [] when the
    tilt, focal length or altitude is unknown or the view cannot be undone."""
    if not (tilt_deg and focal_length_mm and altitude_km):
        return []
    try:
        incidence = incidence_deg(altitude_km, tilt_deg)
    except ValueError:
        return []
    h, w = image.shape[:2]
    views = []
    for direction in directions:
        rect = tilt_rectification((w, h), focal_length_mm, incidence, direction)
        if rect is not None:
            H, size = rect
            views.append((direction, H, cv2.warpPerspective(image, H, size, flags=cv2.INTER_AREA)))
    return views
