import math

import torch
import torch.nn.functional as F

from ml.losses import multi_similarity_loss, mum_loss, pairwise_loss


def _unit(*angles_deg: float) -> torch.Tensor:
    a = torch.tensor([math.radians(x) for x in angles_deg])
    return torch.stack([torch.cos(a), torch.sin(a)], dim=1)


def test_ms_loss_matches_hand_computed_value():
    # Two classes on the unit circle: class 0 at 0 and 60 deg, class 1 at 90 and 180 deg.
    emb = _unit(0, 60, 90, 180)
    labels = torch.tensor([0, 0, 1, 1])
    alpha, beta = 2.0, 10.0
    cos = {d: math.cos(math.radians(d)) for d in (0, 30, 60, 90, 120, 180)}
    # anchor: (positive sims, negative sims)
    sims = {
        0: ([cos[60]], [cos[90], cos[180]]),
        1: ([cos[60]], [cos[30], cos[120]]),
        2: ([cos[90]], [cos[90], cos[30]]),
        3: ([cos[90]], [cos[180], cos[120]]),
    }
    expected = (
        sum(
            math.log(1 + sum(math.exp(-alpha * s) for s in pos)) / alpha
            + math.log(1 + sum(math.exp(beta * s) for s in neg)) / beta
            for pos, neg in sims.values()
        )
        / 4
    )
    got = multi_similarity_loss(emb, labels, alpha=alpha, beta=beta, base=0.0)
    assert math.isclose(float(got), expected, rel_tol=1e-5)


def test_ms_loss_ignore_mask_drops_pairs():
    emb = _unit(0, 60, 5, 180)  # anchor 0's negative at 5 deg is a hard (false) negative
    labels = torch.tensor([0, 0, 1, 1])
    ignore = torch.zeros(4, 4, dtype=torch.bool)
    ignore[0, 2] = ignore[2, 0] = True
    full = multi_similarity_loss(emb, labels)
    masked = multi_similarity_loss(emb, labels, ignore=ignore)
    assert float(masked) < float(full)
    assert math.isclose(
        float(mum_loss(emb, labels, ignore | torch.eye(4, dtype=torch.bool))), float(masked), rel_tol=1e-6
    )


def test_pairwise_loss_gradient_pulls_pairs_together():
    photos = F.normalize(
        torch.randn(6, 16, generator=torch.Generator().manual_seed(0)), dim=1
    ).requires_grad_()
    tiles = F.normalize(torch.randn(6, 16, generator=torch.Generator().manual_seed(1)), dim=1)
    loss = pairwise_loss(photos, tiles)
    (grad,) = torch.autograd.grad(loss, photos)
    # A step against the gradient raises each photo's similarity to its own tile.
    stepped = F.normalize(photos.detach() - 0.1 * grad, dim=1)
    assert ((stepped * tiles).sum(1) > (photos.detach() * tiles).sum(1)).all()
    assert float(pairwise_loss(stepped, tiles)) < float(loss.detach())


def test_pairwise_loss_is_small_when_pairs_match_and_are_apart():
    tiles = torch.eye(4)
    assert float(pairwise_loss(tiles.clone(), tiles)) < float(pairwise_loss(tiles.roll(1, 0), tiles))


def test_mum_keeps_same_location_positive_even_if_overlapping():
    emb = _unit(0, 80, 40, 120)
    labels = torch.tensor([0, 0, 1, 1])
    overlap = torch.ones(4, 4, dtype=torch.bool)  # everything overlaps: only positives remain
    pos_only = multi_similarity_loss(emb, labels, ignore=labels.view(-1, 1) != labels.view(1, -1))
    assert math.isclose(float(mum_loss(emb, labels, overlap)), float(pos_only), rel_tol=1e-6)
    assert float(mum_loss(emb, labels, overlap)) > 0
