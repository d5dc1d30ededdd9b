"""Geometric verification on real ISS photos (shared/real-samples, beside the checkout).

Right pairs (a photo with its own satellite_surrounding) should verify; wrong pairs (a photo with every
other folder's surrounding) must all be rejected. The satellite images have no known bounds, so only the
pixel checks (calibrated inlier threshold, convex unmirrored quad, aspect for the tilt) apply. As in
``label_photo``, a photo tilted by ``VerifyConfig.rectify_min_tilt_deg`` or more whose plain match fails is
matched again rectified to nadir (``ml.matching.oblique.rectified_views``).

    pytest tests/ml/test_real_samples_matching.py -m slow -s   # prints both rates, inliers and CPU per pair

``ASTROLOC_REAL_SAMPLES`` points at the folder when the checkout does not sit beside shared/ (a worktree).
"""

import csv
import os
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from ml.matching import CheckConfig, PhotoPrior, calibrated_min_inliers, check_homography, create_matcher
from ml.matching.base import MatchResult, rotate_image, rotation_homography
from ml.matching.oblique import rectified_views
from ml.verification import VerifyConfig

ROOT = Path(os.environ.get("ASTROLOC_REAL_SAMPLES",
                          Path(__file__).resolve().parents[2].parent / "shared" / "real-samples"))
PHOTO_PX, SAT_PX = 512, 1024
#: The photos were squashed to 1024 x 1024; the Nikon frame is 3:2 (landscape assumed), which the
#: rectification needs (its focal length in pixels is per the 36 mm side).
FRAME_PX = (768, 512)

pytestmark = [pytest.mark.slow,  # 64 pairs x 4 rotations of SIFT: a few minutes of CPU
              pytest.mark.timeout(1800),
              pytest.mark.skipif(not (ROOT / "metadata.csv").exists(), reason=f"{ROOT} not present")]


def _read(path: Path, px: int):
    return cv2.resize(cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB), (px, px), interpolation=cv2.INTER_AREA)


def _rectified(matcher, image, row, config: VerifyConfig) -> list[tuple[np.ndarray, object]]:
    """(homography photo px -> view px, view features) per roll direction; [] below the tilt threshold."""
    tilt = float(row["TILT_DEG"])
    if config.rectify_min_tilt_deg is None or tilt < config.rectify_min_tilt_deg:
        return []
    frame = cv2.resize(image, FRAME_PX, interpolation=cv2.INTER_CUBIC)
    unsquash = np.diag([FRAME_PX[0] / PHOTO_PX, FRAME_PX[1] / PHOTO_PX, 1.0])
    views = rectified_views(frame, float(row["FOCAL_LENGTH_MM"]), 410.0, tilt, config.rectify_directions)
    return [(H @ unsquash, matcher.extract_query(view)) for _, H, view in views]


def _best_view(matcher, views, ref) -> MatchResult:
    best = MatchResult.empty()
    for H_view, feats in views:
        res = matcher.match_features(feats, ref)
        if res.num_inliers > best.num_inliers:
            best = MatchResult(res.query_points, res.ref_points, res.inlier_mask, res.homography @ H_view)
    return best


def test_wrong_pairs_rejected_and_right_pairs_reported():
    meta = {r["MRF"]: r for r in csv.DictReader((ROOT / "metadata.csv").open())}
    ids = sorted(meta)
    matcher = create_matcher("sift")  # exactly the matcher the label job and the verification use
    config = CheckConfig(min_inliers=calibrated_min_inliers(matcher.name))
    cpu = time.process_time()
    photos = {i: _read(ROOT / i / "photo.jpg", PHOTO_PX) for i in ids}
    queries = {i: [matcher.extract_query(rotate_image(photos[i], r)) for r in (0, 90, 180, 270)] for i in ids}
    views = {i: _rectified(matcher, photos[i], meta[i], VerifyConfig()) for i in ids}
    refs = {j: matcher.extract(_read(ROOT / j / "satellite_surrounding.jpg", SAT_PX)) for j in ids}
    right, wrong = [], []
    for i in ids:
        prior = PhotoPrior(tilt_deg=float(meta[i]["TILT_DEG"]))
        for j in ids:
            best = MatchResult.empty()
            for k, rot in enumerate((0, 90, 180, 270)):
                res = matcher.match_features(queries[i][k], refs[j])
                if res.num_inliers > best.num_inliers:
                    best = MatchResult(res.query_points, res.ref_points, res.inlier_mask,
                                       res.homography @ rotation_homography(rot, (PHOTO_PX, PHOTO_PX)), rot)
            verdict = check_homography(best.homography, best.num_inliers, (PHOTO_PX, PHOTO_PX), (SAT_PX, SAT_PX),
                                       prior=prior, config=config)
            if not verdict.ok and views[i]:
                best = _best_view(matcher, views[i], refs[j])
                verdict = check_homography(best.homography, best.num_inliers, (PHOTO_PX, PHOTO_PX),
                                           (SAT_PX, SAT_PX), prior=prior, config=config)
            (right if i == j else wrong).append((i, j, verdict.ok, best.num_inliers))
    cpu = time.process_time() - cpu
    accepted_wrong = [w for w in wrong if w[2]]
    rate = sum(r[2] for r in right) / len(right)
    print(f"\nright pairs verified: {sum(r[2] for r in right)}/{len(right)} ({rate:.0%}); "
          f"wrong pairs accepted: {len(accepted_wrong)}/{len(wrong)}; max wrong inliers "
          f"{max(w[3] for w in wrong)}; threshold {config.min_inliers}; CPU {cpu:.0f} s, "
          f"{cpu / (len(right) + len(wrong)):.2f} s per pair (features included)")
    print("right pairs (photo, verified, inliers): " + ", ".join(f"{i} {ok} {n}" for i, _, ok, n in right))
    assert not accepted_wrong, f"wrong pairs accepted: {accepted_wrong}"
    # Today's level (4 of 8): the 7 of 8 is not reached by the SIFT matcher (docs/experiments/
    # real-photo-matching.md lists what was tried); a regression below today's level fails here.
    assert rate >= 0.5, f"right pairs verified {rate:.0%}: {right}"
