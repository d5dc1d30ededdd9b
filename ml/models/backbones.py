"""Backbones from timm, reduced to one interface: a patch-feature map plus a global token.

SALAD needs both the local features (to assign to clusters) and a global summary (its "global token");
GeM needs only the map. Wrapping CNNs and ViTs behind the same `(features [B,C,H,W], token [B,C])` output
lets any aggregator sit on any backbone, so the CPU-sized models used in tests and the ablation exercise the
same code path as the DINOv2 ViT-B used in production.
"""

from __future__ import annotations

from pathlib import Path

import timm
import torch
from torch import nn

__all__ = ["Backbone", "load_backbone_weights"]

_STRIP_PREFIXES = ("module.", "model.", "backbone.model.", "backbone.")


class Backbone(nn.Module):
    """A timm model (no head, never downloaded) returning `(feature_map, global_token)`.

    `trainable_blocks` says how many of the last blocks (ViT) or stages (CNN) receive gradients;
    -1 trains everything, 0 freezes the whole backbone.
    """

    def __init__(self, name: str, *, image_size: int, trainable_blocks: int = -1) -> None:
        super().__init__()
        try:  # ViTs take the input size (positional embeddings are built for it); CNNs refuse the kwarg
            self.model = timm.create_model(
                name, pretrained=False, num_classes=0, img_size=image_size, dynamic_img_size=True
            )
        except TypeError:
            self.model = timm.create_model(name, pretrained=False, num_classes=0)
        self.is_vit = hasattr(self.model, "blocks") and hasattr(self.model, "patch_embed")
        self.name = name
        self.num_channels: int = int(self.model.num_features)
        self.pretrained_cfg: dict = dict(getattr(self.model, "pretrained_cfg", {}) or {})
        self.set_trainable_blocks(trainable_blocks)

    def _blocks(self) -> list[nn.Module]:
        """The ordered units that `trainable_blocks` counts from the end."""
        if self.is_vit:
            return list(self.model.blocks)
        stages = [
            getattr(self.model, n) for n in ("layer1", "layer2", "layer3", "layer4") if hasattr(self.model, n)
        ]
        if not stages and hasattr(self.model, "stages"):
            stages = list(self.model.stages)
        if not stages:
            raise ValueError(f"backbone {self.name!r}: no blocks/stages found to count trainable_blocks from")
        return stages

    def set_trainable_blocks(self, n: int) -> None:
        """Freeze everything, then unfreeze the last `n` blocks (and the final norm of a ViT)."""
        if n < 0:
            self.model.requires_grad_(True)
            return
        self.model.requires_grad_(False)
        blocks = self._blocks()
        for block in blocks[len(blocks) - n :] if n > 0 else []:
            block.requires_grad_(True)
        if n > 0 and self.is_vit and hasattr(self.model, "norm"):
            self.model.norm.requires_grad_(True)

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        out = self.model.forward_features(images)
        if self.is_vit:
            prefix = int(self.model.num_prefix_tokens)
            token = out[:, 0]
            patches = out[:, prefix:]
            h = images.shape[-2] // self.model.patch_embed.patch_size[0]
            w = images.shape[-1] // self.model.patch_embed.patch_size[1]
            fmap = patches.transpose(1, 2).reshape(out.shape[0], out.shape[-1], h, w)
            return fmap, token
        return out, out.mean(dim=(2, 3))


def load_backbone_weights(backbone: Backbone, path: str | Path) -> None:
    """Load a local timm / DINOv2 / wrapped state dict into the backbone; report what did not fit.

    DINOv2 releases and timm checkpoints name parameters differently and carry positional embeddings for
    another resolution; timm's own ViT filter converts both, so any of them loads without network access.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"backbone weights {path} not found: pass a local .pth/.pt/.safetensors file")
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        state = load_file(str(path))
    else:
        state = torch.load(path, map_location="cpu", weights_only=True)
    for key in ("state_dict", "model"):
        if isinstance(state, dict) and key in state and isinstance(state[key], dict):
            state = state[key]
    for prefix in _STRIP_PREFIXES:
        if state and all(k.startswith(prefix) for k in state):
            state = {k[len(prefix) :]: v for k, v in state.items()}
    if backbone.is_vit:
        from timm.models.vision_transformer import checkpoint_filter_fn

        state = checkpoint_filter_fn(state, backbone.model)
    # Extra keys (heads, mask tokens) are normal in released checkpoints; missing ones are not.
    missing, _unexpected = backbone.model.load_state_dict(state, strict=False)
    missing = [k for k in missing if not k.startswith("head")]
    if missing:
        raise ValueError(
            f"{path}: {len(missing)} backbone parameters missing (e.g. {missing[:3]}); "
            f"is it a checkpoint of {backbone.name!r}?"
        )
