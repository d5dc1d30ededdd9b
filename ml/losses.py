"""Training losses of AstroLoc, both built on one multi-similarity (MS) loss with an ignore mask.

- The pairwise loss treats a batch of B (photo, tile) pairs as 2B embeddings with B labels and applies MS over
  the full similarity matrix, i.e. over photo-photo, photo-tile, tile-photo and tile-tile similarities. The
  sampler guarantees that no two pairs overlap on the ground, so every other pair is a true negative.
- MUM applies MS to a batch of tiles drawn from one descriptor cluster, each tile seen in several years (the
  years of one location are positives of each other). Tiles of different locations that still overlap on the
  ground are neither positives nor negatives: they are ignored, since pushing them apart would be wrong.

MS follows Wang et al. (CVPR 2019) with pytorch-metric-learning's semantics: for anchor i,
    L_i = 1/alpha * log(1 + sum_{p in P_i} exp(-alpha (s_ip - base)))
        + 1/beta  * log(1 + sum_{n in N_i} exp( beta (s_in - base)))
averaged over the anchors with at least one positive or negative (the zero-loss anchors are left out).
"""

from __future__ import annotations

import torch

__all__ = ["multi_similarity_loss", "mum_loss", "pairwise_loss"]


def _masked_log1p_sum_exp(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Row-wise log(1 + sum_j mask_ij * exp(x_ij)), numerically stable; 0 for rows with an empty mask."""
    x = x.masked_fill(~mask, float("-inf"))
    zeros = torch.zeros(x.shape[0], 1, dtype=x.dtype, device=x.device)
    return torch.logsumexp(torch.cat([zeros, x], dim=1), dim=1)


def multi_similarity_loss(
    embeddings: torch.Tensor,
    labels: torch.Tensor,
    *,
    ignore: torch.Tensor | None = None,
    alpha: float = 1.0,
    beta: float = 50.0,
    base: float = 0.0,
) -> torch.Tensor:
    """MS loss over all pairs of a batch of L2-normalised `embeddings` [N, D] with integer `labels` [N].

    `ignore` [N, N] (bool) marks pairs that count neither as positives nor as negatives.
    """
    sim = embeddings.float() @ embeddings.float().T
    same = labels.view(-1, 1) == labels.view(1, -1)
    eye = torch.eye(len(labels), dtype=torch.bool, device=labels.device)
    keep = ~eye if ignore is None else ~eye & ~ignore.to(torch.bool)
    pos_mask = same & keep
    neg_mask = ~same & keep
    pos = _masked_log1p_sum_exp(-alpha * (sim - base), pos_mask) / alpha
    neg = _masked_log1p_sum_exp(beta * (sim - base), neg_mask) / beta
    per_anchor = pos + neg
    active = pos_mask.any(dim=1) | neg_mask.any(dim=1)
    if not bool(active.any()):
        return embeddings.sum() * 0.0
    return per_anchor[active].mean()


def pairwise_loss(photo_desc: torch.Tensor, tile_desc: torch.Tensor, **ms_kwargs) -> torch.Tensor:
    """AstroLoc's pairwise loss: photo i and tile i are positives; all other pairs of the batch negatives."""
    if photo_desc.shape != tile_desc.shape:
        raise ValueError(
            f"pairwise_loss: {photo_desc.shape} photos vs {tile_desc.shape} tiles; need one tile per photo"
        )
    b = photo_desc.shape[0]
    labels = torch.arange(b, device=photo_desc.device).repeat(2)
    return multi_similarity_loss(torch.cat([photo_desc, tile_desc]), labels, **ms_kwargs)


def mum_loss(
    tile_desc: torch.Tensor,
    location_labels: torch.Tensor,
    ground_overlap: torch.Tensor | None = None,
    **ms_kwargs,
) -> torch.Tensor:
    """MUM: MS over tiles of one cluster; same place (other years) = positive; overlapping negatives ignored.

    `ground_overlap` [N, N] (bool) says which tiles intersect on the ground; pairs that overlap but belong to
    different locations are ignored. Same-location pairs stay positives.
    """
    ignore = None
    if ground_overlap is not None:
        same = location_labels.view(-1, 1) == location_labels.view(1, -1)
        ignore = ground_overlap.to(torch.bool) & ~same
    return multi_similarity_loss(tile_desc, location_labels, ignore=ignore, **ms_kwargs)
