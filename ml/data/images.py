"""Image decoding at the model's input size, with an in-memory cache.

Training re-reads the same tiles many times (several years, several batches, every re-clustering); on a CPU
machine decoding PNGs would cost more than the network, so decoded, resized uint8 tensors are kept.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image

__all__ = ["ImageStore", "load_image"]


def load_image(path: str | Path, size: int) -> torch.Tensor:
    """RGB uint8 tensor [3, size, size]; non-square images are squashed, not cropped (keep the footprint)."""
    try:
        with Image.open(path) as im:
            im = im.convert("RGB").resize((size, size), Image.BILINEAR)
            arr = np.asarray(im, dtype=np.uint8)
    except (OSError, ValueError) as exc:
        raise OSError(f"cannot read image {path}: {exc}") from exc
    return torch.from_numpy(arr.copy()).permute(2, 0, 1).contiguous()


class ImageStore:
    """Loads images at one size and keeps up to `max_items` of them decoded."""

    def __init__(self, size: int, *, max_items: int = 50_000) -> None:
        self.size = size
        self.max_items = max_items
        self._cache: dict[Path, torch.Tensor] = {}

    def get(self, path: str | Path) -> torch.Tensor:
        key = Path(path)
        img = self._cache.get(key)
        if img is None:
            img = load_image(key, self.size)
            if len(self._cache) < self.max_items:
                self._cache[key] = img
        return img
