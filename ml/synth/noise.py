"""Seeded noise fields for the procedural land surface.

Value noise upsampled with bicubic interpolation is cheap (OpenCV does the work) and, summed over octaves,
gives the fractal look of terrain at every zoom. Everything takes an explicit ``numpy.random.Generator``
so that the same seed always gives the same bytes.
"""

from __future__ import annotations

import cv2
import numpy as np


def value_noise(rng: np.random.Generator, shape: tuple[int, int], cell_px: float) -> np.ndarray:
    """Smooth noise in [-1, 1]-ish with features about ``cell_px`` pixels across."""
    h, w = shape
    cell_px = max(float(cell_px), 1.0)
    gh, gw = int(np.ceil(h / cell_px)) + 3, int(np.ceil(w / cell_px)) + 3
    grid = rng.uniform(-1.0, 1.0, size=(gh, gw)).astype(np.float32)
    big = cv2.resize(grid, (round(gw * cell_px), round(gh * cell_px)), interpolation=cv2.INTER_CUBIC)
    oy, ox = int(cell_px), int(cell_px)
    return np.ascontiguousarray(big[oy : oy + h, ox : ox + w])


def fbm(
    rng: np.random.Generator,
    shape: tuple[int, int],
    largest_px: float,
    octaves: int,
    gain: float = 0.5,
    smallest_px: float = 1.5,
) -> np.ndarray:
    """Fractal Brownian motion: octaves of value noise, each half the size and ``gain`` the amplitude.

    Normalised to zero mean and unit standard deviation so thresholds mean the same at every size.
    """
    out = np.zeros(shape, np.float32)
    amp, size = 1.0, float(largest_px)
    for _ in range(octaves):
        if size < smallest_px:
            break
        out += amp * value_noise(rng, shape, size)
        amp *= gain
        size /= 2.0
    return normalise(out)


def ridged(rng: np.random.Generator, shape: tuple[int, int], largest_px: float, octaves: int) -> np.ndarray:
    """Ridged multifractal in [0, 1]: sharp crests like mountain chains."""
    out = np.zeros(shape, np.float32)
    amp, size, total = 1.0, float(largest_px), 0.0
    for _ in range(octaves):
        if size < 1.5:
            break
        n = 1.0 - np.abs(value_noise(rng, shape, size))
        out += amp * n * n
        total += amp
        amp *= 0.5
        size /= 2.0
    return out / max(total, 1e-6)


def normalise(a: np.ndarray) -> np.ndarray:
    """Zero mean, unit standard deviation (float32)."""
    a = a - a.mean()
    std = float(a.std())
    return (a / std if std > 0 else a).astype(np.float32)


def smoothstep(edge0: float, edge1: float, x: np.ndarray) -> np.ndarray:
    """Hermite step from 0 at edge0 to 1 at edge1: soft masks without aliasing."""
    t = np.clip((x - edge0) / (edge1 - edge0), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)
