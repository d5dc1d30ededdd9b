"""Geometric sanity checks: reject a homography that cannot be a photo of the ground, with a reason.

Why: RANSAC always returns *some* homography. A wrong match is recognisable by its geometry long before a
person looks at it: few inliers, a warped photo that folds over itself or is mirrored, a ground footprint
far too big or small for the lens (ground width ~ altitude x 36 mm / focal length), a stretched shape, or
a place far from the hand-clicked centre. Each failed check names itself so the photo can be sent to
review with an actionable reason.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ml.geo import LonLat, haversine_km, polygon_area_km2
from ml.matching.geometry import (
    GeoImage,
    expected_ground_size_km,
    footprint_from_homography,
    image_corners,
    is_convex_quad,
    quad_side_lengths_km,
    warp_points,
)

__all__ = ["CheckConfig", "CheckResult", "PhotoPrior", "check_homography"]


@dataclass(frozen=True)
class PhotoPrior:
    """What the metadata says about where and how large the footprint should be (any field may be None)."""

    focal_length_mm: float | None = None
    altitude_km: float | None = None
    tilt_deg: float | None = None
    weak_center: LonLat | None = None
    uncertainty_km: float | None = None


@dataclass(frozen=True)
class CheckConfig:
    """Tolerances. ``min_inliers`` defaults to the calibrated value (ml/matching/calibration.json)."""

    min_inliers: int = 20
    #: Allowed footprint area / nadir area (altitude x sensor / focal). Oblique photos add 1/cos(tilt)^3.
    area_ratio_min: float = 0.3
    area_ratio_max: float = 3.0
    #: Allowed factor between the ground aspect ratio and the photo's, before the tilt allowance.
    aspect_tolerance: float = 1.6
    #: Allowed factor between opposite sides of the warped photo, before the tilt allowance (x 1/cos(tilt)). A
    #: camera's far side is longer than its near side by the ratio of their slant ranges: at most 1.82 over the
    #: 1480 bench photos (tilt 0-60 deg). A homography sending one corner towards infinity gives ~1000 (bench
    #: ISS059-E-57256 was accepted 299 km off with 45 inliers, sides 1227 and 0.3 km).
    max_opposite_side_ratio: float = 3.0
    #: Tilt assumed when the metadata has none (degrees); generous on purpose.
    default_tilt_deg: float = 60.0
    #: Footprint centre may lie at most this many uncertainty radii from the weak centre. Above 1 because the
    #: labeling searches a square of half-side radius + most of a footprint (corners up to 1.41 radii away):
    #: on the bench preset, right footprints were rejected at 305 and 314 km with a 300 km radius.
    max_center_distance_factor: float = 1.25
    #: Minimum warped-photo area in reference pixels (a few pixels is a degenerate collapse).
    min_quad_area_px: float = 64.0


@dataclass(frozen=True)
class CheckResult:
    ok: bool
    reason: str = ""
    footprint: tuple[LonLat, ...] | None = None
    center: LonLat | None = None


def check_homography(
    H: np.ndarray | None,
    num_inliers: int,
    photo_size: tuple[int, int],
    ref_size: tuple[int, int],
    *,
    ref: GeoImage | None = None,
    prior: PhotoPrior | None = None,
    config: CheckConfig | None = None,
) -> CheckResult:
    """Run every check that the available information allows; the first failure gives the reason.

    Without ``ref`` (no georeference, e.g. a satellite image of unknown bounds) only the pixel checks run
    (inliers, shape, aspect); with it, the ground checks run too and the result carries the footprint.
    """
    cfg = config or CheckConfig()
    prior = prior or PhotoPrior()
    if H is None or not np.all(np.isfinite(H)):
        return CheckResult(False, "no homography could be estimated")
    if num_inliers < cfg.min_inliers:
        return CheckResult(False, f"too few inliers: {num_inliers} < {cfg.min_inliers}")
    quad = warp_points(H, image_corners(photo_size))
    if not is_convex_quad(quad):
        return CheckResult(False, "warped photo is not a convex quadrilateral (self-intersecting, concave or mirrored)")
    area_px = _shoelace(quad)
    if area_px < cfg.min_quad_area_px:
        return CheckResult(False, f"warped photo collapses to {area_px:.0f} px^2")
    cx, cy = warp_points(H, np.array([[photo_size[0] / 2, photo_size[1] / 2]]))[0]
    if not (0 <= cx <= ref_size[0] and 0 <= cy <= ref_size[1]):
        return CheckResult(False, "photo centre maps outside the satellite image")

    tilt = prior.tilt_deg if prior.tilt_deg is not None else cfg.default_tilt_deg
    stretch = 1.0 / max(math.cos(math.radians(min(tilt, 80.0))), 0.1)
    sides = np.linalg.norm(np.roll(quad, -1, axis=0) - quad, axis=1)  # Mercator is conformal: px aspect = ground
    reason = (_aspect_reason(sides, photo_size, cfg.aspect_tolerance * stretch)
              or _opposite_sides_reason(sides, cfg.max_opposite_side_ratio * stretch))
    if reason:
        return CheckResult(False, reason)
    if ref is None:
        return CheckResult(True)

    footprint = footprint_from_homography(H, photo_size, ref)
    clon, clat = ref.pixel_to_lonlat(cx, cy)
    center = (float(clon), float(clat))
    if prior.focal_length_mm and prior.altitude_km:
        gw, gh = expected_ground_size_km(prior.focal_length_mm, prior.altitude_km, photo_size)
        ratio = polygon_area_km2(footprint) / (gw * gh)
        hi = cfg.area_ratio_max * stretch**3
        if not cfg.area_ratio_min <= ratio <= hi:
            return CheckResult(False, f"footprint area is {ratio:.2f} x the expected {gw:.0f} x {gh:.0f} km "
                                      f"for {prior.focal_length_mm:.0f} mm (allowed {cfg.area_ratio_min}-{hi:.1f})")
        ground_sides = quad_side_lengths_km(footprint)
        if not np.all(ground_sides > 0):
            return CheckResult(False, "footprint has a zero-length side")
    if prior.weak_center is not None and prior.uncertainty_km:
        dist = float(haversine_km(center[0], center[1], prior.weak_center[0], prior.weak_center[1]))
        limit = prior.uncertainty_km * cfg.max_center_distance_factor
        if dist > limit:
            return CheckResult(False, f"footprint centre is {dist:.0f} km from the weak label (limit {limit:.0f} km)")
    return CheckResult(True, "", footprint, center)


def _shoelace(q: np.ndarray) -> float:
    x, y = q[:, 0], q[:, 1]
    return float(abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))) / 2)


def _opposite_sides_reason(sides: np.ndarray, tolerance: float) -> str:
    """Ratio of the longer to the shorter of each pair of opposite sides (top/bottom, right/left)."""
    ratio = max(max(sides[0], sides[2]) / max(min(sides[0], sides[2]), 1e-9),
                max(sides[1], sides[3]) / max(min(sides[1], sides[3]), 1e-9))
    if ratio > tolerance:
        return f"warped photo's opposite sides differ {ratio:.1f} x (allowed {tolerance:.1f} x for the tilt)"
    return ""


def _aspect_reason(sides: np.ndarray, photo_size: tuple[int, int], tolerance: float) -> str:
    """Ratio of the warped width (top, bottom) to height (right, left) vs the photo's own aspect."""
    width, height = (sides[0] + sides[2]) / 2, (sides[1] + sides[3]) / 2
    if height <= 0 or width <= 0:
        return "warped photo has a zero-length side"
    factor = (width / height) / (photo_size[0] / photo_size[1])
    if not 1 / tolerance <= factor <= tolerance:
        return f"warped aspect ratio is {factor:.2f} x the photo's (allowed 1/{tolerance:.1f}-{tolerance:.1f})"
    return ""
