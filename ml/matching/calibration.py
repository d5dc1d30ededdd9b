"""The calibrated acceptance threshold on inliers, stored with the method in ``calibration.json``.

Why a file: the threshold is a fitted number with provenance (dataset, preset, seed, matcher, date,
precision/recall at the chosen value), not a guess in code. ``python -m ml.labeling_eval --calibrate``
rewrites it.
"""

from __future__ import annotations

import json
from pathlib import Path

__all__ = ["CALIBRATION_PATH", "calibrated_min_inliers", "load_calibration"]

CALIBRATION_PATH = Path(__file__).with_name("calibration.json")


def load_calibration(path: Path = CALIBRATION_PATH) -> dict:
    """The calibration record (threshold + provenance)."""
    return json.loads(Path(path).read_text())


def calibrated_min_inliers(matcher: str = "opencv-sift", path: Path = CALIBRATION_PATH) -> int:
    """Calibrated minimum inlier count for ``matcher``; raises KeyError naming the calibrated matchers."""
    record = load_calibration(path)
    try:
        return int(record["matchers"][matcher]["min_inliers"])
    except KeyError:
        raise KeyError(f"no calibrated threshold for matcher {matcher!r} in {path}; calibrated: "
                       f"{sorted(record.get('matchers', {}))}. Run python -m ml.labeling_eval --calibrate") from None
