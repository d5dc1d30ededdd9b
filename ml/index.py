"""FAISS index over tile descriptors: id-mapped inner product, GPU when present, exact re-rank over rotations.

Every vector carries its tile id, so the 4 rotations of one tile share an id and results map back to tiles
without index arithmetic. Below `exact_threshold` vectors the search is exact (flat); above, IVF with a
generous nprobe; the top candidates are then re-scored exactly over all 4 rotations.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import faiss
import numpy as np
import torch

__all__ = ["TileIndex", "faiss_threads", "rerank_exact", "rerank_exact_torch", "unique_topk"]


@contextmanager
def faiss_threads(n: int | None) -> Iterator[None]:
    """Run FAISS with `n` OpenMP threads inside the block (None: leave as is).

    faiss-cpu ships its own OpenMP runtime; when its thread pool and torch's both run in one process on a
    few cores they spin against each other, and torch steps right after a k-means became 10x slower in our
    measurements. Small searches and k-means on a few thousand vectors are fastest single-threaded anyway.
    """
    if n is None:
        yield
        return
    previous = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(n)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(previous)


def _gpu_available() -> bool:
    return hasattr(faiss, "StandardGpuResources") and faiss.get_num_gpus() > 0


def unique_topk(ids: np.ndarray, scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Keep each row's first occurrence of every id (best rotation), then the top k; -1 pads short rows."""
    out_ids = np.full((ids.shape[0], k), -1, dtype=np.int64)
    out_scores = np.full((ids.shape[0], k), -np.inf, dtype=np.float32)
    for r in range(ids.shape[0]):
        valid = ids[r] >= 0
        _, first = np.unique(ids[r][valid], return_index=True)
        order = np.sort(first)[:k]
        out_ids[r, : len(order)] = ids[r][valid][order]
        out_scores[r, : len(order)] = scores[r][valid][order]
    return out_ids, out_scores


class TileIndex:
    """Inner-product index of L2-normalised descriptors keyed by int64 tile ids (duplicates allowed)."""

    def __init__(
        self,
        dim: int,
        *,
        exact_threshold: int = 500_000,
        use_gpu: bool | None = None,
        threads: int | None = None,
    ) -> None:
        self.dim = dim
        self.threads = threads  # FAISS CPU threads for build/search (None: FAISS default)
        self.exact_threshold = exact_threshold
        self.use_gpu = _gpu_available() if use_gpu is None else use_gpu
        self.index: faiss.Index | None = None

    @property
    def ntotal(self) -> int:
        return 0 if self.index is None else int(self.index.ntotal)

    def build(self, desc: np.ndarray, ids: np.ndarray) -> TileIndex:
        """Index `desc` [N, D] under `ids` [N] (one call; the structure is chosen from N)."""
        desc = np.ascontiguousarray(desc, dtype=np.float32)
        ids = np.ascontiguousarray(ids, dtype=np.int64)
        if desc.ndim != 2 or desc.shape[1] != self.dim or len(ids) != len(desc):
            raise ValueError(
                f"build: expected [N, {self.dim}] descriptors and N ids, got {desc.shape} / {ids.shape}"
            )
        if len(desc) < self.exact_threshold:
            index: faiss.Index = faiss.IndexIDMap(faiss.IndexFlatIP(self.dim))
        else:
            nlist = int(4 * math.sqrt(len(desc)))
            index = faiss.index_factory(self.dim, f"IVF{nlist},Flat", faiss.METRIC_INNER_PRODUCT)
            index.nprobe = 32
        if self.use_gpu:
            index = faiss.index_cpu_to_all_gpus(index)
        with faiss_threads(self.threads):
            if not index.is_trained:
                index.train(desc)
            index.add_with_ids(desc, ids)
        self.index = index
        return self

    def search(self, queries: np.ndarray, k: int, *, rotations: int = 1) -> tuple[np.ndarray, np.ndarray]:
        """Top-k distinct tile ids and scores per query; asks FAISS for k * rotations to absorb duplicates."""
        if self.index is None:
            raise RuntimeError("TileIndex.search before build()")
        q = np.ascontiguousarray(queries, dtype=np.float32)
        with faiss_threads(self.threads):
            scores, ids = self.index.search(q, min(k * rotations, self.ntotal))
        return unique_topk(ids, scores, k)

    def save(self, path: str | Path) -> Path:
        index = faiss.index_gpu_to_cpu(self.index) if self.use_gpu else self.index
        faiss.write_index(index, str(path))
        return Path(path)

    @classmethod
    def load(cls, path: str | Path, *, use_gpu: bool | None = None) -> TileIndex:
        index = faiss.read_index(str(path))
        out = cls(index.d, use_gpu=use_gpu)
        out.index = faiss.index_cpu_to_all_gpus(index) if out.use_gpu else index
        return out


def rerank_exact(
    queries: np.ndarray, candidates: np.ndarray, tile_desc: dict[int, np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """Re-score each query's candidate tile ids exactly as the max over that tile's rotations.

    `tile_desc` maps a tile id to its descriptors [R, D]; returns candidates re-sorted by score (desc).
    """
    out_ids = np.full_like(candidates, -1)
    out_scores = np.full(candidates.shape, -np.inf, dtype=np.float32)
    for r, (q, row) in enumerate(zip(queries, candidates, strict=True)):
        ids = [int(i) for i in row if i >= 0]
        if not ids:
            continue
        scores = np.array([float((tile_desc[i] @ q).max()) for i in ids], dtype=np.float32)
        order = np.argsort(-scores, kind="stable")
        out_ids[r, : len(ids)] = np.asarray(ids)[order]
        out_scores[r, : len(ids)] = scores[order]
    return out_ids, out_scores


def rerank_exact_torch(
    queries: torch.Tensor, candidates: torch.Tensor, descriptors: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """`rerank_exact` for a batch, on the tensors' device: exact cosine over every rotation, best rotation wins.

    `queries` [B, D], `candidates` [B, K] row indices into `descriptors` [N, R, D] (-1: no candidate).
    Returns the candidates re-sorted by score (desc) and the scores, -inf where there was none. On a GPU
    without faiss-gpu this keeps the exact stage on the device: one gather and one batched product.
    """
    valid = candidates >= 0
    rows = descriptors[candidates.clamp(min=0)]  # [B, K, R, D]
    scores = torch.einsum("bkrd,bd->bkr", rows.float(), queries.float()).amax(dim=-1)
    scores = scores.masked_fill(~valid, float("-inf"))
    order = scores.argsort(dim=1, descending=True, stable=True)
    ranked = candidates.gather(1, order).masked_fill(~valid.gather(1, order), -1)
    return ranked, scores.gather(1, order)
