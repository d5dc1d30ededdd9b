"""The retrieval model: backbone -> aggregator -> linear projection -> L2 norm.

One class for every configuration, described by a plain dataclass so that a checkpoint can rebuild it and the
platform can show which architecture produced an embedding. It also says which preprocessing it expects
(input size, mean, std) so embedding code never hard-codes ImageNet constants.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from ml.models.aggregators import build_aggregator
from ml.models.backbones import Backbone, load_backbone_weights

__all__ = ["DescriptorModel", "ModelConfig", "Preprocessing"]

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass
class ModelConfig:
    """Architecture of a descriptor model; everything needed to rebuild it (weights aside)."""

    backbone: str = "vit_base_patch14_reg4_dinov2"
    image_size: int = 322
    aggregator: str = "salad"
    aggregator_kwargs: dict = field(default_factory=dict)
    desc_dim: int = 2048
    trainable_blocks: int = 4
    backbone_weights: str | None = None  # local file; never downloaded

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> ModelConfig:
        return cls(**data)


@dataclass(frozen=True)
class Preprocessing:
    """What the model expects as input: square RGB images of `size` px, normalised by mean/std."""

    size: int
    mean: tuple[float, float, float]
    std: tuple[float, float, float]

    def normalize(self, images: torch.Tensor) -> torch.Tensor:
        """Normalise a float batch in [0, 1] of shape [B, 3, H, W]."""
        mean = torch.tensor(self.mean, device=images.device, dtype=images.dtype).view(1, 3, 1, 1)
        std = torch.tensor(self.std, device=images.device, dtype=images.dtype).view(1, 3, 1, 1)
        return (images - mean) / std


class DescriptorModel(nn.Module):
    """Maps normalised images [B, 3, S, S] to L2-normalised descriptors [B, desc_dim]."""

    def __init__(self, config: ModelConfig, *, load_weights: bool = True) -> None:
        super().__init__()
        self.config = config
        self.backbone = Backbone(
            config.backbone, image_size=config.image_size, trainable_blocks=config.trainable_blocks
        )
        if load_weights and config.backbone_weights:
            load_backbone_weights(self.backbone, Path(config.backbone_weights))
        self.aggregator = build_aggregator(
            config.aggregator, self.backbone.num_channels, **config.aggregator_kwargs
        )
        self.projection = nn.Linear(self.aggregator.out_dim, config.desc_dim)
        cfg = self.backbone.pretrained_cfg
        self.preprocessing = Preprocessing(
            size=config.image_size,
            mean=tuple(cfg.get("mean", IMAGENET_MEAN)),
            std=tuple(cfg.get("std", IMAGENET_STD)),
        )

    @property
    def desc_dim(self) -> int:
        return self.config.desc_dim

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        fmap, token = self.backbone(images)
        pooled = self.aggregator(fmap, token)
        return F.normalize(self.projection(pooled.to(self.projection.weight.dtype)), dim=-1)
