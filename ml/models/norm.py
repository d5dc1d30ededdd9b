"""Keeping BatchNorm's running statistics to one part of a training batch.

A CNN with BatchNorm is evaluated with running estimates of its layer statistics. When a training batch
mixes images of two kinds in a ratio that differs from the one at test time (AstroLoc's full loss feeds
1 photo : 2 tiles, the pairs half alone 1 : 1), those estimates drift towards the majority kind and photos
are then normalised with tile statistics. Forwarding a part of the batch under `frozen_norm_statistics`
normalises it by its own batch statistics, as usual in training, without moving the running estimates.
Models without BatchNorm (the ViT default, LayerNorm only) are unaffected.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import nn

__all__ = ["frozen_norm_statistics"]


def _batch_norms(model: nn.Module) -> list[nn.modules.batchnorm._BatchNorm]:
    return [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]


@contextmanager
def frozen_norm_statistics(model: nn.Module) -> Iterator[None]:
    """Within the block, training-mode BatchNorm uses batch statistics but leaves running estimates as they are.

    Momentum 0 keeps `running_mean` / `running_var` (new = (1 - m) * old + m * batch); the step counter,
    which a cumulative average (momentum None) would read, is restored afterwards.
    """
    norms = _batch_norms(model)
    saved = [(m.momentum, m.num_batches_tracked.clone() if m.num_batches_tracked is not None else None) for m in norms]
    for m in norms:
        m.momentum = 0.0
    try:
        yield
    finally:
        for m, (momentum, tracked) in zip(norms, saved, strict=True):
            m.momentum = momentum
            if tracked is not None:
                with torch.no_grad():
                    m.num_batches_tracked.copy_(tracked)
