"""Named model presets, so a CLI flag or a database row can say `resnet18_salad` instead of a config blob.

Mirrors timm's registry in spirit: a preset is a function returning a `ModelConfig`; `create_model` builds it,
with keyword overrides applied to the config (e.g. a different `image_size` or `backbone_weights`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from ml.models.descriptor import DescriptorModel, ModelConfig

__all__ = ["create_model", "list_models", "model_config", "register_model"]

_PRESETS: dict[str, Callable[[], ModelConfig]] = {}


def register_model(fn: Callable[[], ModelConfig]) -> Callable[[], ModelConfig]:
    """Decorator: register a preset under the function's name."""
    _PRESETS[fn.__name__] = fn
    return fn


def list_models() -> list[str]:
    return sorted(_PRESETS)


def model_config(name: str, **overrides) -> ModelConfig:
    """The preset's config with `overrides` applied."""
    try:
        config = _PRESETS[name]()
    except KeyError:
        raise ValueError(f"unknown model preset {name!r}; choose one of {list_models()}") from None
    return replace(config, **overrides)


def create_model(name_or_config: str | ModelConfig, **overrides) -> DescriptorModel:
    """Build a model from a preset name or a `ModelConfig` (weights only from a local file)."""
    if isinstance(name_or_config, ModelConfig):
        return DescriptorModel(replace(name_or_config, **overrides))
    return DescriptorModel(model_config(name_or_config, **overrides))


@register_model
def astroloc_vitb_salad() -> ModelConfig:
    """The AstroLoc setting: DINOv2 ViT-B/14 with registers at 322 px, SALAD, 2048-D."""
    return ModelConfig(
        backbone="vit_base_patch14_reg4_dinov2",
        image_size=322,
        aggregator="salad",
        aggregator_kwargs={"num_clusters": 64, "cluster_dim": 128, "token_dim": 256},
        desc_dim=2048,
        trainable_blocks=4,
    )


@register_model
def vits_salad() -> ModelConfig:
    """A small ViT (DINOv2 ViT-S/14) with SALAD: a GPU-light variant of the default."""
    return ModelConfig(
        backbone="vit_small_patch14_reg4_dinov2",
        image_size=224,
        aggregator="salad",
        aggregator_kwargs={"num_clusters": 32, "cluster_dim": 64, "token_dim": 256},
        desc_dim=1024,
        trainable_blocks=4,
    )


@register_model
def resnet18_salad() -> ModelConfig:
    """CPU-sized: ResNet-18 (all trainable, from scratch) with a small SALAD; for tests and the ablation."""
    return ModelConfig(
        backbone="resnet18",
        image_size=128,
        aggregator="salad",
        aggregator_kwargs={"num_clusters": 8, "cluster_dim": 32, "token_dim": 64, "hidden_dim": 128},
        desc_dim=256,
        trainable_blocks=-1,
    )


@register_model
def resnet18_gem() -> ModelConfig:
    """CPU-sized GeM baseline."""
    return ModelConfig(
        backbone="resnet18", image_size=128, aggregator="gem", desc_dim=256, trainable_blocks=-1
    )
