"""Augmentations: 'none' is exactly the identity (the ablation relies on it); the defaults do change images."""

from __future__ import annotations

from dataclasses import replace

import torch

from ml.data.photo_like import cloud_opacity
from ml.data.transforms import AugmentConfig, Augmenter


def _images() -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    return [torch.randint(0, 256, (3, 32, 32), dtype=torch.uint8, generator=g) for _ in range(4)]


def test_none_is_the_identity_for_photos_and_tiles():
    images = _images()
    augment = Augmenter(32, AugmentConfig.none())
    expected = torch.stack(images).float() / 255.0
    assert torch.allclose(augment.photos(images), expected, atol=1e-6)
    assert torch.allclose(augment.tiles(images), expected, atol=1e-6)


def test_default_augmentations_change_photos_and_tiles():
    torch.manual_seed(0)
    images = _images()
    augment = Augmenter(32)
    original = torch.stack(images).float() / 255.0
    assert not torch.allclose(augment.photos(images), original)
    assert not torch.allclose(augment.tiles(images), original)


def test_none_round_trips_through_the_train_config_dict():
    from ml.train import TrainConfig

    config = TrainConfig(augment=AugmentConfig.none())
    assert TrainConfig.from_dict(config.to_dict()).augment == AugmentConfig.none()


def test_photo_like_degradation_is_applied_to_tile_only_losses_only():
    """`mum_photo_like` degrades MUM tiles (clouds, haze, colour), never the pair photos or pair tiles."""
    torch.manual_seed(0)
    images = _images()
    original = torch.stack(images).float() / 255.0
    augment = Augmenter(32, replace(AugmentConfig.none(), mum_photo_like=1.0))
    assert torch.allclose(augment.photos(images), original, atol=1e-6)
    assert torch.allclose(augment.tiles(images), original, atol=1e-6)
    degraded = augment.mum_tiles(images)
    assert degraded.shape == original.shape
    assert float(degraded.min()) >= 0.0 and float(degraded.max()) <= 1.0
    assert (degraded - original).abs().mean(dim=(1, 2, 3)).min() > 0.01  # every tile changed
    assert torch.allclose(Augmenter(32, AugmentConfig.none()).mum_tiles(images), original, atol=1e-6)


def test_cloud_opacity_covers_about_the_requested_fraction():
    torch.manual_seed(0)
    for cover in (0.1, 0.3, 0.6):
        covered = float((cloud_opacity(96, cover) > 0.5).float().mean())
        assert abs(covered - cover) < 0.15, (cover, covered)
