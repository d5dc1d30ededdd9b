"""Descriptor models: timm backbones, SALAD/GeM aggregators, projection + L2 norm, checkpoints."""

from ml.models.checkpoint import Checkpoint, load_checkpoint, load_model, save_checkpoint
from ml.models.descriptor import DescriptorModel, ModelConfig, Preprocessing
from ml.models.registry import create_model, list_models, model_config, register_model

__all__ = [
    "Checkpoint",
    "DescriptorModel",
    "ModelConfig",
    "Preprocessing",
    "create_model",
    "list_models",
    "load_checkpoint",
    "load_model",
    "model_config",
    "register_model",
    "save_checkpoint",
]
