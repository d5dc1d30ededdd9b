"""Batched embedding of images into float32 L2-normalised descriptors (bf16 autocast on GPU).

Used by evaluation, by the cluster sampler's re-clustering and by the platform's embed/localize workers, so
all of them produce exactly the same vectors for the same image and model.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ml.data.images import ImageStore
from ml.data.transforms import rotate_quarter_turns
from ml.models.descriptor import DescriptorModel

__all__ = ["embed_files", "embed_tensors", "iter_embeddings", "resolve_device", "synchronize"]


def resolve_device(device: str | torch.device | None = None) -> torch.device:
    """`None`/"auto" -> CUDA when available, else CPU."""
    if device is None or device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def synchronize(device: torch.device) -> None:
    """Wait for the device's queued work (CUDA runs asynchronously): needed before reading a timer."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


@torch.no_grad()
def embed_tensors(model: DescriptorModel, images: torch.Tensor, device: torch.device) -> np.ndarray:
    """Descriptors [B, D] of a uint8 [B, 3, S, S] (or float in [0, 1]) batch at the model's input size."""
    x = images.to(device)
    x = x.float() / 255.0 if x.dtype == torch.uint8 else x.float()
    size = model.preprocessing.size
    if x.shape[-1] != size or x.shape[-2] != size:
        x = F.interpolate(x, size=(size, size), mode="bilinear", antialias=True, align_corners=False)
    x = model.preprocessing.normalize(x)
    with torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
        out = model(x)
    return F.normalize(out.float(), dim=-1).cpu().numpy().astype(np.float32)


def iter_embeddings(
    model: DescriptorModel,
    images: Iterable[torch.Tensor],
    *,
    batch_size: int = 32,
    device: str | torch.device | None = None,
) -> Iterator[np.ndarray]:
    """Yield descriptors batch by batch for a stream of uint8 [3, S, S] images (model put in eval mode)."""
    dev = resolve_device(device)
    was_training = model.training
    model.eval().to(dev)
    try:
        batch: list[torch.Tensor] = []
        for image in images:
            batch.append(image)
            if len(batch) == batch_size:
                yield embed_tensors(model, torch.stack(batch), dev)
                batch = []
        if batch:
            yield embed_tensors(model, torch.stack(batch), dev)
    finally:
        model.train(was_training)


def embed_files(
    model: DescriptorModel,
    paths: Sequence[str | Path],
    *,
    rotations: Sequence[int] = (0,),
    batch_size: int = 32,
    device: str | torch.device | None = None,
    store: ImageStore | None = None,
) -> np.ndarray:
    """Descriptors [N, len(rotations), D] of image files, each rotated by the given quarter turns (0-3)."""
    store = store or ImageStore(model.preprocessing.size, max_items=0)
    stream = (rotate_quarter_turns(store.get(p), k) for p in paths for k in rotations)
    chunks = list(iter_embeddings(model, stream, batch_size=batch_size, device=device))
    flat = np.concatenate(chunks) if chunks else np.zeros((0, model.desc_dim), np.float32)
    return flat.reshape(len(paths), len(rotations), -1)
