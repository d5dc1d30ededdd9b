"""A tiny synthetic world for ML tests: a random texture, grid tiles in two years, rotated photo crops.

Degrees map to pixels linearly (128 px per degree, lon 0..4, lat 0..4); photos are rotated squares whose
footprints are exact, so retrieval and orientation can be checked against known answers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from ml.data.records import PhotoRecord, TileRecord, bounds_footprint

PX_PER_DEG = 128
EXTENT = 4.0


@dataclass
class World:
    texture: np.ndarray
    tiles: list[TileRecord]
    photos: list[PhotoRecord]
    angles: list[float]


def make_texture(seed: int, size: int = int(EXTENT * PX_PER_DEG)) -> np.ndarray:
    rng = np.random.default_rng(seed)
    out = np.zeros((size, size, 3), np.float32)
    for scale in (4, 8, 16, 32):
        noise = rng.random((scale, scale, 3)).astype(np.float32)
        out += cv2.resize(noise, (size, size), interpolation=cv2.INTER_CUBIC) / scale**0.5
    out -= out.min()
    return (255 * out / out.max()).astype(np.uint8)


def render(
    texture: np.ndarray, center: tuple[float, float], half: float, angle_deg: float, px: int
) -> np.ndarray:
    """Image of a square (half-size `half` deg) centred on `center`, top `angle_deg` clockwise of north."""
    t = math.radians(angle_deg)
    up = np.array([math.sin(t), math.cos(t)])
    right = np.array([math.cos(t), -math.sin(t)])
    gx, gy = np.meshgrid((np.arange(px) + 0.5) / px * 2 - 1, (np.arange(px) + 0.5) / px * 2 - 1)
    lon = center[0] + half * (gx * right[0] - gy * up[0])
    lat = center[1] + half * (gx * right[1] - gy * up[1])
    map_x = (lon * PX_PER_DEG).astype(np.float32)
    map_y = ((EXTENT - lat) * PX_PER_DEG).astype(np.float32)
    return cv2.remap(texture, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)


def corners(center: tuple[float, float], half: float, angle_deg: float) -> tuple[tuple[float, float], ...]:
    t = math.radians(angle_deg)
    up = np.array([math.sin(t), math.cos(t)])
    right = np.array([math.cos(t), -math.sin(t)])
    c = np.array(center)
    pts = [
        c + half * (-right + up),
        c + half * (right + up),
        c + half * (right - up),
        c + half * (-right - up),
    ]
    return tuple((float(p[0]), float(p[1])) for p in pts)


def make_world(
    root: Path, *, seed: int = 0, n_photos: int = 12, px: int = 64, tile_deg: float = 1.0
) -> World:
    root.mkdir(parents=True, exist_ok=True)
    texture = make_texture(seed)
    rng = np.random.default_rng(seed + 1)
    tiles = []
    steps = np.arange(0.0, EXTENT - tile_deg + 1e-9, tile_deg / 2)
    for year, gain in ((2020, np.array([1.0, 1.0, 1.0])), (2021, np.array([0.8, 0.95, 1.1]))):
        img_year = np.clip(texture * gain, 0, 255).astype(np.uint8)
        for lon0 in steps:
            for lat0 in steps:
                c = (lon0 + tile_deg / 2, lat0 + tile_deg / 2)
                path = root / f"tile_{lon0:.1f}_{lat0:.1f}_{year}.png"
                Image.fromarray(render(img_year, c, tile_deg / 2, 0.0, px)).save(path)
                key = f"{lon0:.1f}/{lat0:.1f}"
                fp = bounds_footprint((lon0, lat0, lon0 + tile_deg, lat0 + tile_deg))
                tiles.append(TileRecord(f"{key}/{year}", path, fp, key, year))
    photos, angles = [], []
    for i in range(n_photos):
        c = (float(rng.uniform(0.6, EXTENT - 0.6)), float(rng.uniform(0.6, EXTENT - 0.6)))
        angle = float(rng.uniform(0, 360))
        path = root / f"photo_{i}.png"
        Image.fromarray(render(texture, c, 0.35, angle, px)).save(path)
        photos.append(PhotoRecord(f"P{i}", path, corners(c, 0.35, angle)))
        angles.append(angle)
    return World(texture, tiles, photos, angles)
