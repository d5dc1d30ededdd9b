"""Query views: the photo seen as the satellite image would show it, for features the plain photo lacks.

Why: SIFT is invariant to rotation, scale and a brightness offset, not to what separates a hand-held photo from
a cloudless mosaic: an oblique or squashed frame stretches the ground anisotropically (ASIFT, Morel & Yu 2009:
simulate the affine tilts), and sun glint, ice or salt make water and lakes brighter than the land around them
while the mosaic shows them dark, so every gradient on a coastline points the other way. Each view is a warp
of the photo with a known affine map, so its keypoints go back to photo pixels and the views' features can be
pooled into one set (``OpenCVMatcher.extract_query``): one RANSAC over all of them, not a best-of-N that would
give wrong pairs N chances. Views are work on the query side only; database images are described once, plainly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

__all__ = ["QueryView", "affine_view", "query_views", "to_photo"]


@dataclass(frozen=True)
class QueryView:
    """A view image and the 2x3 affine map from its pixels back to the photo's."""

    image: np.ndarray
    to_photo: np.ndarray  # (2, 3)
    name: str


def affine_view(gray: np.ndarray, tilt: float, direction_deg: float) -> QueryView:
    """The photo stretched by ``tilt`` along ``direction_deg`` (0: x axis, 90: y axis), undoing a foreshortening.

    Stretching rather than ASIFT's subsampling keeps every pixel of the short axis; the view is enlarged to hold
    the whole stretched frame.
    """
    h, w = gray.shape[:2]
    c, s = math.cos(math.radians(direction_deg)), math.sin(math.radians(direction_deg))
    R = np.array([[c, s], [-s, c]])
    A = R.T @ np.diag([tilt, 1.0]) @ R  # stretch along the direction, about the origin
    corners = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float64) @ A.T
    lo, hi = corners.min(axis=0), corners.max(axis=0)
    M = np.hstack([A, -lo[:, None]])
    size = (math.ceil(hi[0] - lo[0]), math.ceil(hi[1] - lo[1]))
    image = cv2.warpAffine(gray, M, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    return QueryView(image, cv2.invertAffineTransform(M), f"tilt {tilt:g} at {direction_deg:g} deg")


def query_views(gray: np.ndarray, *, affine_tilts: tuple[float, ...] = (),
                affine_directions: tuple[float, ...] = (0.0, 90.0), inverted: bool = False) -> list[QueryView]:
    """The plain photo, its affine-stretched views (each tilt > 1 along each direction) and, with ``inverted``,
    the contrast-inverted photo (water bright in the photo, dark in the mosaic)."""
    identity = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    views = [QueryView(gray, identity, "plain")]
    views += [affine_view(gray, t, d) for t in affine_tilts if t > 1.0 for d in affine_directions]
    if inverted:
        views.append(QueryView(255 - gray, identity, "inverted"))
    return views


def to_photo(points: np.ndarray, view: QueryView) -> np.ndarray:
    """Keypoints (N, 2) of ``view`` in photo pixels."""
    if len(points) == 0:
        return points.reshape(0, 2)
    return (np.hstack([points, np.ones((len(points), 1), points.dtype)]) @ view.to_photo.T).astype(np.float32)
