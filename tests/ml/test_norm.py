"""BatchNorm running statistics can be kept to one part of a batch (ml/models/norm.py)."""

from __future__ import annotations

import torch
from torch import nn

from ml.models.norm import frozen_norm_statistics


def _net() -> nn.Module:
    return nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten())


def test_frozen_forward_uses_batch_statistics_but_keeps_running_estimates():
    torch.manual_seed(0)
    net = _net().train()
    bn = net[1]
    net(torch.randn(8, 3, 8, 8))  # one normal step moves the estimates away from their init
    mean, var, steps = bn.running_mean.clone(), bn.running_var.clone(), int(bn.num_batches_tracked)
    shifted = torch.randn(8, 3, 8, 8) * 5 + 3
    with frozen_norm_statistics(net):
        out = net(shifted)
    assert torch.equal(bn.running_mean, mean) and torch.equal(bn.running_var, var)
    assert int(bn.num_batches_tracked) == steps and bn.momentum == 0.1
    # still normalised by the batch's own statistics, as in training
    assert torch.allclose(out, net(shifted), atol=1e-5)
    net(shifted)
    assert not torch.equal(bn.running_mean, mean)  # outside the block the estimates move again
