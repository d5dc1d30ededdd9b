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
import multiprocessing
import statistics
import sys
import time
from dataclasses import replace
from datetime import date
from pathlib import Path

import cv2
import numpy as np

from ml.geo import LonLat, haversine_km, polygon_iou
from ml.labeling import WEAK_LABEL_UNCERTAINTY_KM, PhotoInput, label_photo, synth_tile_records
from ml.matching.calibration import CALIBRATION_PATH, load_calibration
from ml.matching.registry import create_matcher
from ml.synth.loader import SynthDataset, SynthPhoto, load_synth
from ml.synth.photos import weak_label
from ml.verification import ComputedFeatures, TileImagery, VerifyConfig, default_check_config

__all__ = ["evaluate", "fit_threshold", "main"]

FOCAL_BANDS = ((0, 200, "<=200"), (200, 400, "200-400"), (400, 800, "400-800"), (800, 1e9, ">800"))


def _row(photo: SynthPhoto, weak: LonLat, result, iou_min: float) -> dict:
    iou = polygon_iou(result.footprint, photo.footprint) if result.accepted else 0.0
    err = float(haversine_km(*result.center, *photo.center)) if result.accepted else None
    # A rejected result whose only failing check was the inlier threshold: was it the right place?
    cand_iou = polygon_iou(result.candidate, photo.footprint) if result.candidate is not None else None
    return {"photo_id": photo.photo_id, "accepted": result.accepted, "inliers": result.inliers, "iou": iou,
            "correct": result.accepted and iou >= iou_min, "center_err_km": err, "reason": result.reason,
            "candidate_correct": None if cand_iou is None else cand_iou >= iou_min,
            "weak_err_km": float(haversine_km(*weak, *photo.center)), "attempts": list(result.attempts),
            "focal": photo.focal_length_mm, "tilt": photo.tilt_deg, "cloud": photo.cloud_pct,
            "seconds": result.seconds}


def split_photos(ds: SynthDataset, split: str, *, sigma_deg: float = 1.0, seed: int = 12345
                 ) -> list[tuple[SynthPhoto, LonLat]]:
    """Photos of an evaluation split with the weak label the labeling sees.

    ``train``: the training photos that carry a weak label (the generator's, as in the EOL CSV).
    ``calib``: the val and test photos, which carry none, with weak labels drawn by the generator's own rule
    (``ml.synth.photos.weak_label``: N(0, sigma) degrees per axis, rounded to 0.5 degree) from a fixed seed.
    Photos never seen by the evaluation, so an inlier threshold fitted on them is not fitted on its test set.
    """
    if split == "train":
        return [(p, p.weak_center) for p in ds.split("train") if p.weak_center is not None]
    if split == "calib":
        rng = np.random.default_rng(seed)
        return [(p, weak_label(rng, p.center, sigma_deg)) for p in ds.split("val") + ds.split("test")]
    raise ValueError(f"unknown split {split!r}; use 'train' (evaluation) or 'calib' (calibration)")


_WORKER: dict = {}


def _init_worker(data: Path, cfg: VerifyConfig) -> None:
    cv2.setNumThreads(1)
    ds = load_synth(data)
    matcher = create_matcher(cfg.matcher, **dict(cfg.matcher_options))
    # Database-image features are extracted on first use and kept (the platform stores them at embed time).
    _WORKER.update(imagery=TileImagery(synth_tile_records(ds), ComputedFeatures(matcher), matcher), cfg=cfg,
                   matcher=matcher)


def _label_one(job: tuple[SynthPhoto, LonLat, float, float]) -> dict:
    p, weak, uncertainty_km, iou_min = job
    image = cv2.cvtColor(cv2.imread(str(p.path)), cv2.COLOR_BGR2RGB)
    inp = PhotoInput(image, weak, uncertainty_km, p.focal_length_mm, p.altitude_km, p.tilt_deg, p.photo_id)
    cpu = time.process_time()
    result = label_photo(inp, _WORKER["imagery"], config=_WORKER["cfg"], matcher=_WORKER["matcher"])
    # CPU seconds too: on a shared machine the wall time mostly measures the other users.
    return _row(p, weak, result, iou_min) | {"cpu_seconds": time.process_time() - cpu}


def evaluate(data: Path, *, config: VerifyConfig | None = None, limit: int | None = None, offset: int = 0,
             split: str = "train",
             uncertainty_km: float = WEAK_LABEL_UNCERTAINTY_KM, iou_min: float = 0.5, workers: int = 1,
             sink: Path | None = None,
             log=print) -> list[dict]:
    """Label every photo of ``split`` (see :func:`split_photos`) of the dataset at ``data``; one row per photo.

    ``workers`` > 1 labels photos in that many processes (one OpenCV thread each); rows keep photo order.
    ``sink``: each row is also appended there (JSON lines) as it completes, so a long run that is stopped keeps
    what it did (``--report`` prints the tables from such a file).
    """
    ds = load_synth(data)
    cfg = config or VerifyConfig()
    jobs = [(p, weak, uncertainty_km, iou_min) for p, weak in split_photos(ds, split)][offset:][:limit]
    rows: list[dict] = []
    out = sink.open("a") if sink else None

    def keep(row: dict) -> None:
        rows.append(row)
        if out:
            out.write(json.dumps(row) + "\n")
            out.flush()
        if log and len(rows) % 20 == 0:
            log(f"  {len(rows)}/{len(jobs)} photos", flush=True)

    try:
        if workers > 1:
            with multiprocessing.get_context("fork").Pool(workers, _init_worker, (data, cfg)) as pool:
                for row in pool.imap(_label_one, jobs, chunksize=1):
                    keep(row)
        else:
            _init_worker(data, cfg)
            for job in jobs:
                keep(_label_one(job))
    finally:
        if out:
            out.close()
    return rows


