"""The AstroLoc loss ablation on a synthetic Earth: one command, one table.

Arms (the paper's Table): (a) untrained, (b) satellite-only (EarthLoc-style MS on tiles of several years,
clusters sampled uniformly, no overlap mask), (c) pairwise loss only, (d) MUM only, (e) pairs + MUM, the
latter with several seeds so the seed spread can be compared with the margins. Every arm starts from the
same random initialisation (seed 0) and trains for the same number of iterations; all are evaluated on the
test photos against the latest year's tiles at 4 rotations, overall and per nadir-distance group, next to a
raw-pixel reference row (what a learned model must beat).

    python -m ml.synth generate --preset bench --out /tmp/synth-bench
    nice -n 10 python -m ml.ablation --data /tmp/synth-bench --out runs/ablation [--jobs 2] [--resume]
"""

from __future__ import annotations

import argparse
import functools
import json
import multiprocessing
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch

from ml.data.images import ImageStore
from ml.data.records import PhotoRecord, TileRecord
from ml.data.transforms import AugmentConfig
from ml.evaluate import NADIR_BINS_KM, ROTATIONS, RecallResult, evaluate, nadir_groups, positives_for, recall_at_n
from ml.models.checkpoint import load_model, save_checkpoint
from ml.train import Progress, TrainConfig, TrainData, build_model, fit

__all__ = [
    "ARMS",
    "ArmResult",
    "default_config",
    "format_table",
    "ordering_check",
    "raw_pixel_baseline",
    "run_ablation",
]

RAW_SIDE = 16  # the "tiny image" baseline of ml/synth/README.md: 16 x 16 RGB, zero-mean, L2-normalised

ARMS: dict[str, dict | None] = {
    "a_untrained": None,
    "b_satellite_only": {
        "pair_loss_weight": 0.0,
        "mum_loss_weight": 1.0,
        "cluster_mode": "uniform",
        "mum_ignore_overlap": False,
    },
    "c_pairs": {"pair_loss_weight": 1.0, "mum_loss_weight": 0.0},
    "d_mum": {
        "pair_loss_weight": 0.0,
        "mum_loss_weight": 1.0,
        "cluster_mode": "proportional",
        "mum_ignore_overlap": True,
    },
    "e_pairs_mum": {
        "pair_loss_weight": 1.0,
        "mum_loss_weight": 1.0,
        "cluster_mode": "proportional",
        "mum_ignore_overlap": True,
    },
}


@dataclass(frozen=True)
class ArmResult:
    arm: str
    seed: int
    recall: RecallResult
    train_s: float
    eval_s: float


def _raw_pixels(images: torch.Tensor) -> np.ndarray:
    small = torch.nn.functional.adaptive_avg_pool2d(images.float(), RAW_SIDE).flatten(1)
    small = small - small.mean(dim=1, keepdim=True)
    return torch.nn.functional.normalize(small, dim=1).numpy()


def raw_pixel_baseline(
    test_photos: Sequence[PhotoRecord], database: Sequence[TileRecord], store: ImageStore
) -> RecallResult:
    """Nearest neighbour on 16 x 16 thumbnails under the arms' protocol (same queries, database, rotations).

    A reference row: a trained arm below it has learned less than raw pixels already know.
    """
    positives = positives_for(test_photos, database)
    keep = [i for i, p in enumerate(positives) if len(p)]
    q = _raw_pixels(torch.stack([store.get(test_photos[i].path) for i in keep]))
    db = np.stack(
        [_raw_pixels(torch.stack([torch.rot90(store.get(t.path), k, dims=(-2, -1)) for k in ROTATIONS]))
         for t in database]
    )
    groups = nadir_groups([test_photos[i] for i in keep])
    result = recall_at_n(q, db, [positives[i] for i in keep], (1, 5, 10, 20, 100), groups=groups)
    return RecallResult(result.recalls, result.num_queries, len(test_photos) - len(keep), result.by_group)


