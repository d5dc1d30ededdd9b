"""Make a satellite tile look as if seen through the ISS window: clouds, haze, camera colour.

Why: MUM and the satellite-only loss learn from tiles alone. Tiles of one place in two years differ by
season, so a tile-only loss learns season invariance and then separates look-alike places by whatever detail
tiles have, including detail that never survives into an astronaut photo. Degrading the tiles the way the
atmosphere and a hand-held camera degrade photos (cloud cover with shadows, a bluish veil thickening towards
one edge, white balance / exposure / saturation shifts) makes the invariances MUM learns the ones a photo
query needs. The effects follow the physics the photos themselves carry (see ml/synth/effects.py for the
synthetic Earth's renderer); they are drawn independently per image, so the years of one place never share
them.

Works on float tensors [3, S, S] in [0, 1]; uses torch's global RNG (seeded by `fit`).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["cloud_opacity", "degrade_like_photo"]

HAZE_COLOUR = (0.65, 0.72, 0.85)


def _smoothstep(lo: float, hi: float, x: torch.Tensor) -> torch.Tensor:
    t = ((x - lo) / (hi - lo)).clamp(0, 1)
    return t * t * (3 - 2 * t)


def cloud_opacity(size: int, cover: float) -> torch.Tensor:
    """Opacity [S, S] in [0, 1] covering about `cover` of the image: three octaves of smooth noise, thresholded."""
    noise = torch.zeros(1, 1, size, size)
    for cells, weight in ((4, 1.0), (8, 0.5), (16, 0.25)):
        coarse = torch.randn(1, 1, cells, cells)
        noise += weight * F.interpolate(coarse, size=(size, size), mode="bicubic", align_corners=False)
    noise = noise[0, 0]
    threshold = float(torch.quantile(noise.flatten(), 1.0 - cover))
    spread = float(noise.std()) * 0.5
    return _smoothstep(threshold - 0.3 * spread, threshold + 0.7 * spread, noise)


def degrade_like_photo(image: torch.Tensor, *, cloud_probability: float = 0.5) -> torch.Tensor:
    """One random photo-like degradation of `image` [3, S, S] (float in [0, 1])."""
    size = image.shape[-1]
    img = image
    if float(torch.rand(())) < cloud_probability:
        cover = float(torch.empty(()).uniform_(0.05, 0.6))
        alpha = cloud_opacity(size, cover)
        reach = size // 20 + 1
        shift = (int(torch.randint(-reach, reach + 1, ())), int(torch.randint(-reach, reach + 1, ())))
        shadow = torch.roll(alpha, shift, dims=(0, 1))
        brightness = float(torch.empty(()).uniform_(0.85, 1.0))
        img = img * (1 - 0.45 * shadow) * (1 - alpha) + brightness * alpha
    strength = float(torch.empty(()).uniform_(0.0, 0.2))
    gradient = float(torch.empty(()).uniform_(0.0, 0.3))
    ramp = (strength + gradient * torch.linspace(1.0, 0.0, size).view(1, size, 1)).expand(1, size, size)
    ramp = torch.rot90(ramp, int(torch.randint(0, 4, ())), dims=(-2, -1)).clamp(0, 0.9)  # any edge is "up"
    haze = torch.tensor(HAZE_COLOUR, dtype=img.dtype).view(3, 1, 1)
    img = img * (1 - ramp) + haze * ramp
    grey = img.mean(dim=0, keepdim=True)
    saturation = float(torch.empty(()).uniform_(0.6, 1.3))
    gains = torch.normal(1.0, 0.07, (3, 1, 1))
    gamma = float(torch.empty(()).uniform_(0.8, 1.25))
    img = ((grey + (img - grey) * saturation) * gains).clamp(0, 1) ** gamma
    return img.clamp(0, 1)