def _stats(rows: list[dict]) -> dict:
    n = len(rows)
    acc = [r for r in rows if r["accepted"]]
    errs = [r["center_err_km"] for r in acc]
    cpu = [r["cpu_seconds"] for r in rows if "cpu_seconds" in r]
    return {"n": n, "coverage": len(acc) / n if n else float("nan"),
            "precision": sum(r["correct"] for r in acc) / len(acc) if acc else float("nan"),
            "median_err_km": statistics.median(errs) if errs else float("nan"),
            "median_cpu_s": statistics.median(cpu) if cpu else float("nan")}


def report(rows: list[dict]) -> str:
    """Markdown table: overall, by focal band, tilt, cloud, and the cloud < 50 % target subset."""
    groups = [("all", rows), ("cloud < 50%", [r for r in rows if r["cloud"] < 50])]
    groups += [(f"focal {name} mm", [r for r in rows if lo < r["focal"] <= hi]) for lo, hi, name in FOCAL_BANDS]
    groups += [("tilt < 40", [r for r in rows if r["tilt"] < 40]), ("tilt >= 40", [r for r in rows if r["tilt"] >= 40])]
    groups += [("cloud < 40", [r for r in rows if r["cloud"] < 40]),
               ("cloud >= 40", [r for r in rows if r["cloud"] >= 40])]
    lines = ["| group | n | coverage | precision (IoU>=0.5) | median centre err km | median CPU s |",
             "|---|---|---|---|---|---|"]
    for name, g in groups:
        s = _stats(g)
        if s["n"]:
            lines.append(f"| {name} | {s['n']} | {s['coverage']:.1%} | {s['precision']:.1%} | "
                         f"{s['median_err_km']:.2f} | {s['median_cpu_s']:.1f} |")
    secs = [r["seconds"] for r in rows]
    lines.append(f"\ntime per photo: mean {statistics.mean(secs):.2f} s, median {statistics.median(secs):.2f} s wall")
    cpu = [r["cpu_seconds"] for r in rows if "cpu_seconds" in r]
    if cpu:
        lines[-1] += f"; CPU mean {statistics.mean(cpu):.2f} s, median {statistics.median(cpu):.2f} s (one thread)"
    return "\n".join(lines)


def failure_report(rows: list[dict]) -> str:
    """Why photos were not labeled: the recorded reason, grouped by its kind, with how far the weak label was."""
    missed = [r for r in rows if not r["accepted"]]
    kinds: dict[str, list[dict]] = {}
    for r in missed:
        kinds.setdefault(r["reason"].split(":")[0].split(" is ")[0][:60], []).append(r)
    lines = ["| why not labeled | photos | median weak-label error km | median focal mm |", "|---|---|---|---|"]
    for kind, group in sorted(kinds.items(), key=lambda kv: -len(kv[1])):
        lines.append(f"| {kind} | {len(group)} | {statistics.median(r['weak_err_km'] for r in group):.0f} | "
                     f"{statistics.median(r['focal'] for r in group):.0f} |")
    wrong = [r for r in rows if r["accepted"] and not r["correct"]]
    lines.append(f"\naccepted but wrong (IoU < 0.5): {len(wrong)}")
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