def _run_arm(
    arm: str,
    seed: int,
    base: TrainConfig,
    init: Path,
    data: TrainData,
    test_photos: Sequence[PhotoRecord],
    database: Sequence[TileRecord],
    out_dir: Path,
    log: Callable[[str], None] | None = None,
    store: ImageStore | None = None,
    resume: bool = False,
) -> ArmResult:
    """Train one arm from the shared initialisation (arm (a): no training) and evaluate it on the test set."""
    log = log or functools.partial(print, flush=True)
    if base.num_threads:
        torch.set_num_threads(base.num_threads)
    overrides = ARMS[arm]
    t0 = time.perf_counter()
    if overrides is None:
        trained = load_model(init)
    else:
        config = replace(
            base, init_checkpoint=str(init), seed=seed, out_dir=str(out_dir / f"{arm}_s{seed}"), **overrides
        )
        log(f"== {arm} seed {seed}: training {config.iterations} iterations")

        def report(p: Progress) -> None:
            if p.phase == "train" and p.iteration % 50 == 0:
                terms = " ".join(f"{k} {v:.4f}" for k, v in p.losses.items())
                log(f"   {arm} s{seed} it {p.iteration}/{p.total} {terms} ({time.perf_counter() - t0:.0f}s)")

        trained = load_model(fit(config, data, store=store, resume=resume, progress=report).last_checkpoint)
    t1 = time.perf_counter()
    recall = evaluate(
        trained,
        test_photos,
        database,
        ns=(1, 5, 10, 20, 100),
        batch_size=base.embed_batch_size,
        device=base.device,
        store=store,
    )
    result = ArmResult(arm, seed, recall, t1 - t0, time.perf_counter() - t1)
    log(
        f"   {arm} seed {seed}: "
        + " ".join(f"R@{n}={v:.3f}" for n, v in recall.recalls.items())
        + f" (train {result.train_s:.0f}s, eval {result.eval_s:.0f}s)"
    )
    return result


