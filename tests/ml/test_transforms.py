"""Augmentations: 'none' is exactly the identity (the ablation relies on it); the defaults do change images."""

from __future__ import annotations

import torch

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
