"""Default matcher: OpenCV SIFT (or ORB) + ratio test + USAC MAGSAC++ homography. Needs no weights.

Why this default: it runs anywhere (CPU, no downloads, no network), is rotation and scale invariant, and
MAGSAC++ gives a robust homography with a meaningful inlier count that the acceptance threshold is
calibrated on (see ``ml/matching/calibration.json``).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ml.matching.base import BaseMatcher, MatchResult
from ml.matching.views import query_views, to_photo

__all__ = ["OpenCVFeatures", "OpenCVMatcher"]


@dataclass(frozen=True)
class OpenCVFeatures:
    keypoints: np.ndarray  # (N, 2) float32 pixel coordinates
    descriptors: np.ndarray | None


class OpenCVMatcher(BaseMatcher):
    """SIFT (default) or ORB keypoints, ratio-test matching, MAGSAC++ homography.

    ``max_features`` caps keypoints per image (the strongest are kept) so a large mosaic stays fast; with
    ``features_per_mpx`` (default) the cap grows with the image instead (at least ``max_features``): a fixed
    cap of 8000 spread over a 2048 px mosaic left a photo footprint of ~100-200 px a handful of keypoints, too
    few inliers to accept even the right place (bench preset: 7 -> 106 inliers on ISS047-E-140894). None
    restores the fixed cap. ``ratio`` is Lowe's ratio; ``ransac_px`` is MAGSAC's threshold in
    reference pixels.

    Query side (:meth:`extract_query`, see ``ml.matching.views``): ``affine_tilts`` adds the photo stretched by
    each tilt along ``affine_directions``, ``inverted_view`` its contrast-inverted copy; their features are
    pooled with the plain photo's. ``one_to_one`` keeps, of the ratio-test matches, only the best one per
    reference keypoint and per query position (a cheap mutual-nearest-neighbour rule); pooled views need it, or
    one ground point seen in several views would count as several inliers.
    """

    def __init__(
        self,
        detector: str = "sift",
        *,
        max_features: int = 8000,
        features_per_mpx: float | None = 6000.0,
        ratio: float = 0.85,
        ransac_px: float = 4.0,
        max_iters: int = 5000,
        confidence: float = 0.999,
        one_to_one: bool = False,
        affine_tilts: tuple[float, ...] = (),
        affine_directions: tuple[float, ...] = (0.0, 90.0),
        inverted_view: bool = False,
    ) -> None:
        detector = detector.lower()
        if detector == "sift" and not hasattr(cv2, "SIFT_create"):
            detector = "orb"  # very old OpenCV builds without SIFT
        if detector not in ("sift", "orb"):
            raise ValueError(f"unknown OpenCV detector {detector!r}; use 'sift' or 'orb'")
        if any(t < 1.0 for t in affine_tilts):
            raise ValueError(f"affine tilts stretch the photo and must be >= 1, got {affine_tilts}")
        self.detector = detector
        self.name = f"opencv-{detector}"
        self.max_features = max_features
        self.features_per_mpx = features_per_mpx
        self.ratio = ratio
        self.ransac_px = ransac_px
        self.max_iters = max_iters
        self.confidence = confidence
        self.one_to_one = one_to_one or bool(affine_tilts) or inverted_view
        self.affine_tilts = tuple(affine_tilts)
        self.affine_directions = tuple(affine_directions)
        self.inverted_view = inverted_view
        self._sift_by_cap: dict[int, cv2.Feature2D] = {}
        if detector == "sift":
            self._det = cv2.SIFT_create(nfeatures=max_features)
            self._norm = cv2.NORM_L2
        else:
            self._det = cv2.ORB_create(nfeatures=max_features)
            self._norm = cv2.NORM_HAMMING

    def _detector(self, pixels: int) -> cv2.Feature2D:
        """SIFT keeping the image's cap of strongest keypoints (one detector per cap: creating one is cheap,
        and detectAndCompute shares the scale space, unlike detect then compute, which builds it twice)."""
        if self.detector != "sift" or not self.features_per_mpx:
            return self._det
        cap = max(self.max_features, round(self.features_per_mpx * pixels / 1e6 / 1000) * 1000)
        if cap not in self._sift_by_cap:
            self._sift_by_cap[cap] = cv2.SIFT_create(nfeatures=cap)
        return self._sift_by_cap[cap]

    def extract(self, image: np.ndarray) -> OpenCVFeatures:
        return self._describe(_normalised_gray(image))

    def extract_query(self, image: np.ndarray) -> OpenCVFeatures:
        gray = _normalised_gray(image)
        views = query_views(gray, affine_tilts=self.affine_tilts, affine_directions=self.affine_directions,
                            inverted=self.inverted_view)
        if len(views) == 1:
            return self._describe(gray)
        feats = [(view, self._describe(view.image)) for view in views]
        feats = [(v, f) for v, f in feats if f.descriptors is not None and len(f.keypoints)]
        if not feats:
            return OpenCVFeatures(np.zeros((0, 2), np.float32), None)
        return OpenCVFeatures(np.vstack([to_photo(f.keypoints, v) for v, f in feats]),
                              np.vstack([f.descriptors for _, f in feats]))

    def _describe(self, gray: np.ndarray) -> OpenCVFeatures:
        kps, desc = self._detector(gray.size).detectAndCompute(gray, None)
        pts = np.array([k.pt for k in kps], np.float32).reshape(-1, 2)
        if self.detector == "sift" and desc is not None:  # RootSIFT: better matching at no cost
            desc = desc / (np.abs(desc).sum(axis=1, keepdims=True) + 1e-7)
            desc = np.sqrt(desc).astype(np.float32)
        return OpenCVFeatures(pts, desc)

    def match_features(self, query: OpenCVFeatures, ref: OpenCVFeatures) -> MatchResult:
        if query.descriptors is None or ref.descriptors is None or len(query.keypoints) < 4 or len(ref.keypoints) < 4:
            return MatchResult.empty()
        bf = cv2.BFMatcher(self._norm)
        knn = bf.knnMatch(query.descriptors, ref.descriptors, k=2)
        pairs = [(m.queryIdx, m.trainIdx, m.distance) for m, *rest in (k for k in knn if k)
                 if not rest or m.distance < self.ratio * rest[0].distance]
        if self.one_to_one:
            pairs = _one_to_one(pairs, query.keypoints)
        if len(pairs) < 4:
            return MatchResult.empty()
        qi, ri = np.array([p[:2] for p in pairs], np.int64).T
        q = query.keypoints[qi].astype(np.float64)
        r = ref.keypoints[ri].astype(np.float64)
        H, mask = cv2.findHomography(q, r, cv2.USAC_MAGSAC, self.ransac_px, maxIters=self.max_iters,
                                     confidence=self.confidence)
        if H is None or mask is None:
            return MatchResult(q, r, np.zeros(len(q), bool), None)
        return MatchResult(q, r, mask.ravel().astype(bool), H / H[2, 2])


def _normalised_gray(image: np.ndarray) -> np.ndarray:
    """Luminance with local contrast equalised (CLAHE): photos are hazy and colour-shifted, mosaics are not."""
    gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY) if image.ndim == 3 else image
    return cv2.createCLAHE(clipLimit=2.0, tileGridSize=(8, 8)).apply(gray)


def _one_to_one(pairs: list[tuple[int, int, float]], query_points: np.ndarray) -> list[tuple[int, int, float]]:
    """The best (smallest distance) match per reference keypoint and per query position (rounded to 1 px)."""
    seen_ref: set[int] = set()
    seen_query: set[tuple[int, int]] = set()
    kept = []
    for qi, ri, dist in sorted(pairs, key=lambda p: p[2]):
        pos = (round(float(query_points[qi, 0])), round(float(query_points[qi, 1])))
        if ri in seen_ref or pos in seen_query:
            continue
        seen_ref.add(ri)
        seen_query.add(pos)
        kept.append((qi, ri, dist))
    return kept
