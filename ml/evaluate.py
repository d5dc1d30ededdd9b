"""Recall@N of photo -> tile retrieval, the paper's metric.

Database tiles are embedded at 4 rotations (0/90/180/270) under one id each; a query is correct at N if any of
its N best distinct tiles intersects its true footprint. Queries with no intersecting tile in the database
cannot be answered and are excluded (and counted), as in EarthLoc/AstroLoc.
`recall_at_n` is a pure function of
descriptors; `evaluate` embeds records first.

EarthLoc reports its test sets separately because difficulty depends on where a photo looks relative to the
ISS: near-nadir photos are seen straight down, oblique ones (far from the nadir) are foreshortened and hazy.
`evaluate` therefore also splits the queries by the distance from the nadir to the footprint centre
(`NADIR_BINS_KM`) and reports recall per group, when photos carry a nadir.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from ml.data.footprints import FootprintIndex
from ml.data.images import ImageStore
from ml.data.records import PhotoRecord, TileRecord
from ml.embed import embed_files
from ml.geo import haversine_km
from ml.index import TileIndex
from ml.models.descriptor import DescriptorModel

__all__ = [
    "DEFAULT_NS",
    "NADIR_BINS_KM",
    "RecallResult",
    "evaluate",
    "nadir_distance_km",
    "nadir_groups",
    "positives_for",
    "recall_at_n",
]

DEFAULT_NS = (1, 5, 10, 20, 100)
ROTATIONS = (0, 1, 2, 3)
#: Query groups by nadir -> footprint-centre distance (km): near-vertical, oblique, high oblique.
NADIR_BINS_KM: tuple[tuple[str, float, float], ...] = (
    ("nadir<200km", 0.0, 200.0),
    ("nadir200-500km", 200.0, 500.0),
    ("nadir>=500km", 500.0, float("inf")),
)


@dataclass(frozen=True)
class RecallResult:
    recalls: dict[int, float]  # N -> fraction in [0, 1] of the answerable queries
    num_queries: int  # answerable queries (with at least one positive)
    num_excluded: int  # queries without any positive tile in the database
    #: group name -> {"queries": n, "recalls": {N: fraction}} (answerable queries of each group)
    by_group: dict[str, dict] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


def positives_for(photos: Sequence[PhotoRecord], tiles: Sequence[TileRecord]) -> list[np.ndarray]:
    """For each photo, the indices of tiles whose footprint shares ground with the photo's footprint."""
    index = FootprintIndex([t.footprint for t in tiles])
    empty = np.zeros(0, dtype=np.int64)
    return [index.overlapping(p.footprint) if p.footprint is not None else empty for p in photos]


def nadir_distance_km(photo: PhotoRecord) -> float | None:
    """Great-circle distance from the photo's nadir to its footprint centre (None without both)."""
    if photo.nadir is None or photo.footprint is None:
        return None
    corners = np.asarray(photo.footprint[:4], dtype=float)
    lon, lat = corners.mean(axis=0)
    return float(haversine_km(photo.nadir[0], photo.nadir[1], lon, lat))


def nadir_groups(photos: Sequence[PhotoRecord]) -> list[str | None]:
    """Each photo's `NADIR_BINS_KM` group name, None when its nadir is unknown."""
    out: list[str | None] = []
    for p in photos:
        d = nadir_distance_km(p)
        out.append(None if d is None else next(name for name, lo, hi in NADIR_BINS_KM if lo <= d < hi))
    return out


