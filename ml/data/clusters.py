"""MUM's cluster sampler: batches of tiles that the current model finds similar, where photos are taken.

K-means (FAISS) on the model's own tile descriptors groups look-alike places; a batch drawn from one
cluster is full of hard negatives. Photo descriptors are assigned to the clusters, and clusters are drawn
in proportion to their photo count, so training focuses on the terrain astronauts photograph. `uniform`
(every cluster alike) and `random` (no clusters: EarthLoc-style random locations) exist for the ablation.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import faiss
import numpy as np

from ml.data.records import TileRecord
from ml.index import faiss_threads

__all__ = ["SAMPLING_MODES", "ClusterSampler", "Location", "group_locations"]

SAMPLING_MODES = ("proportional", "uniform", "random")


@dataclass(frozen=True)
class Location:
    """One place on the ground and its tiles in several years (indices into the tile list)."""

    key: str
    tiles: tuple[int, ...]


def group_locations(tiles: Sequence[TileRecord], *, min_years: int = 2) -> list[Location]:
    """Locations that have at least `min_years` tiles (a tile needs another year as its positive)."""
    by_key: dict[str, list[int]] = defaultdict(list)
    for i, t in enumerate(tiles):
        by_key[t.location_key].append(i)
    return [Location(k, tuple(v)) for k, v in sorted(by_key.items()) if len(v) >= min_years]


class ClusterSampler:
    """Draws MUM batches: a cluster (by `mode`), then locations of it, each in `years_per_location` years."""

    def __init__(
        self,
        locations: Sequence[Location],
        *,
        num_clusters: int = 50,
        mode: str = "proportional",
        locations_per_batch: int = 12,
        years_per_location: int = 2,
        seed: int = 0,
    ) -> None:
        if mode not in SAMPLING_MODES:
            raise ValueError(f"unknown cluster sampling mode {mode!r}; choose one of {SAMPLING_MODES}")
        if len(locations) < 2:
            raise ValueError("ClusterSampler needs at least 2 locations with several years each")
        self.locations = list(locations)
        self.num_clusters = min(num_clusters, len(self.locations))
        self.mode = mode
        self.locations_per_batch = locations_per_batch
        self.years_per_location = years_per_location
        self.seed = seed
        self.rng = np.random.default_rng(seed)
        self.assignment: np.ndarray | None = None  # cluster of each location
        self.weights: np.ndarray | None = None  # sampling probability of each cluster
        self.photo_counts: np.ndarray | None = None

    @property
    def needs_descriptors(self) -> bool:
        return self.mode != "random"

    def update(self, location_desc: np.ndarray, photo_desc: np.ndarray | None = None) -> None:
        """Re-cluster with fresh descriptors: k-means on locations, photos assigned to nearest centroid."""
        x = np.ascontiguousarray(location_desc, dtype=np.float32)
        if len(x) != len(self.locations):
            raise ValueError(f"update: {len(x)} descriptors for {len(self.locations)} locations")
        kmeans = faiss.Kmeans(
            x.shape[1],
            self.num_clusters,
            niter=20,
            seed=self.seed,
            spherical=True,
            min_points_per_centroid=1,
            max_points_per_centroid=100_000,
        )
        counts = np.zeros(self.num_clusters)
        with faiss_threads(1):  # a few thousand points: one thread, and no pool spinning against torch's
            kmeans.train(x)
            _, assign = kmeans.index.search(x, 1)
            if photo_desc is not None and len(photo_desc):
                _, photo_assign = kmeans.index.search(np.ascontiguousarray(photo_desc, dtype=np.float32), 1)
                counts = np.bincount(photo_assign[:, 0], minlength=self.num_clusters).astype(float)
        self.assignment = assign[:, 0]
        self.photo_counts = counts
        sizes = np.bincount(self.assignment, minlength=self.num_clusters)
        usable = sizes >= 2
        proportional = self.mode == "proportional" and (counts * usable).sum() > 0
        w = counts * usable if proportional else usable.astype(float)
        self.weights = w / w.sum()

    def state_dict(self) -> dict:
        """Clusters, weights and RNG, so a resumed run keeps sampling from the same clustering."""
        return {
            "rng": self.rng.bit_generator.state,
            "assignment": self.assignment,
            "weights": self.weights,
            "photo_counts": self.photo_counts,
        }

    def load_state_dict(self, state: dict) -> None:
        self.rng.bit_generator.state = state["rng"]
        self.assignment, self.weights, self.photo_counts = (
            state["assignment"],
            state["weights"],
            state["photo_counts"],
        )

    def sample(self) -> list[tuple[int, int]]:
        """One batch as (tile index, location label) pairs; same label = same place, other year."""
        if self.mode == "random":
            members = np.arange(len(self.locations))
        else:
            if self.weights is None or self.assignment is None:
                raise RuntimeError(
                    "ClusterSampler.update() must run before sample() in mode " + repr(self.mode)
                )
            cluster = self.rng.choice(len(self.weights), p=self.weights)
            members = np.flatnonzero(self.assignment == cluster)
        chosen = self.rng.choice(members, size=min(self.locations_per_batch, len(members)), replace=False)
        batch = []
        for label, loc_idx in enumerate(chosen):
            tiles = self.locations[int(loc_idx)].tiles
            years = self.rng.choice(len(tiles), size=min(self.years_per_location, len(tiles)), replace=False)
            batch.extend((int(tiles[y]), label) for y in years)
        return batch
