"""(photo, tile) training pairs and the batch sampler that keeps pairs of a batch apart on the ground.

A tile is a positive of a photo when their footprints' IoU exceeds a threshold (AstroLoc: 0.2). In the
pairwise loss every other pair of the batch is a negative, which is only true if no two pairs share ground:
the sampler enforces it, deferring a pair that would collide to a later batch.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
from shapely.geometry import Polygon

from ml.data.footprints import FootprintIndex, footprint_polygon, overlaps
from ml.data.records import PhotoRecord, TileRecord

__all__ = ["PairBatchSampler", "TrainPair", "build_pairs"]


@dataclass(frozen=True)
class TrainPair:
    """A photo (index into the photo list) with all its positive tiles (indices into the tile list)."""

    photo: int
    tiles: tuple[int, ...]


def build_pairs(
    photos: Sequence[PhotoRecord],
    tiles: Sequence[TileRecord],
    *,
    min_iou: float = 0.2,
    tile_index: FootprintIndex | None = None,
) -> list[TrainPair]:
    """One `TrainPair` per photo with a known footprint and at least one tile above `min_iou`."""
    index = tile_index or FootprintIndex([t.footprint for t in tiles])
    pairs = []
    for i, photo in enumerate(photos):
        if photo.footprint is None:
            continue
        positives = tuple(sorted(j for j, v in index.ious(photo.footprint).items() if v > min_iou))
        if positives:
            pairs.append(TrainPair(photo=i, tiles=positives))
    return pairs


class PairBatchSampler:
    """Endless stream of batches of (photo, tile) index pairs, no two of which overlap on the ground.

    Each pair's ground region is its photo footprint united with the chosen tile's footprint; a batch
    accepts a pair only if its region shares no area with any region already in the batch.
    """

    def __init__(
        self,
        pairs: Sequence[TrainPair],
        photos: Sequence[PhotoRecord],
        tiles: Sequence[TileRecord],
        *,
        batch_size: int,
        seed: int = 0,
    ) -> None:
        if not pairs:
            raise ValueError(
                "PairBatchSampler: no training pairs (no photo footprint overlaps a tile enough)"
            )
        self.pairs = list(pairs)
        self.photos = photos
        self.tiles = tiles
        self.batch_size = batch_size
        self.rng = np.random.default_rng(seed)
        self._tile_polys: dict[int, Polygon] = {}
        self._photo_polys = {p.photo: footprint_polygon(photos[p.photo].footprint) for p in self.pairs}
        self._pending: list[int] = []

    def _tile_poly(self, j: int) -> Polygon:
        if j not in self._tile_polys:
            self._tile_polys[j] = footprint_polygon(self.tiles[j].footprint)
        return self._tile_polys[j]

    def state_dict(self) -> dict:
        """RNG and queue, so a resumed run draws the batches an uninterrupted one would have."""
        return {"rng": self.rng.bit_generator.state, "pending": list(map(int, self._pending))}

    def load_state_dict(self, state: dict) -> None:
        self.rng.bit_generator.state = state["rng"]
        self._pending = list(state["pending"])

    def __iter__(self) -> Iterator[list[tuple[int, int]]]:
        return self

    def __next__(self) -> list[tuple[int, int]]:
        batch: list[tuple[int, int]] = []
        regions: list[Polygon] = []
        deferred: list[int] = []
        scanned = 0
        while len(batch) < self.batch_size and scanned < 4 * len(self.pairs):
            if not self._pending:
                self._pending = list(self.rng.permutation(len(self.pairs)))
            k = int(self._pending.pop())
            scanned += 1
            pair = self.pairs[k]
            tile = int(pair.tiles[self.rng.integers(len(pair.tiles))])
            region = self._photo_polys[pair.photo].union(self._tile_poly(tile))
            if any(overlaps(region, r) for r in regions):
                deferred.append(k)
                continue
            batch.append((pair.photo, tile))
            regions.append(region)
        # Colliding pairs come back first in the next batches, but only those not already queued: a refill
        # during this batch re-queued every pair, and duplicates would pile up until one crowded area of
        # mutually overlapping pairs fills the queue and no batch of two disjoint pairs can be found.
        queued = set(self._pending)
        self._pending.extend(k for k in dict.fromkeys(deferred) if k not in queued)
        if len(batch) < 2:
            raise RuntimeError(
                "PairBatchSampler: cannot form a batch of 2 ground-disjoint pairs; need more photos"
            )
        return batch
