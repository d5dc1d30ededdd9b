"""The labeling evaluation's bookkeeping: calibration split, acceptance precision/recall, failure report."""


import pytest

from ml.labeling_eval import acceptance_stats, failure_report, fit_threshold, split_photos
from ml.synth.loader import load_synth


def _row(accepted: bool, correct: bool, inliers: int, candidate_correct=None, reason="") -> dict:
    return {"accepted": accepted, "correct": correct, "inliers": inliers, "candidate_correct": candidate_correct,
            "reason": reason, "weak_err_km": 50.0, "focal": 300.0}


def test_acceptance_recall_counts_right_places_held_back_by_the_threshold():
    rows = [_row(True, True, 40), _row(True, True, 30), _row(True, False, 12),
            _row(False, False, 8, candidate_correct=True, reason="too few inliers: 8 < 10"),
            _row(False, False, 9, candidate_correct=False, reason="too few inliers: 9 < 10"),
            _row(False, False, 0, reason="no homography could be estimated")]
    stats = acceptance_stats(rows)
    assert stats["precision"] == pytest.approx(2 / 3) and stats["recall"] == pytest.approx(2 / 3)
    assert stats["correct_rejected"] == 1 and stats["wrong_rejected_by_threshold"] == 1
    report = failure_report(rows)
    assert "| too few inliers | 2 |" in report and "| no homography could be estimated | 1 |" in report
    assert "accepted but wrong (IoU < 0.5): 1" in report


def test_threshold_fit_rises_above_the_wrong_candidates():
    rows = [_row(True, True, 40 + i) for i in range(20)] + [_row(True, False, 14), _row(True, False, 11)]
    fit = fit_threshold(rows, target_precision=0.98)
    assert fit["min_inliers"] == 15 and fit["precision"] == 1.0 and fit["recall"] == 1.0


def test_calibration_split_is_disjoint_from_the_evaluation_photos(tmp_path_factory):
    from ml.synth.config import get_preset
    from ml.synth.generate import generate

    root = tmp_path_factory.mktemp("tiny")
    generate(get_preset("tiny", 0), root)
    ds = load_synth(root)
    train, calib = split_photos(ds, "train"), split_photos(ds, "calib")
    assert {p.split for p, _ in train} == {"train"} and {p.split for p, _ in calib} == {"val", "test"}
    assert all(weak == p.weak_center for p, weak in train)
    assert len(calib) == len(ds.split("val")) + len(ds.split("test"))
    for p, weak in calib:  # drawn by the generator's rule: rounded to 0.5 degree, near the true centre
        assert weak[0] * 2 == round(weak[0] * 2) and abs(weak[0] - p.center[0]) < 6
    assert split_photos(ds, "calib") == calib  # seeded: the same weak labels every run
    with pytest.raises(ValueError, match="unknown split 'test'"):
        split_photos(ds, "test")
