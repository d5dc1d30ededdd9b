"""The matcher interface every backend implements, and the 4-rotation query.

Why a base class: the labeling and verification code only needs "two images in, correspondences,
homography and inlier count out". Hiding the backend (OpenCV SIFT, a learned matcher) behind
:class:`BaseMatcher` lets the platform swap matchers by name without touching the geometry.
Features are extracted separately from matching so that a large reference image (a surrounding mosaic) is
described once and matched against the query at four rotations.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

__all__ = ["BaseMatcher", "MatchResult", "match_rotations", "rotate_image", "rotation_homography"]


@dataclass(frozen=True)
class MatchResult:
    """Correspondences between a query (photo) and a reference (satellite) image.

    ``homography`` maps query pixels (x, y; (0, 0) is the top-left corner) to reference pixels; ``None``
    when no homography could be estimated. ``rotation`` (degrees, clockwise) is the query rotation that
    gave this result; ``homography`` already includes it, so it always applies to the unrotated query.
    """

    query_points: np.ndarray  # (N, 2) float, all tentative correspondences in the query
    ref_points: np.ndarray  # (N, 2) float
    inlier_mask: np.ndarray  # (N,) bool
    homography: np.ndarray | None
    rotation: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def num_inliers(self) -> int:
        return int(self.inlier_mask.sum()) if self.homography is not None else 0

    @property
    def num_matches(self) -> int:
        return len(self.query_points)

    @classmethod
    def empty(cls, rotation: int = 0) -> MatchResult:
        z = np.zeros((0, 2), np.float64)
        return cls(z, z.copy(), np.zeros(0, bool), None, rotation)


class BaseMatcher(ABC):
    """Two RGB uint8 images in, :class:`MatchResult` out.

    Subclasses implement :meth:`extract` (per-image work, cached by callers) and :meth:`match_features`.
    Detector-free matchers can return the (preprocessed) image from ``extract``.
    """

    name: str = "base"

    @abstractmethod
    def extract(self, image: np.ndarray) -> Any:
        """Per-image features (keypoints + descriptors, or a preprocessed tensor)."""

    @abstractmethod
    def match_features(self, query: Any, ref: Any) -> MatchResult:
        """Correspondences and a robust homography between two extracted images."""

    def extract_query(self, image: np.ndarray) -> Any:
        """Features of a photo (the query side). A backend may add work here that a reference image never
        needs (extra views of the photo, see ``ml.matching.views``); database images always go through
        :meth:`extract`, so their features can be stored once per matcher and options."""
        return self.extract(image)

    def match(self, query: np.ndarray, ref: np.ndarray) -> MatchResult:
        """Match two images (query -> reference)."""
        return self.match_features(self.extract_query(query), self.extract(ref))


def rotation_homography(rotation: int, size: tuple[int, int]) -> np.ndarray:
    """3x3 map from pixels of an image of ``size`` (w, h) to pixels of it rotated clockwise by ``rotation``.

    Uses the corner convention (pixel (0, 0) is the top-left corner, the image spans [0, w] x [0, h]),
    consistent with ``np.rot90``.
    """
    w, h = size
    rotation %= 360
    if rotation == 0:
        return np.eye(3)
    if rotation == 90:  # clockwise: (x, y) -> (h - y, x)
        return np.array([[0.0, -1.0, h], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    if rotation == 180:
        return np.array([[-1.0, 0.0, w], [0.0, -1.0, h], [0.0, 0.0, 1.0]])
    if rotation == 270:  # (x, y) -> (y, w - x)
        return np.array([[0.0, 1.0, 0.0], [-1.0, 0.0, w], [0.0, 0.0, 1.0]])
    raise ValueError(f"rotation must be a multiple of 90 degrees, got {rotation}")


def rotate_image(image: np.ndarray, rotation: int) -> np.ndarray:
    """Rotate clockwise by a multiple of 90 degrees (matches :func:`rotation_homography`)."""
    k = (rotation % 360) // 90
    return np.ascontiguousarray(np.rot90(image, k=-k)) if k else image


def match_rotations(
    matcher: BaseMatcher,
    query: np.ndarray,
    ref: np.ndarray | Any,
    rotations: tuple[int, ...] = (0, 90, 180, 270),
    *,
    ref_extracted: bool = False,
) -> MatchResult:
    """Match ``query`` at each rotation against ``ref``; keep the result with most inliers.

    Astronauts hold the camera in any orientation, so the photo's "up" is arbitrary; learned matchers
    are not rotation invariant, and even SIFT gains a little from trying the four right angles.
    The returned homography maps pixels of the *unrotated* query to the reference.
    Pass ``ref_extracted=True`` when ``ref`` is already the output of ``matcher.extract``.
    """
    ref_feats = ref if ref_extracted else matcher.extract(ref)
    h, w = query.shape[:2]
    best = MatchResult.empty()
    for rotation in rotations:
        res = matcher.match_features(matcher.extract_query(rotate_image(query, rotation)), ref_feats)
        if res.num_inliers <= best.num_inliers:
            continue
        rot = rotation_homography(rotation, (w, h))
        inv = np.linalg.inv(rot)
        qpts = cv2.perspectiveTransform(res.query_points.reshape(-1, 1, 2).astype(np.float64), inv).reshape(-1, 2)
        best = MatchResult(qpts, res.ref_points, res.inlier_mask, res.homography @ rot, rotation, res.extra)
    return best