def acceptance_stats(rows: list[dict]) -> dict:
    """Precision and recall of the acceptance decision.

    Precision: accepted footprints that are correct. Recall: accepted correct footprints among every photo
    whose matching found the right place (accepted correct, or rejected only for the inlier threshold with a
    footprint that would have been correct).
    """
    accepted = [r for r in rows if r["accepted"]]
    correct = sum(r["correct"] for r in accepted)
    missed = sum(1 for r in rows if not r["accepted"] and r.get("candidate_correct"))
    wrong_held_back = sum(1 for r in rows if not r["accepted"] and r.get("candidate_correct") is False)
    return {"accepted": len(accepted), "correct": correct, "precision": correct / len(accepted) if accepted else 1.0,
            "recall": correct / (correct + missed) if correct + missed else float("nan"),
            "correct_rejected": missed, "wrong_rejected_by_threshold": wrong_held_back}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ml.labeling_eval", description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="a generated synthetic dataset")
    parser.add_argument("--limit", type=int, default=None, help="only the first N photos of each split")
    parser.add_argument("--offset", type=int, default=0, help="skip the first N photos (to split a run in shards)")
    parser.add_argument("--uncertainty-km", type=float, default=WEAK_LABEL_UNCERTAINTY_KM)
    parser.add_argument("--calibrate", action="store_true",
                        help="fit and store the inlier threshold on the calibration split (val + test) first")
    parser.add_argument("--target-precision", type=float, default=0.98)
    parser.add_argument("--calibrate-only", action="store_true", help="fit and store; skip the evaluation run")
    parser.add_argument("--workers", type=int, default=1, help="label photos in this many processes")
    parser.add_argument("--min-inliers", type=int, default=None,
                        help="evaluate at this threshold instead of the calibrated one")
    parser.add_argument("--json", type=Path, default=None,
                        help="write per-photo rows here (JSON lines, appended as they complete)")
    parser.add_argument("--report", type=Path, default=None, help="only print the tables of rows saved by --json")
    parser.add_argument("--calibrate-from", type=Path, default=None,
                        help="with --calibrate: fit on calibration rows saved by an earlier run instead of labeling")
    parser.add_argument("--matcher-options", type=json.loads, default={},
                        help='matcher constructor options as JSON, e.g. \'{"affine_tilts": [1.5]}\' (lists become '
                             'tuples); the calibrated threshold of the matcher\'s name applies')
    args = parser.parse_args(argv)
    if args.report:
        print_report(list(_read_rows(args.report).values()))
        return 0
    options = tuple((k, tuple(v) if isinstance(v, list) else v) for k, v in sorted(args.matcher_options.items()))
    cfg = VerifyConfig(matcher_options=options)
    matcher_name = create_matcher(cfg.matcher, **dict(cfg.matcher_options)).name
    if args.calibrate:
        loose = replace(default_check_config(matcher_name), min_inliers=cfg.coarse_min_inliers)
        if args.calibrate_from:  # rows of an earlier (possibly stopped) calibration run
            rows = list(_read_rows(args.calibrate_from).values())
        else:
            rows = evaluate(args.data, config=replace(cfg, checks=loose), limit=args.limit, split="calib",
                            uncertainty_km=args.uncertainty_km, workers=args.workers,
                            sink=args.json.with_suffix(".calib.jsonl") if args.json else None)
        fit = fit_threshold(rows, args.target_precision)
        # Nothing below the permissive gate was observed, so the threshold cannot be lower than it.
        fit["min_inliers"] = max(fit["min_inliers"], cfg.coarse_min_inliers)
        record = load_calibration() if CALIBRATION_PATH.exists() else {"matchers": {}}
        synth = load_synth(args.data).config
        record["matchers"][matcher_name] = {
            **fit, "target_precision": args.target_precision, "dataset": str(args.data),
            "preset": synth.get("name"), "seed": synth.get("seed"), "split": "calib (val + test photos, weak labels "
            "drawn by the generator's rule, seed 12345); evaluated on the train photos", "photos": len(rows),
            "date": date.today().isoformat(),
            "method": "smallest t with precision >= target among permissive-gate results with >= t inliers "
                      "(and for t..t+9); python -m ml.labeling_eval --calibrate",
        }
        CALIBRATION_PATH.write_text(json.dumps(record, indent=2) + "\n")
        print(f"calibrated min_inliers={fit['min_inliers']} on {len(rows)} calibration photos: precision "
              f"{fit['precision']:.1%}, recall {fit['recall']:.1%} over {fit['candidates']} candidates "
              f"-> {CALIBRATION_PATH}", flush=True)
        if args.calibrate_only:
            return 0
    # Pin the threshold for the whole run (the calibration file may be rewritten meanwhile).
    checks = default_check_config(matcher_name)
    cfg = replace(cfg, checks=replace(checks, min_inliers=args.min_inliers or checks.min_inliers))
    start = time.perf_counter()
    rows = evaluate(args.data, config=cfg, limit=args.limit, offset=args.offset, uncertainty_km=args.uncertainty_km,
                    workers=args.workers, sink=args.json)
    print(f"threshold min_inliers={cfg.check_config(matcher_name).min_inliers}; "
          f"{len(rows)} photos in {time.perf_counter() - start:.0f} s with {args.workers} process(es)")
    print_report(rows)
    return 0


def _read_rows(path: Path) -> dict[str, dict]:
    """Rows saved as JSON lines; several shards may be in one file, and a photo counts once."""
    rows: dict[str, dict] = {}
    for line in path.read_text().splitlines():
        if line.strip():
            row = json.loads(line)
            rows[row["photo_id"]] = row
    return rows


def print_report(rows: list[dict]) -> None:
    """Coverage tables, acceptance precision/recall and the failure reasons of evaluation rows."""
    print(report(rows))
    acc = acceptance_stats(rows)
    print(f"acceptance on the evaluation photos: precision {acc['precision']:.1%} "
          f"({acc['correct']}/{acc['accepted']}), "
          f"recall {acc['recall']:.1%} (correct footprints rejected by the threshold: {acc['correct_rejected']}; "
          f"wrong ones it held back: {acc['wrong_rejected_by_threshold']})")
    print(failure_report(rows))


if __name__ == "__main__":
    sys.exit(main())
