"""Self-describing checkpoints: architecture, data config, weights, training state and metrics in one file.

A checkpoint must rebuild its model with no other input (`load_model(path)`), so that a model version
registered by the platform, a resumed training run and a researcher's CLI all read the same artefact
(nanoGPT-style). Backbone weights are never re-read from `backbone_weights`: they are inside the file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import torch

from ml.models.descriptor import DescriptorModel, ModelConfig

__all__ = ["Checkpoint", "load_checkpoint", "load_model", "save_checkpoint"]

FORMAT_VERSION = 1


@dataclass
class Checkpoint:
    """What a checkpoint file holds, as plain Python objects."""

    model_config: ModelConfig
    model_state: dict
    data_config: dict = field(default_factory=dict)
    train_state: dict = field(default_factory=dict)  # optimizer, scaler, iteration, rng states
    metrics: dict = field(default_factory=dict)

    def build_model(self) -> DescriptorModel:
        model = DescriptorModel(self.model_config, load_weights=False)
        model.load_state_dict(self.model_state)
        return model.eval()


def save_checkpoint(
    path: str | Path,
    model: DescriptorModel,
    *,
    data_config: dict | None = None,
    train_state: dict | None = None,
    metrics: dict | None = None,
) -> Path:
    """Write atomically (temp file + rename) so an interrupted save never leaves a corrupt checkpoint."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "format_version": FORMAT_VERSION,
        "model_config": model.config.to_dict(),
        "model_state": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "data_config": data_config or {},
        "train_state": train_state or {},
        "metrics": metrics or {},
    }
    tmp = path.with_name(path.name + ".tmp")
    torch.save(payload, tmp)
    os.replace(tmp, path)
    return path


def load_checkpoint(path: str | Path) -> Checkpoint:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {path} not found")
    payload = torch.load(path, map_location="cpu", weights_only=False)
    if not isinstance(payload, dict) or "model_config" not in payload:
        raise ValueError(
            f"{path} is not an AstroLoc checkpoint (no model_config); was it saved by save_checkpoint?"
        )
    return Checkpoint(
        model_config=ModelConfig.from_dict(payload["model_config"]),
        model_state=payload["model_state"],
        data_config=payload.get("data_config", {}),
        train_state=payload.get("train_state", {}),
        metrics=payload.get("metrics", {}),
    )


def load_model(path: str | Path) -> DescriptorModel:
    """Rebuild the model of a checkpoint, in eval mode, on the CPU."""
    return load_checkpoint(path).build_model()
