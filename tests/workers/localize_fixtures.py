"""A tiny textured tile grid with real images, model versions with tiny checkpoints, and photos cut from tiles."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from django.conf import settings
from django.core.files.base import ContentFile

from apps.core.geo import bbox_polygon, lonlat_point
from apps.imagery.models import SatelliteTile
from apps.models_registry.models import ModelVersion
from tests.factories import mosaic_create, photo_create

GRID = 4
CELL_DEG = 0.2
ORIGIN = (10.0, 45.0)
TILE_PX = 384


def textured(size: int, seed: int) -> np.ndarray:
    """An RGB image with blobs, lines and corners at many scales: plenty of SIFT features, unique per seed."""
    rng = np.random.default_rng(seed)
    base = cv2.resize(rng.integers(0, 255, (12, 12, 3), dtype=np.uint8), (size, size), interpolation=cv2.INTER_CUBIC)
    img = base.copy()
    for _ in range(60):
        color = tuple(int(c) for c in rng.integers(0, 255, 3))
        x, y = (int(v) for v in rng.integers(0, size, 2))
        if rng.random() < 0.5:
            cv2.circle(img, (x, y), int(rng.integers(3, size // 10)), color, -1)
        else:
            w, h = (int(v) for v in rng.integers(4, size // 6, 2))
            cv2.rectangle(img, (x, y), (x + w, y + h), color, -1)
    noise = rng.normal(0, 6, img.shape)
    return np.clip(img + noise, 0, 255).astype(np.uint8)


def png_bytes(rgb: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(".png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    assert ok
    return buf.tobytes()


def wrap_lon(lon: float) -> float:
    """Longitude into [-180, 180): a grid may straddle the antimeridian."""
    return (lon + 180.0) % 360.0 - 180.0


@dataclass
class Grid:
    tiles: dict[tuple[int, int], SatelliteTile]
    images: dict[tuple[int, int], np.ndarray]
    origin: tuple[float, float] = ORIGIN

    def center(self, cell: tuple[int, int]) -> tuple[float, float]:
        return (wrap_lon(self.origin[0] + (cell[0] + 0.5) * CELL_DEG), self.origin[1] + (cell[1] + 0.5) * CELL_DEG)


def make_grid(zoom: int = 11, year: int = 2022, origin: tuple[float, float] = ORIGIN, n: int = GRID) -> Grid:
    """n x n tiles of CELL_DEG from ``origin`` eastwards (wrapping at lon 180) and northwards (``GRID`` by
    default; the fault tests use bigger grids)."""
    mosaic = mosaic_create(year=year)
    tiles, images = {}, {}
    for i in range(n):
        for j in range(n):
            lon0, lat0 = wrap_lon(origin[0] + i * CELL_DEG), origin[1] + j * CELL_DEG
            image = textured(TILE_PX, seed=100 + i * n + j)
            tile = SatelliteTile(zoom=zoom, x=i, y=j, span=4, year=year, mosaic=mosaic, size_px=TILE_PX,
                                 bounds=bbox_polygon(lon0, lat0, lon0 + CELL_DEG, lat0 + CELL_DEG))
            tile.image.save(f"t_{zoom}_{i}_{j}.png", ContentFile(png_bytes(image)), save=False)
            tile.save()
            tiles[(i, j)], images[(i, j)] = tile, image
    return Grid(tiles, images, origin)


def make_version(name: str, seed: int, dim: int = 32, image_size: int = 64) -> ModelVersion:
    import torch

    from ml.models import create_model, save_checkpoint

    torch.manual_seed(seed)
    model = create_model("resnet18_gem", image_size=image_size, desc_dim=dim).eval()
    path = settings.MEDIA_ROOT / "checkpoints" / f"{name}.pt"
    save_checkpoint(path, model)
    return ModelVersion.objects.create(name=name, embedding_dim=dim, checkpoint=f"checkpoints/{name}.pt")


def cell_center(i: int, j: int) -> tuple[float, float]:
    return (ORIGIN[0] + (i + 0.5) * CELL_DEG, ORIGIN[1] + (j + 0.5) * CELL_DEG)


def photo_from_tile(grid: Grid, cell: tuple[int, int], *, uncertainty_km: float = 40.0, **fields):
    """A photo showing the central half of a tile (north up, no metadata besides the centre point)."""
    img = grid.images[cell]
    q = TILE_PX // 4
    crop = np.ascontiguousarray(img[q:-q, q:-q])
    fields.setdefault("center_point", lonlat_point(*grid.center(cell)))
    photo = photo_create(center_uncertainty_km=uncertainty_km, focal_length_mm=None, **fields)
    photo.image.save(f"{photo.photo_id}.png", ContentFile(png_bytes(crop)), save=True)
    return photo


def noise_photo(**fields):
    """A photo of pure noise: nothing in the database can verify it."""
    rng = np.random.default_rng(7)
    photo = photo_create(focal_length_mm=None, **fields)
    photo.image.save(f"{photo.photo_id}.png",
                     ContentFile(png_bytes(rng.integers(0, 255, (192, 192, 3), dtype=np.uint8))), save=True)
    return photo
