"""PNGs a person can look at to judge the synthetic Earth: mosaic overview, two years, photos + footprints."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import rasterio

from ml.geo import lonlat_to_pixel
from ml.synth.loader import load_synth


def _read_rgb(path: Path, max_side: int) -> tuple[np.ndarray, tuple[float, float, float, float], float]:
    """Mosaic downsampled (from its overviews) to at most ``max_side``; returns image, bounds, scale."""
    with rasterio.open(path) as src:
        scale = max(src.width, src.height) / max_side
        shape = (3, max(int(src.height / scale), 1), max(int(src.width / scale), 1))
        data = src.read(out_shape=shape)
        return np.ascontiguousarray(data.transpose(1, 2, 0)), tuple(src.bounds), scale


def _bgr(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)


def render_examples(data: Path, out: Path, n_photos: int = 4) -> list[Path]:
    """Write overview.png, years.png and photo_<id>.png files under ``out``; returns their paths."""
    ds = load_synth(data)
    out.mkdir(parents=True, exist_ok=True)
    written = []

    overview, bounds, _ = _read_rgb(ds.mosaics[0], 1400)
    size = (overview.shape[1], overview.shape[0])
    canvas = _bgr(overview)
    for photo in ds.photos:
        lons, lats = zip(*photo.footprint, strict=True)
        col, row = lonlat_to_pixel(bounds, size, list(lons), list(lats))
        pts = np.stack([col, row], axis=1).astype(np.int32).reshape(-1, 1, 2)
        colour = {"train": (0, 200, 255), "val": (255, 200, 0), "test": (0, 0, 255)}[photo.split]
        cv2.polylines(canvas, [pts], True, colour, 1, cv2.LINE_AA)
    written.append(out / "overview.png")
    cv2.imwrite(str(written[-1]), canvas)

    # Two years of the same database image.
    if ds.tiles:
        finest = max(t.zoom for t in ds.tiles)
        first = next(t for t in ds.tiles if t.zoom == finest)
        same = [t for t in ds.tiles if (t.zoom, t.x, t.y) == (first.zoom, first.x, first.y)]
        row_imgs = [
            cv2.resize(cv2.imread(str(t.path)), (384, 384), interpolation=cv2.INTER_NEAREST) for t in same
        ]
        for img, t in zip(row_imgs, same, strict=True):
            cv2.putText(img, str(t.year), (8, 24), cv2.FONT_HERSHEY_SIMPLEX, 0.7, (255, 255, 255), 2)
        written.append(out / "years.png")
        cv2.imwrite(str(written[-1]), np.concatenate(row_imgs, axis=1))

    # Photos next to their true footprint drawn on the mosaic.
    full, bounds, _ = _read_rgb(ds.mosaics[0], 6000)
    full_size = (full.shape[1], full.shape[0])
    for photo in ds.photos[:n_photos]:
        col, row = lonlat_to_pixel(bounds, full_size, [c[0] for c in photo.footprint],
                                   [c[1] for c in photo.footprint])
        pad = 0.3 * max(np.ptp(col), np.ptp(row)) + 5
        c0, c1 = int(max(col.min() - pad, 0)), int(min(col.max() + pad, full_size[0]))
        r0, r1 = int(max(row.min() - pad, 0)), int(min(row.max() + pad, full_size[1]))
        crop = _bgr(full[r0:r1, c0:c1]).copy()
        pts = np.stack([col - c0, row - r0], axis=1).astype(np.int32)
        cv2.polylines(crop, [pts.reshape(-1, 1, 2)], True, (0, 0, 255), 2, cv2.LINE_AA)
        cv2.circle(crop, tuple(int(v) for v in pts[0]), 5, (0, 255, 0), -1)  # top-left corner of the photo
        img = cv2.imread(str(photo.path))
        h = 384
        crop = cv2.resize(crop, (int(crop.shape[1] * h / crop.shape[0]), h))
        img = cv2.resize(img, (int(img.shape[1] * h / img.shape[0]), h))
        cv2.circle(img, (6, 6), 5, (0, 255, 0), -1)
        label = f"{photo.photo_id} {photo.split} f={photo.focal_length_mm:.0f}mm tilt={photo.tilt_deg:.0f}"
        cv2.putText(img, label, (8, h - 10), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (255, 255, 255), 1)
        written.append(out / f"photo_{photo.photo_id}.png")
        cv2.imwrite(str(written[-1]), np.concatenate([img, crop], axis=1))
    return written