def recall_at_n(
    query_desc: np.ndarray,
    db_desc: np.ndarray,
    positives: Sequence[np.ndarray],
    ns: Sequence[int] = DEFAULT_NS,
    groups: Sequence[str | None] | None = None,
) -> RecallResult:
    """Recall@N for queries [Q, D] against a database [T, R, D] (R rotations of T tiles; ids = tile indices).

    `positives[q]` holds the tile indices counting as correct for query q; `groups[q]` (optional) names the
    group query q is also reported in (None: overall only).
    """
    if db_desc.ndim == 2:
        db_desc = db_desc[:, None, :]
    t, r, d = db_desc.shape
    answerable = np.array([len(p) > 0 for p in positives], dtype=bool)
    if len(positives) != len(query_desc):
        raise ValueError(f"recall_at_n: {len(query_desc)} queries but {len(positives)} positive sets")
    ns = sorted(ns)
    if not answerable.any():
        return RecallResult({n: 0.0 for n in ns}, 0, len(positives))
    index = TileIndex(d, exact_threshold=np.iinfo(np.int64).max, threads=1).build(
        db_desc.reshape(t * r, d), np.repeat(np.arange(t, dtype=np.int64), r)
    )
    k = min(max(ns), t)
    ids, _ = index.search(query_desc[answerable], k, rotations=r)
    pos = [set(p.tolist()) for p, ok in zip(positives, answerable, strict=True) if ok]
    first_hit = np.array(
        [
            next((rank for rank, i in enumerate(row) if i in p), np.inf)
            for row, p in zip(ids, pos, strict=True)
        ]
    )
    recalls = {n: float(np.mean(first_hit < n)) for n in ns}
    by_group: dict[str, dict] = {}
    if groups is not None:
        if len(groups) != len(positives):
            raise ValueError(f"recall_at_n: {len(groups)} groups for {len(positives)} queries")
        kept = np.array([g for g, ok in zip(groups, answerable, strict=True) if ok], dtype=object)
        for name in dict.fromkeys(g for g in kept if g is not None):
            hits = first_hit[kept == name]
            by_group[name] = {"queries": len(hits), "recalls": {n: float(np.mean(hits < n)) for n in ns}}
    return RecallResult(recalls, int(answerable.sum()), int((~answerable).sum()), by_group)


def evaluate(
    model: DescriptorModel,
    photos: Sequence[PhotoRecord],
    tiles: Sequence[TileRecord],
    *,
    ns: Sequence[int] = DEFAULT_NS,
    batch_size: int = 32,
    device: str | None = None,
    store: ImageStore | None = None,
) -> RecallResult:
    """Embed photos (once) and tiles (4 rotations); `recall_at_n` with footprint-intersection positives."""
    positives = positives_for(photos, tiles)
    keep = [i for i, p in enumerate(positives) if len(p)]
    if not keep:
        return RecallResult({n: 0.0 for n in sorted(ns)}, 0, len(photos))
    q = embed_files(model, [photos[i].path for i in keep], batch_size=batch_size, device=device, store=store)[
        :, 0
    ]
    db = embed_files(
        model, [t.path for t in tiles], rotations=ROTATIONS, batch_size=batch_size, device=device, store=store
    )
    groups = nadir_groups([photos[i] for i in keep])
    result = recall_at_n(q, db, [positives[i] for i in keep], ns, groups=groups)
    return RecallResult(result.recalls, result.num_queries, len(photos) - len(keep), result.by_group)


def main(argv: Sequence[str] | None = None) -> None:
    """CLI: recall@N of a checkpoint on a synthetic-Earth split (database = tiles of the chosen years)."""
    from ml.data.synth_adapter import records_from_synth
    from ml.models.checkpoint import load_model

    parser = argparse.ArgumentParser(prog="python -m ml.evaluate", description=main.__doc__)
    parser.add_argument("--checkpoint", required=True, help="checkpoint written by ml.train")
    parser.add_argument("--data", required=True, help="synthetic Earth root (python -m ml.synth generate)")
    parser.add_argument("--split", default="test", choices=["train", "val", "test"])
    parser.add_argument("--db-year", type=int, default=None, help="database year (default: the latest)")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args(argv)
    data = records_from_synth(args.data)
    model = load_model(args.checkpoint)
    result = evaluate(
        model,
        data.photos[args.split],
        data.database(args.db_year),
        batch_size=args.batch_size,
        device=args.device,
    )
    print(json.dumps(result.to_dict(), indent=2))


if __name__ == "__main__":
    main()
