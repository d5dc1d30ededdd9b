"""The localization cascade: many retrieval candidates, a cheap test on each, full verification on few.

Why: retrieval puts the right database image in the top 20-100 for most photos, but full verification
(``verify_photo``) costs far more than a cheap look. Per photo, within a budget of candidates and seconds:

1. **cheap test**, candidates in rank order: the photo's features (extracted once) matched against the
   candidate database image's own stored features, robust inliers counted. No checks, no refinement.
2. **full verification** of the promising ones (cheap inliers >= ``cheap_min_inliers``), most cheap inliers
   first (ties: better rank first), each inside bounds around its candidate image (``SearchBounds.around_tile``)
   with the calibrated checks of ``verify_photo``, exactly as strict as any other verification.
3. **stop** at the first accepted candidate whose evidence dominates: once one is accepted with I inliers,
   candidates whose cheap test found fewer than I inliers are not verified (their whole neighbourhood matched
   worse than the accepted footprint already does). The most-inlier accepted candidate wins.

``cheap_min_inliers=None`` turns the cheap test off: the first ``budget_candidates`` are fully verified in
rank order and the most-inlier accepted one wins (the rule before the cascade, kept for comparison).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ml.matching.base import BaseMatcher
from ml.matching.geometry import image_corners, is_convex_quad, warp_points
from ml.verification.features import MissingFeaturesError, QueryFeatures, TileRecord, matcher_features
from ml.verification.imagery import TileImagery
from ml.verification.search import PhotoQuery, SearchBounds
from ml.verification.verify import Verification, VerifyConfig, footprint_px, query_scale, verify_photo

__all__ = ["CandidateOutcome", "CascadeConfig", "CascadeResult", "verify_candidates"]


BELOW_GATE = "below the cheap test's gate"


@dataclass(frozen=True)
class CascadeConfig:
    """Per-photo budget and the cheap test's gate (defaults: see docs/localization.md for the measurements)."""

    budget_candidates: int = 100
    #: CPU seconds of this process (the verification is single-threaded: on a dedicated worker that is the wall
    #: time; on a shared machine the budget does not shrink with the neighbours' load).
    budget_seconds: float = 20.0
    cheap_min_inliers: int | None = 6


@dataclass(frozen=True)
class CandidateOutcome:
    """What the cascade did with one candidate: its cheap inliers, and the full verification if it ran."""

    rank: int
    tile: TileRecord
    cheap_inliers: int | None = None
    verification: Verification | None = None
    note: str = ""


@dataclass
class CascadeResult:
    """The accepted verification (or None) and every candidate's trail, for the job result and review."""

    best: tuple[int, Verification] | None  # (rank, verification) of the published candidate
    outcomes: list[CandidateOutcome] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def accepted(self) -> list[tuple[int, Verification]]:
        return [(o.rank, o.verification) for o in self.outcomes if o.verification and o.verification.accepted]

    def reason(self) -> str:
        """Why nothing was published: each verified candidate's reason, each skipped one's note, then how many
        stayed below the cheap test's gate."""
        parts = [f"tile {o.tile.tile_id}: {o.verification.reason}" for o in self.outcomes
                 if o.verification is not None and not o.verification.accepted]
        parts += [f"tile {o.tile.tile_id}: {o.note}" for o in self.outcomes
                  if o.verification is None and o.note and o.note != BELOW_GATE]
        below = [o.cheap_inliers or 0 for o in self.outcomes if o.note == BELOW_GATE]
        if below:
            parts.append(f"{len(below)} candidates below the cheap test's gate (best {max(below)} inliers)")
        return "; ".join(parts) or "no candidate"


#: The cheap test's scale tolerance: the warped photo's width over the expected footprint width (generous:
#: metadata is rough, and an oblique photo's near side is narrower than its ground width).
CHEAP_SCALE_RANGE = (1 / 3, 3.0)


