"""Iterative homography refinement (EarthMatch, Berton et al. CVPRW 2024).

Why: a first match between a photo and a large mosaic is found across a big change of scale, rotation and
perspective, so its homography is rough. Warping the surrounding imagery with the current homography gives
a crop that looks like the photo (same orientation, scale and perspective); matching the photo against that
crop is much easier, and composing the two homographies sharpens the estimate. A few iterations suffice.
"""

from __future__ import annotations

import cv2
import numpy as np

from ml.matching.base import BaseMatcher, MatchResult
from ml.matching.geometry import image_corners, is_convex_quad, warp_points

__all__ = ["refine_homography", "warp_to_photo_frame"]


def warp_to_photo_frame(
    ref: np.ndarray, H: np.ndarray, photo_size: tuple[int, int], margin: float = 0.15
) -> tuple[np.ndarray, np.ndarray]:
    """Crop ``ref`` into the photo's frame (plus ``margin`` on each side) through photo->ref ``H``.

    Returns the crop and the 3x3 map from crop pixels to ``ref`` pixels. The margin keeps content that the
    current, slightly wrong homography would push just outside the photo frame.
    """
    w, h = photo_size
    ox, oy = margin * w, margin * h
    size = (round(w + 2 * ox), round(h + 2 * oy))
    crop_to_ref = H @ np.array([[1.0, 0.0, -ox], [0.0, 1.0, -oy], [0.0, 0.0, 1.0]])
    crop = cv2.warpPerspective(ref, crop_to_ref, size, flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                               borderMode=cv2.BORDER_CONSTANT)
    return crop, crop_to_ref


def refine_homography(
    matcher: BaseMatcher,
    photo: np.ndarray,
    ref: np.ndarray,
    H: np.ndarray,
    *,
    iterations: int = 3,
    margin: float = 0.15,
    photo_features: object | None = None,
) -> MatchResult:
    """Refine photo->``ref`` homography ``H``; returns the best iteration (most inliers) as a MatchResult.

    Each iteration: crop = ref warped into the photo frame, D = match(photo, crop), H <- crop_to_ref @ D.
    Inliers are counted between the photo and the crop of the kept iteration; correspondences are returned
    in photo and ``ref`` pixels. An iteration whose warped photo stops being a convex quad ends the loop.
    """
    h, w = photo.shape[:2]
    feats = photo_features if photo_features is not None else matcher.extract(photo)
    best = MatchResult.empty()
    current = np.asarray(H, np.float64)
    for it in range(iterations):
        crop, crop_to_ref = warp_to_photo_frame(ref, current, (w, h), margin)
        res = matcher.match_features(feats, matcher.extract(crop))
        if res.homography is None:
            break
        new = crop_to_ref @ res.homography
        new = new / new[2, 2]
        if not is_convex_quad(warp_points(new, image_corners((w, h)))):
            break
        if res.num_inliers > best.num_inliers:
            ref_pts = warp_points(crop_to_ref, res.ref_points) if len(res.ref_points) else res.ref_points
            best = MatchResult(res.query_points, ref_pts, res.inlier_mask, new, 0, {"iteration": it + 1})
        current = new
    return best
