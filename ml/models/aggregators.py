"""Aggregators: turn a backbone's patch-feature map (+ global token) into one vector.

SALAD (Izquierdo & Civera, CVPR 2024; serizba/salad) is AstroLoc's aggregator: patch features are softly
assigned to learned clusters by a few Sinkhorn iterations of optimal transport with a "dustbin" that lets
uninformative patches (clouds, sea) be discarded, then a projected global token is concatenated. GeM is the
cheap baseline. The descriptor model projects their output and L2-normalises it.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["GeM", "Salad", "build_aggregator", "sinkhorn_log_assignment"]


def _log_otp_solver(
    log_a: torch.Tensor, log_b: torch.Tensor, scores: torch.Tensor, num_iters: int
) -> torch.Tensor:
    """Log-domain Sinkhorn: returns log of the transport plan with marginals exp(log_a), exp(log_b)."""
    u = torch.zeros_like(log_a)
    v = torch.zeros_like(log_b)
    for _ in range(num_iters):
        u = log_a - torch.logsumexp(scores + v.unsqueeze(1), dim=2)
        v = log_b - torch.logsumexp(scores + u.unsqueeze(2), dim=1)
    return scores + u.unsqueeze(2) + v.unsqueeze(1)


def sinkhorn_log_assignment(scores: torch.Tensor, dustbin: torch.Tensor, num_iters: int = 3) -> torch.Tensor:
    """Log assignment probabilities [B, m+1, n] of n patches to m clusters plus a dustbin row.

    Clusters get mass 1/(n+m) each, the dustbin gets the rest, so each patch's column sums to one
    (after the `- norm` rescaling, as in SALAD). Needs n > m: more patches than clusters.
    """
    b, m, n = scores.shape
    if n <= m:
        raise ValueError(
            f"SALAD needs more patches ({n}) than clusters ({m}): raise the input size or lower num_clusters"
        )
    aug = torch.cat([scores, dustbin.to(scores.dtype).expand(b, 1, n)], dim=1)
    norm = -math.log(n + m)
    log_a = torch.full((m + 1,), norm, device=scores.device, dtype=scores.dtype)
    log_a[-1] = norm + math.log(n - m)
    log_b = torch.full((n,), norm, device=scores.device, dtype=scores.dtype)
    return _log_otp_solver(log_a.expand(b, -1), log_b.expand(b, -1), aug, num_iters) - norm


class Salad(nn.Module):
    """SALAD: optimal-transport soft assignment of local features to clusters, plus a global token."""

    def __init__(
        self,
        num_channels: int,
        *,
        num_clusters: int = 64,
        cluster_dim: int = 128,
        token_dim: int = 256,
        hidden_dim: int = 512,
        dropout: float = 0.3,
        sinkhorn_iters: int = 3,
    ) -> None:
        super().__init__()
        self.num_clusters = num_clusters
        self.cluster_dim = cluster_dim
        self.sinkhorn_iters = sinkhorn_iters
        self.out_dim = token_dim + num_clusters * cluster_dim
        self.token_features = nn.Sequential(
            nn.Linear(num_channels, hidden_dim), nn.ReLU(), nn.Linear(hidden_dim, token_dim)
        )
        self.cluster_features = nn.Sequential(
            nn.Conv2d(num_channels, hidden_dim, 1),
            nn.Dropout(dropout),
            nn.ReLU(),
            nn.Conv2d(hidden_dim, cluster_dim, 1),
        )
        self.score = nn.Sequential(
            nn.Conv2d(num_channels, hidden_dim, 1),
            nn.Dropout(dropout),
            nn.ReLU(),
            nn.Conv2d(hidden_dim, num_clusters, 1),
        )
        self.dust_bin = nn.Parameter(torch.tensor(1.0))

    def forward(self, fmap: torch.Tensor, token: torch.Tensor) -> torch.Tensor:
        feats = self.cluster_features(fmap).flatten(2)  # [B, d, n]
        scores = self.score(fmap).flatten(2)  # [B, m, n]
        probs = sinkhorn_log_assignment(scores, self.dust_bin, self.sinkhorn_iters).exp()[:, :-1, :]
        # sum_n p[b, m, n] * f[b, d, n] -> [B, d, m]: the einsum avoids SALAD's repeat() of two big tensors.
        agg = torch.einsum("bmn,bdn->bdm", probs, feats)
        t = F.normalize(self.token_features(token), dim=-1)
        return torch.cat([t, F.normalize(agg, dim=1).flatten(1)], dim=-1)


class GeM(nn.Module):
    """Generalised-mean pooling with a learnable exponent p (Radenović et al.)."""

    def __init__(self, num_channels: int, *, p: float = 3.0, eps: float = 1e-6) -> None:
        super().__init__()
        self.p = nn.Parameter(torch.tensor(float(p)))
        self.eps = eps
        self.out_dim = num_channels

    def forward(self, fmap: torch.Tensor, token: torch.Tensor) -> torch.Tensor:
        del token  # GeM pools the map only
        pooled = fmap.float().clamp(min=self.eps).pow(self.p).mean(dim=(2, 3))
        return pooled.pow(1.0 / self.p)


_AGGREGATORS: dict[str, type[nn.Module]] = {"salad": Salad, "gem": GeM}


def build_aggregator(name: str, num_channels: int, **kwargs) -> nn.Module:
    """Create an aggregator by name (`salad`, `gem`); `kwargs` are its constructor options."""
    try:
        cls = _AGGREGATORS[name.lower()]
    except KeyError:
        raise ValueError(f"unknown aggregator {name!r}; choose one of {sorted(_AGGREGATORS)}") from None
    return cls(num_channels, **kwargs)
