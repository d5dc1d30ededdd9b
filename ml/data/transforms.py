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

    def to_dict(self) -> dict:
        return asdict(self)


def rotate_quarter_turns(image: torch.Tensor, k: int) -> torch.Tensor:
    """Rotate [..., H, W] counter-clockwise by k * 90 degrees (k = 1 brings the east edge to the top)."""
    return torch.rot90(image, k % 4, dims=(-2, -1))


class Augmenter:
    """uint8 [3, S, S] in -> float [3, S, S] in [0, 1] out; uses torch's global RNG (seeded by `fit`)."""

    def __init__(self, size: int, config: AugmentConfig | None = None) -> None:
        c = config or AugmentConfig()
        self.config = c
        self.photo = v2.Compose(
            [
                v2.RandomRotation(c.photo_rotation_deg, interpolation=v2.InterpolationMode.BILINEAR),
                v2.RandomPerspective(c.photo_perspective, p=0.5),
                v2.RandomResizedCrop(
                    size, scale=tuple(c.photo_crop_scale), ratio=(0.8, 1.25), antialias=True
                ),
                v2.ColorJitter(c.photo_color, c.photo_color, c.photo_color, c.hue),
                v2.ToDtype(torch.float32, scale=True),
            ]
        )
        self.tile = v2.Compose(
            [
                v2.RandomResizedCrop(size, scale=tuple(c.tile_crop_scale), ratio=(0.9, 1.1), antialias=True),
                v2.ColorJitter(c.tile_color, c.tile_color, c.tile_color, c.hue),
                v2.ToDtype(torch.float32, scale=True),
            ]
        )

    def photos(self, images: list[torch.Tensor]) -> torch.Tensor:
        return torch.stack([self.photo(im) for im in images])

    def tiles(self, images: list[torch.Tensor]) -> torch.Tensor:
        """Each image gets its own jitter: images of one place in different years should not share it."""
        return torch.stack([self.tile(im) for im in images])