def run_ablation(
    base: TrainConfig,
    train_tiles: Sequence[TileRecord],
    train_photos: Sequence[PhotoRecord],
    test_photos: Sequence[PhotoRecord],
    database: Sequence[TileRecord],
    *,
    out_dir: Path,
    arms: Sequence[str] = tuple(ARMS),
    extra_seeds: Sequence[int] = (1,),
    seeded_arms: Sequence[str] = ("e_pairs_mum",),
    jobs: int = 1,
    resume: bool = False,
    log: Callable[[str], None] | None = None,
) -> list[ArmResult]:
    """Train and evaluate every arm; the trained arms of `seeded_arms` also once per extra seed.

    Returns one result per run.

    `resume` continues each arm from its `last.pt` (an interrupted ablation; a finished arm is only
    re-evaluated).
    `jobs` > 1 trains arms in that many single-threaded worker processes, the most expensive arms first.
    Why: on a small shared CPU, one process per core wastes nothing in thread barriers (a 2-thread step
    waits for whichever thread the scheduler delayed), and arms are independent once the init is shared.
    """
    log = log or functools.partial(print, flush=True)
    init = out_dir / "init.pt"
    torch.manual_seed(0)
    model = build_model(replace(base, init_checkpoint=None))
    save_checkpoint(init, model, metrics={"note": "shared random initialisation of every arm"})
    store = ImageStore(model.preprocessing.size)
    data = TrainData(train_tiles, train_photos)
    t0 = time.perf_counter()
    raw = raw_pixel_baseline(test_photos, database, store)
    reference = ArmResult("ref_raw_pixels_16x16", 0, raw, 0.0, time.perf_counter() - t0)
    log(f"   reference raw pixels 16x16: R@1={raw.recalls[1]:.3f} R@10={raw.recalls[10]:.3f}")
    runs = [(arm, base.seed) for arm in arms]
    runs += [(arm, s) for arm in arms if arm in seeded_arms and ARMS[arm] is not None for s in extra_seeds]
    if jobs <= 1:
        results = [
            _run_arm(a, s, base, init, data, test_photos, database, out_dir, log, store, resume) for a, s in runs
        ]
        return [reference, *results]
    worker_base = replace(base, num_threads=max(1, (base.num_threads or jobs) // jobs))
    # The comparison the claim hinges on, (e) vs (c), starts first so a cut-short run still tells something;
    # then the most expensive arms first, so the workers finish close together.
    cost = {"e_pairs_mum": 3, "c_pairs": 2, "b_satellite_only": 1, "d_mum": 1, "a_untrained": 0}
    first = [r for r in (("e_pairs_mum", base.seed), ("c_pairs", base.seed)) if r in runs]
    ordered = first + sorted((r for r in runs if r not in first), key=lambda r: -cost.get(r[0], 1))
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
        futures = {
            run: pool.submit(
                _run_arm, *run, worker_base, init, data, test_photos, database, out_dir, None, None, resume
            )
            for run in ordered
        }
        results = [futures[run].result() for run in runs]
    return [reference, *results]


# The paper's claim, as (better arm, worse arm) on R@1: (e) > (c), (d) > (b) > (a), i.e. (e) beats (c) and
# (d), both beat (b), and (b) beats (a).
PAPER_ORDERING = (
    ("e_pairs_mum", "c_pairs"),
    ("e_pairs_mum", "d_mum"),
    ("c_pairs", "b_satellite_only"),
    ("d_mum", "b_satellite_only"),
    ("b_satellite_only", "a_untrained"),
)


def ordering_check(results: Sequence[ArmResult]) -> str:
    """Each claimed comparison of `PAPER_ORDERING` with its R@1 margin against the seed spread.

    An arm run with several seeds counts with its mean. The bar is the largest seed spread (max - min R@1) of
    any arm run with several seeds: the issue asks for margins above (e)'s spread, and another arm's spread,
    when measured, is as much a measure of run-to-run noise. Comparisons of arms that did not run are left out.
    """
    by_arm: dict[str, list[float]] = {}
    for r in results:
        by_arm.setdefault(r.arm, []).append(100 * r.recall.recalls[1])
    spreads = {arm: max(v) - min(v) for arm, v in by_arm.items() if len(v) > 1}
    if spreads:
        bar = max(spreads.values())
        lines = ["seed spread at R@1: " + ", ".join(f"{arm} {v:.1f}" for arm, v in spreads.items())]
    else:
        bar = None
        lines = ["seed spread: no arm ran with several seeds"]
    for better, worse in PAPER_ORDERING:
        if better not in by_arm or worse not in by_arm:
            continue
        margin = float(np.mean(by_arm[better])) - float(np.mean(by_arm[worse]))
        verdict = "holds" if bar is not None and margin > bar else "FAILS"
        lines.append(f"{better} > {worse}: R@1 margin {margin:+.1f} -> {verdict}")
    return "\n".join(lines)


def format_table(results: Sequence[ArmResult]) -> str:
    """Markdown table of R@1/R@10/R@100 (percent), R@1 per nadir-distance group, and wall times."""
    groups = [name for name, _, _ in NADIR_BINS_KM]
    lines = [
        "| arm | seed | R@1 | R@10 | R@100 | "
        + " | ".join(f"R@1 {g}" for g in groups)
        + " | queries (excluded) | train s | eval s |",
        "|---|---|---|---|---|" + "---|" * len(groups) + "---|---|---|",
    ]
    for r in results:
        rc = r.recall.recalls
        by_group = [r.recall.by_group.get(g) for g in groups]
        cells = [f"{100 * g['recalls'][1]:.1f} ({g['queries']})" if g else "-" for g in by_group]
        lines.append(
            f"| {r.arm} | {r.seed} | {100 * rc[1]:.1f} | {100 * rc[10]:.1f} | {100 * rc[100]:.1f} | "
            + " | ".join(cells)
            + f" | {r.recall.num_queries} ({r.recall.num_excluded}) | {r.train_s:.0f} | {r.eval_s:.0f} |"
        )
    return "\n".join(lines)


def default_config() -> TrainConfig:
    """The settings every arm shares unless `--config` replaces them (ml/configs/cpu_small.yaml holds the same)."""
    return TrainConfig(
        # GeM and no augmentation of the pairs learn fastest from scratch at this budget (pairs-only, 300
        # steps: R@1 14.1 SALAD + augmentation, 15.4 GeM, 17.0 no augmentation; docs/experiments/ml-ablation.md).
        # Half of the tile-only losses' tiles are degraded like photos, so tile-only training does not learn
        # detail that photos lose (chosen on the seed-1 Earth, never on the seed-0 one the table uses).
        model_preset="resnet18_gem",
        model_overrides={"image_size": 96},
        augment=replace(AugmentConfig.none(), mum_photo_like=0.5),
        iterations=400,  # six trainings in two single-threaded workers: ~22 min on a 2-core machine
        lr=6e-4,  # a cosine averages half its peak: the mean rate of a constant 3e-4, annealed at the end
        lr_schedule="cosine",
        warmup_iterations=20,
        pairs_per_batch=16,
        mum_locations_per_batch=8,
        num_clusters=20,
        recluster_every=100,
        checkpoint_every=100,  # an interrupted ablation continues with --resume
        val_every=0,
        embed_batch_size=64,
    )


def main(argv: Sequence[str] | None = None) -> None:
    """CLI: run the ablation on a synthetic Earth root and print the table."""
    from ml.data.synth_adapter import records_from_synth

    parser = argparse.ArgumentParser(
        prog="python -m ml.ablation",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--data", required=True, help="synthetic Earth root (python -m ml.synth generate)")
    parser.add_argument("--out", default="runs/ablation", help="directory for checkpoints and results")
    parser.add_argument("--config", help="YAML with TrainConfig fields shared by all arms (defaults below)")
    parser.add_argument("--iterations", type=int, default=None)
    parser.add_argument("--arms", nargs="+", default=list(ARMS), choices=list(ARMS))
    parser.add_argument("--extra-seeds", type=int, nargs="*", default=[1], help="more seeds for --seeded-arms")
    parser.add_argument("--seeded-arms", nargs="*", default=["e_pairs_mum"], choices=list(ARMS),
                        help="arms also trained with each extra seed (default (e), as the issue asks)")
    parser.add_argument("--threads", type=int, default=2, help="torch threads in all (split among --jobs)")
    parser.add_argument("--resume", action="store_true", help="continue arms from their last.pt in --out")
    parser.add_argument("--jobs", type=int, default=2, help="arms trained at once, in worker processes")
    args = parser.parse_args(argv)
    base = TrainConfig.from_yaml(args.config) if args.config else default_config()
    if args.iterations:
        base = replace(base, iterations=args.iterations)
    base = replace(base, data_root=args.data, num_threads=args.threads)
    torch.set_num_threads(args.threads)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    base.dump_yaml(out / "base_config.yaml")
    start = time.perf_counter()
    records = records_from_synth(args.data)
    results = run_ablation(
        base,
        records.tiles,
        records.photos["train"],
        records.photos["test"],
        records.database(),
        out_dir=out,
        arms=args.arms,
        extra_seeds=args.extra_seeds,
        seeded_arms=args.seeded_arms,
        jobs=args.jobs,
        resume=args.resume,
    )
    table = format_table(results) + "\n\n" + ordering_check(results)
    wall = time.perf_counter() - start
    print(table)
    print(f"\ntotal wall time {wall:.0f}s ({wall / 60:.1f} min)")
    (out / "table.md").write_text(table + f"\n\ntotal wall time {wall:.0f}s\n")
    (out / "results.json").write_text(
        json.dumps(
            [
                {"arm": r.arm, "seed": r.seed, "train_s": r.train_s, "eval_s": r.eval_s} | r.recall.to_dict()
                for r in results
            ],
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