def _cheap_inliers(photo: PhotoQuery, tile: TileRecord, imagery: TileImagery, matcher: BaseMatcher,
                   config: VerifyConfig, query: QueryFeatures) -> int:
    """Robust inliers between the photo (at the scale the full test would use at the tile's zoom, rotation 0:
    the detector is rotation invariant) and the candidate image's own stored features; 0 when the homography
    is not even plausible (the warped photo folds, or its width is far from the expected footprint's): random
    matches against a wrong image reach 20-30 inliers on `bench`, almost never with a sound shape."""
    feats = imagery.source.tile_features([tile])[tile.tile_id]
    ref = matcher_features(matcher, feats.keypoints, feats.float_descriptors())
    lat_cos = math.cos(math.radians((tile.bounds[1] + tile.bounds[3]) / 2))
    fp = footprint_px(photo.ground_width_km(), lat_cos, imagery.resolution_m(tile.zoom))
    w, h = photo.size
    scale = query_scale(w, fp, config, max(w, h))
    res = matcher.match_features(query.get(photo.image, scale, 0), ref)
    if res.homography is None:
        return 0
    quad = warp_points(res.homography, image_corners((w * scale, h * scale)))
    if not is_convex_quad(quad):
        return 0
    if fp is not None:
        width = 0.5 * (np.linalg.norm(quad[1] - quad[0]) + np.linalg.norm(quad[2] - quad[3]))
        if not CHEAP_SCALE_RANGE[0] <= width / fp <= CHEAP_SCALE_RANGE[1]:
            return 0
    return res.num_inliers


def verify_candidates(
    photo: PhotoQuery,
    candidates: Sequence[TileRecord],
    imagery: TileImagery,
    *,
    matcher: BaseMatcher,
    config: VerifyConfig,
    cascade: CascadeConfig,
    ranks: Sequence[int] | None = None,
) -> CascadeResult:
    """Run the cascade over ``candidates`` (rank order, best first); see the module docstring. ``ranks``: the
    candidates' ranks to report (default 0, 1, 2, ...), when some ranked candidates were left out."""
    start = time.process_time()
    query = QueryFeatures(matcher)
    outcomes: dict[int, CandidateOutcome] = {}
    ranks = list(ranks) if ranks is not None else list(range(len(candidates)))
    pool = list(zip(ranks, candidates, strict=True))[: cascade.budget_candidates]

    def over_budget() -> bool:
        return time.process_time() - start > cascade.budget_seconds

    if cascade.cheap_min_inliers is None:
        order = pool
    else:
        scored = []
        for rank, tile in pool:
            if over_budget():
                outcomes[rank] = CandidateOutcome(rank, tile, note="not tested: time budget spent")
                continue
            try:
                n = _cheap_inliers(photo, tile, imagery, matcher, config, query)
            except MissingFeaturesError as exc:
                outcomes[rank] = CandidateOutcome(rank, tile, note=str(exc))
                continue
            outcomes[rank] = CandidateOutcome(rank, tile, n, note=BELOW_GATE if n < cascade.cheap_min_inliers else "")
            if n >= cascade.cheap_min_inliers:
                scored.append((n, rank, tile))
        order = [(rank, tile) for _, rank, tile in sorted(scored, key=lambda t: (-t[0], t[1]))]
    cheap_seconds = time.process_time() - start
    best: tuple[int, Verification] | None = None
    for rank, tile in order:
        cheap = outcomes[rank].cheap_inliers if rank in outcomes else None
        if best is not None and cheap is not None and cheap < best[1].inliers:
            outcomes[rank] = CandidateOutcome(rank, tile, cheap, note=f"dominated by the accepted rank {best[0]}")
            continue
        if over_budget():
            outcomes[rank] = CandidateOutcome(rank, tile, cheap, note="not verified: time budget spent")
            continue
        try:
            bounds = SearchBounds.around_tile(tile.bounds, tile.year, tile.tile_id, photo.reach_km())
            result = verify_photo(photo, bounds, imagery, matcher=matcher, config=config, query=query)
        except MissingFeaturesError as exc:
            outcomes[rank] = CandidateOutcome(rank, tile, cheap, note=str(exc))
            continue
        outcomes[rank] = CandidateOutcome(rank, tile, cheap, result)
        if result.accepted and (best is None or result.inliers > best[1].inliers):
            best = (rank, result)
    total = time.process_time() - start
    return CascadeResult(best, [outcomes[r] for r in sorted(outcomes)],
                         {"cheap": round(cheap_seconds, 4), "verify": round(total - cheap_seconds, 4),
                          "query": round(query.seconds, 4), "total": round(total, 4)})
