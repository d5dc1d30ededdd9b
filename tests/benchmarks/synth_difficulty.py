"""Difficulty check of the synthetic Earth: naive retrieval must fail on it.

If colour histograms or raw downsampled pixels found the right tile, the synthetic data could not tell a
learned model from a trivial one. This runs both baselines (nearest neighbour, database tiles at 4
rotations, cosine similarity) on the test photos of a generated dataset and prints recall@1/10 next to
chance. A query is correct at N when one of its top-N tiles intersects its true footprint (docs/design.md s. 1).

    python -m tests.benchmarks.synth_difficulty --data /tmp/synth-bench
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from ml.geo import polygons_intersect
from ml.synth.loader import SynthDataset, SynthPhoto, SynthTile, load_synth

RAW_SIDE = 16
HIST_BINS = 8


def _read(path: Path) -> np.ndarray:
    img = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if img is None:
        raise FileNotFoundError(path)
    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)


def colour_histogram(img: np.ndarray) -> np.ndarray:
    """Joint RGB histogram (8^3 bins), square-rooted (Hellinger) and L2-normalised."""
    q = (img // (256 // HIST_BINS)).reshape(-1, 3).astype(np.int64)
    idx = (q[:, 0] * HIST_BINS + q[:, 1]) * HIST_BINS + q[:, 2]
    hist = np.sqrt(np.bincount(idx, minlength=HIST_BINS**3).astype(np.float32))
    return hist / max(float(np.linalg.norm(hist)), 1e-12)


def raw_pixels(img: np.ndarray) -> np.ndarray:
    """16 x 16 RGB thumbnail, zero-mean and L2-normalised (a "tiny image" descriptor)."""
    small = cv2.resize(img, (RAW_SIDE, RAW_SIDE), interpolation=cv2.INTER_AREA).astype(np.float32).ravel()
    small -= small.mean()
    return small / max(float(np.linalg.norm(small)), 1e-12)


def _rotations(img: np.ndarray) -> list[np.ndarray]:
    return [np.ascontiguousarray(np.rot90(img, k)) for k in range(4)]


def _positives(photo: SynthPhoto, tiles: list[SynthTile]) -> np.ndarray:
    lons = [c[0] for c in photo.footprint]
    lats = [c[1] for c in photo.footprint]
    out = np.zeros(len(tiles), bool)
    for i, t in enumerate(tiles):
        b = t.bounds
        if b[0] < max(lons) and b[2] > min(lons) and b[1] < max(lats) and b[3] > min(lats):
            corners = ((b[0], b[3]), (b[2], b[3]), (b[2], b[1]), (b[0], b[1]))
            out[i] = polygons_intersect(photo.footprint, corners)
    return out


def evaluate(
    ds: SynthDataset, describe: Callable[[np.ndarray], np.ndarray], photos: list[SynthPhoto], ns=(1, 10)
) -> dict[int, float]:
    """Recall@N of nearest-neighbour search with ``describe`` (tiles at 4 rotations, best rotation wins)."""
    db = np.stack([np.stack([describe(r) for r in _rotations(_read(t.path))]) for t in ds.tiles])  # T x 4 x D
    queries = np.stack([describe(_read(p.path)) for p in photos])  # Q x D
    sims = np.einsum("qd,trd->qtr", queries, db).max(axis=2)
    ranks = np.argsort(-sims, axis=1)
    hits = {n: 0 for n in ns}
    for qi, photo in enumerate(photos):
        positives = _positives(photo, ds.tiles)
        for n in ns:
            hits[n] += bool(positives[ranks[qi, :n]].any())
    return {n: hits[n] / len(photos) for n in ns}


def chance(ds: SynthDataset, photos: list[SynthPhoto], ns=(1, 10)) -> dict[int, float]:
    """Expected recall@N of a random ranking (without replacement), averaged over queries."""
    t = len(ds.tiles)
    out = {n: 0.0 for n in ns}
    for photo in photos:
        p = int(_positives(photo, ds.tiles).sum())
        for n in ns:
            miss = 1.0
            for k in range(n):
                miss *= max(t - p - k, 0) / (t - k)
            out[n] += 1.0 - miss
    return {n: v / len(photos) for n, v in out.items()}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="a generated dataset (bench preset)")
    parser.add_argument("--split", default="test")
    args = parser.parse_args(argv)
    ds = load_synth(args.data)
    photos = ds.split(args.split)
    print(f"{args.data}: {len(ds.tiles)} database tiles, {len(photos)} {args.split} photos")
    rows = [("chance (random ranking)", chance(ds, photos), 0.0)]
    for name, fn in (("colour histogram 8^3, NN", colour_histogram), ("raw pixels 16x16, NN", raw_pixels)):
        start = time.perf_counter()
        rows.append((name, evaluate(ds, fn, photos), time.perf_counter() - start))
    print(f"{'method':<28} {'R@1':>7} {'R@10':>7} {'time s':>7}")
    for name, recall, seconds in rows:
        print(f"{name:<28} {recall[1] * 100:6.1f}% {recall[10] * 100:6.1f}% {seconds:7.1f}")


if __name__ == "__main__":
    main()
