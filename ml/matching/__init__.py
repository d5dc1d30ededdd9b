"""Image matching and geometric verification: matchers, checks, refinement, footprint geometry.

Public API (pure, no Django):
- :func:`create_matcher` / :class:`BaseMatcher` / :class:`MatchResult` / :func:`match_rotations`
- :func:`check_homography` with :class:`CheckConfig` and :class:`PhotoPrior`
- :func:`refine_homography` (EarthMatch iterative refinement)
- :func:`footprint_from_homography`, :func:`transfer_homography`, :class:`GeoImage`
- :func:`calibrated_min_inliers`: the acceptance threshold fitted on synthetic truth
"""

from ml.matching.base import BaseMatcher, MatchResult, match_rotations, rotation_homography
from ml.matching.calibration import calibrated_min_inliers, load_calibration
from ml.matching.checks import CheckConfig, CheckResult, PhotoPrior, check_homography
from ml.matching.geometry import GeoImage, footprint_from_homography, transfer_homography
from ml.matching.refine import refine_homography
from ml.matching.registry import create_matcher

__all__ = [
    "BaseMatcher",
    "CheckConfig",
    "CheckResult",
    "GeoImage",
    "MatchResult",
    "PhotoPrior",
    "calibrated_min_inliers",
    "check_homography",
    "create_matcher",
    "footprint_from_homography",
    "load_calibration",
    "match_rotations",
    "refine_homography",
    "rotation_homography",
    "transfer_homography",
]
