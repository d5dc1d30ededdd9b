"""Evaluate (and calibrate) automated labeling on a synthetic Earth whose truth is known.

    python -m ml.labeling_eval --data /tmp/synth-bench [--limit N] [--calibrate]

Reports, over the training photos that carry a weak label: coverage (share receiving a footprint),
precision (IoU >= 0.5 with the true footprint, among accepted), median centre error (km), by focal band,
tilt and cloud, and time per photo. ``--calibrate`` first runs with a permissive inlier gate, fits the
smallest inlier threshold whose precision reaches ``--target-precision`` and writes it with its provenance
to ml/matching/calibration.json (the threshold the labeling uses by default).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from dataclasses import replace
from datetime import date
from pathlib import Path

import cv2

from ml.geo import haversine_km, polygon_iou
from ml.labeling import LabelConfig, PhotoInput, TileMosaicProvider, default_check_config, label_photo
from ml.matching.calibration import CALIBRATION_PATH, load_calibration
from ml.matching.registry import create_matcher
from ml.synth.loader import SynthPhoto, load_synth

__all__ = ["evaluate", "fit_threshold", "main"]

FOCAL_BANDS = ((0, 200, "<=200"), (200, 400, "200-400"), (400, 800, "400-800"), (800, 1e9, ">800"))


def _row(photo: SynthPhoto, result, iou_min: float) -> dict:
    iou = polygon_iou(result.footprint, photo.footprint) if result.accepted else 0.0
    err = float(haversine_km(*result.center, *photo.center)) if result.accepted else None
    return {"photo_id": photo.photo_id, "accepted": result.accepted, "inliers": result.inliers, "iou": iou,
            "correct": result.accepted and iou >= iou_min, "center_err_km": err, "reason": result.reason,
            "focal": photo.focal_length_mm, "tilt": photo.tilt_deg, "cloud": photo.cloud_pct,
            "seconds": result.seconds}


def evaluate(data: Path, *, config: LabelConfig | None = None, limit: int | None = None,
             uncertainty_km: float = 300.0, iou_min: float = 0.5, log=print) -> list[dict]:
    """Label every weakly labeled training photo of the dataset at ``data``; one row per photo."""
    ds = load_synth(data)
    provider = TileMosaicProvider.from_synth(ds)
    cfg = config or LabelConfig()
    matcher = create_matcher(cfg.matcher)
    photos = [p for p in ds.split("train") if p.weak_center is not None][:limit]
    rows = []
    for i, p in enumerate(photos):
        image = cv2.cvtColor(cv2.imread(str(p.path)), cv2.COLOR_BGR2RGB)
        inp = PhotoInput(image, p.weak_center, uncertainty_km, p.focal_length_mm, p.altitude_km, p.tilt_deg,
                         p.photo_id)
        rows.append(_row(p, label_photo(inp, provider, config=cfg, matcher=matcher), iou_min))
        if log and (i + 1) % 20 == 0:
            log(f"  {i + 1}/{len(photos)} photos", flush=True)
    return rows


def _stats(rows: list[dict]) -> dict:
    n = len(rows)
    acc = [r for r in rows if r["accepted"]]
    errs = [r["center_err_km"] for r in acc]
    return {"n": n, "coverage": len(acc) / n if n else float("nan"),
            "precision": sum(r["correct"] for r in acc) / len(acc) if acc else float("nan"),
            "median_err_km": statistics.median(errs) if errs else float("nan")}


def report(rows: list[dict]) -> str:
    """Markdown table: overall, by focal band, tilt, cloud, and the cloud < 50 % target subset."""
    groups = [("all", rows), ("cloud < 50%", [r for r in rows if r["cloud"] < 50])]
    groups += [(f"focal {name} mm", [r for r in rows if lo < r["focal"] <= hi]) for lo, hi, name in FOCAL_BANDS]
    groups += [("tilt < 40", [r for r in rows if r["tilt"] < 40]), ("tilt >= 40", [r for r in rows if r["tilt"] >= 40])]
    groups += [("cloud < 40", [r for r in rows if r["cloud"] < 40]),
               ("cloud >= 40", [r for r in rows if r["cloud"] >= 40])]
    lines = ["| group | n | coverage | precision (IoU>=0.5) | median centre err km |", "|---|---|---|---|---|"]
    for name, g in groups:
        s = _stats(g)
        if s["n"]:
            lines.append(f"| {name} | {s['n']} | {s['coverage']:.1%} | {s['precision']:.1%} | "
                         f"{s['median_err_km']:.2f} |")
    secs = [r["seconds"] for r in rows]
    lines.append(f"\ntime per photo: mean {statistics.mean(secs):.2f} s, median {statistics.median(secs):.2f} s")
    return "\n".join(lines)


def fit_threshold(rows: list[dict], target_precision: float = 0.98) -> dict:
    """Smallest inlier threshold t whose precision (among results with >= t inliers) reaches the target.

    Rows come from a run with a permissive gate, so each accepted row is a candidate whose correctness is
    known. Recall at t = correct candidates kept / all correct candidates.
    """
    cands = [r for r in rows if r["accepted"]]
    correct_total = sum(r["correct"] for r in cands)
    for t in range(1, max((r["inliers"] for r in cands), default=1) + 2):
        kept = [r for r in cands if r["inliers"] >= t]
        if not kept:
            break
        prec = sum(r["correct"] for r in kept) / len(kept)
        # Require the target at t and at every larger threshold, so the choice is not a lucky dip.
        tail_ok = all(sum(r["correct"] for r in cands if r["inliers"] >= u) / max(1, sum(
            r["inliers"] >= u for r in cands)) >= target_precision for u in range(t, t + 10))
        if prec >= target_precision and tail_ok:
            recall = sum(r["correct"] for r in kept) / max(correct_total, 1)
            return {"min_inliers": t, "precision": prec, "recall": recall, "candidates": len(cands),
                    "correct_candidates": correct_total}
    raise RuntimeError("no inlier threshold reaches the target precision; collect more photos")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ml.labeling_eval", description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="a generated synthetic dataset")
    parser.add_argument("--limit", type=int, default=None, help="only the first N weakly labeled photos")
    parser.add_argument("--uncertainty-km", type=float, default=300.0)
    parser.add_argument("--calibrate", action="store_true", help="fit and store the inlier threshold first")
    parser.add_argument("--target-precision", type=float, default=0.98)
    parser.add_argument("--calibrate-only", action="store_true", help="fit and store; skip the evaluation run")
    parser.add_argument("--json", type=Path, default=None, help="write per-photo rows here")
    args = parser.parse_args(argv)
    cfg = LabelConfig()
    matcher_name = create_matcher(cfg.matcher).name
    if args.calibrate:
        loose = replace(default_check_config(matcher_name), min_inliers=cfg.coarse_min_inliers)
        rows = evaluate(args.data, config=replace(cfg, checks=loose), limit=args.limit,
                        uncertainty_km=args.uncertainty_km)
        fit = fit_threshold(rows, args.target_precision)
        # Nothing below the permissive gate was observed, so the threshold cannot be lower than it.
        fit["min_inliers"] = max(fit["min_inliers"], cfg.coarse_min_inliers)
        record = load_calibration() if CALIBRATION_PATH.exists() else {"matchers": {}}
        record["matchers"][matcher_name] = {
            **fit, "target_precision": args.target_precision, "dataset": str(args.data),
            "preset": load_synth(args.data).config.get("name"), "seed": load_synth(args.data).config.get("seed"),
            "photos": len(rows), "date": date.today().isoformat(),
            "method": "smallest t with precision >= target among permissive-gate results with >= t inliers "
                      "(and for t..t+9); python -m ml.labeling_eval --calibrate",
        }
        CALIBRATION_PATH.write_text(json.dumps(record, indent=2) + "\n")
        print(f"calibrated min_inliers={fit['min_inliers']}: precision {fit['precision']:.1%}, "
              f"recall {fit['recall']:.1%} over {fit['candidates']} candidates -> {CALIBRATION_PATH}")
        if args.calibrate_only:
            return 0
    start = time.perf_counter()
    rows = evaluate(args.data, config=cfg, limit=args.limit, uncertainty_km=args.uncertainty_km)
    print(f"threshold min_inliers={cfg.check_config(matcher_name).min_inliers}; "
          f"{len(rows)} photos in {time.perf_counter() - start:.0f} s")
    print(report(rows))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
