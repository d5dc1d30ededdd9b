"""Training augmentations: what separates an astronaut photo from a map tile of the same place.

Photos are hand-held through a window: any rotation, some perspective, varying crop and colour. Tiles of one
place differ by year (season, sensor, processing), so each year's image gets its own colour jitter.
Tiles paired
with a photo are first turned by the multiple of 90 degrees closest to the photo's orientation, the same
alignment the 4-rotation database search provides at test time.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torchvision.transforms import v2

from ml.data.photo_like import degrade_like_photo

__all__ = ["AugmentConfig", "Augmenter", "rotate_quarter_turns"]


@dataclass
class AugmentConfig:
    photo_rotation_deg: float = 45.0  # residual after 90-degree alignment is within +-45
    photo_perspective: float = 0.2
    photo_crop_scale: tuple[float, float] = (0.6, 1.0)
    photo_color: float = 0.3
    tile_crop_scale: tuple[float, float] = (0.8, 1.0)
    tile_color: float = 0.2
    hue: float = 0.05
    # Probability that a tile of the tile-only losses (MUM, satellite-only) is degraded like an astronaut
    # photo (clouds, haze, camera colour; ml/data/photo_like.py), after the tile transforms above.
    mum_photo_like: float = 0.0

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def none(cls) -> AugmentConfig:
        """Every augmentation off (zero strength means the transform is skipped, not run as an identity).

        Why it exists: on the CPU ablation budget (a few hundred steps from scratch) the default
        augmentations slowed learning: pairs-only, 300 steps, 1000 test photos: R@1 14.1 -> 17.0 and R@10
        57.7 -> 65.3 without them (docs/experiments/ml-ablation.md). Rotations and perspective also paint black
        corners that no test image has.
        """
        return cls(photo_rotation_deg=0.0, photo_perspective=0.0, photo_crop_scale=(1.0, 1.0), photo_color=0.0,
                   tile_crop_scale=(1.0, 1.0), tile_color=0.0, hue=0.0, mum_photo_like=0.0)


def rotate_quarter_turns(image: torch.Tensor, k: int) -> torch.Tensor:
    """Rotate [..., H, W] counter-clockwise by k * 90 degrees (k = 1 brings the east edge to the top)."""
    return torch.rot90(image, k % 4, dims=(-2, -1))


class Augmenter:
    """uint8 [3, S, S] in -> float [3, S, S] in [0, 1] out; uses torch's global RNG (seeded by `fit`)."""

    def __init__(self, size: int, config: AugmentConfig | None = None) -> None:
        c = config or AugmentConfig()
        self.config = c
        photo: list = []
        if c.photo_rotation_deg > 0:
            photo.append(v2.RandomRotation(c.photo_rotation_deg, interpolation=v2.InterpolationMode.BILINEAR))
        if c.photo_perspective > 0:
            photo.append(v2.RandomPerspective(c.photo_perspective, p=0.5))
        if tuple(c.photo_crop_scale) != (1.0, 1.0):
            photo.append(v2.RandomResizedCrop(size, scale=tuple(c.photo_crop_scale), ratio=(0.8, 1.25), antialias=True))
        if c.photo_color > 0 or c.hue > 0:
            photo.append(v2.ColorJitter(c.photo_color, c.photo_color, c.photo_color, c.hue))
        tile: list = []
        if tuple(c.tile_crop_scale) != (1.0, 1.0):
            tile.append(v2.RandomResizedCrop(size, scale=tuple(c.tile_crop_scale), ratio=(0.9, 1.1), antialias=True))
        if c.tile_color > 0 or c.hue > 0:
            tile.append(v2.ColorJitter(c.tile_color, c.tile_color, c.tile_color, c.hue))
        self.photo = v2.Compose([*photo, v2.ToDtype(torch.float32, scale=True)])
        self.tile = v2.Compose([*tile, v2.ToDtype(torch.float32, scale=True)])

    def photos(self, images: list[torch.Tensor]) -> torch.Tensor:
        return torch.stack([self.photo(im) for im in images])

    def tiles(self, images: list[torch.Tensor]) -> torch.Tensor:
        """Each image gets its own jitter: images of one place in different years should not share it."""
        return torch.stack([self.tile(im) for im in images])

    def mum_tiles(self, images: list[torch.Tensor]) -> torch.Tensor:
        """Tiles of the tile-only losses: the tile transforms, then (with `mum_photo_like`) photo-like degradation."""
        out = self.tiles(images)
        p = self.config.mum_photo_like
        if p <= 0:
            return out
        return torch.stack([degrade_like_photo(im) if float(torch.rand(())) < p else im for im in out])
