"""A search area's features: the union of its database images' stored features, in one Mercator pixel frame.

Why a union and not a mosaic: database images of one zoom lie on one XYZ grid (docs/design.md, "The
satellite database"), so a keypoint's Mercator position follows from its image's bounds. Neighbouring
database images overlap (span 4, stride 2), so every point is kept once: by the image whose centre is
nearest in the grid's own (Chebyshev) distance, i.e. where it lies deepest inside an image and its
descriptor saw the most context. The frame is the area at the zoom's native resolution: a footprint keeps
every keypoint, nothing is resampled.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ml.geo import Bounds
from ml.matching.base import BaseMatcher
from ml.matching.geometry import GeoImage, mercator_bounds
from ml.verification.features import FeatureSource, TileRecord, matcher_features

__all__ = ["GeoFeatures", "TileImagery"]


@dataclass(frozen=True)
class GeoFeatures:
    """Features of an area of one zoom and year, in the pixels of its frame (linear in Web Mercator)."""

    features: Any  # the matcher's feature type (keypoints in frame pixels)
    keypoints: np.ndarray  # (N, 2) frame pixels
    descriptors: np.ndarray  # (N, D) float
    bounds_mercator: Bounds
    size: tuple[int, int]  # (width, height) of the frame in pixels
    zoom: int
    year: int | None
    tiles: tuple[TileRecord, ...]

    def frame(self) -> GeoImage:
        """The frame as a GeoImage for the geometric checks (they need its size and bounds, not pixels)."""
        return GeoImage(np.zeros((self.size[1], self.size[0], 0), np.uint8), self.bounds_mercator, self.zoom,
                        self.year, self.tiles)

    def within(self, matcher: BaseMatcher, polygon: np.ndarray) -> Any:
        """The matcher's features of the keypoints inside a convex polygon (frame px, clockwise on screen)."""
        inside = _inside_convex(self.keypoints, polygon)
        return matcher_features(matcher, self.keypoints[inside], self.descriptors[inside])


def _inside_convex(points: np.ndarray, polygon: np.ndarray) -> np.ndarray:
    """Boolean mask of points inside a convex polygon whose vertices turn the way image corners do."""
    if not len(points):
        return np.zeros(0, bool)
    inside = np.ones(len(points), bool)
    for i in range(len(polygon)):
        a, b = polygon[i], polygon[(i + 1) % len(polygon)]
        inside &= (b[0] - a[0]) * (points[:, 1] - a[1]) - (b[1] - a[1]) * (points[:, 0] - a[0]) >= 0
    return inside


class TileImagery:
    """The database images around a search, with their features from a :class:`FeatureSource`."""

    def __init__(self, records: Sequence[TileRecord], source: FeatureSource, matcher: BaseMatcher) -> None:
        if not records:
            raise ValueError("no tile records: verification needs at least one database image")
        self.records = list(records)
        self.source = source
        self.matcher = matcher
        self._groups: dict[tuple[int, int | None], tuple[list[TileRecord], np.ndarray]] = {}
        for r in self.records:
            self._groups.setdefault((r.zoom, r.year), ([], None))[0].append(r)
        for key, (recs, _) in self._groups.items():
            self._groups[key] = (recs, np.array([mercator_bounds(r.bounds) for r in recs], np.float64))
        self._res: dict[int, float] = {}

    def zooms(self) -> list[int]:
        return sorted({r.zoom for r in self.records})

    def years(self) -> list[int | None]:
        return sorted({r.year for r in self.records}, key=lambda y: (y is None, -(y or 0)))  # newest first

    def resolution_m(self, zoom: int) -> float:
        """Web Mercator metres per pixel of the database images at ``zoom``."""
        if zoom not in self._res:
            group = next(((recs, b) for (z, _), (recs, b) in self._groups.items() if z == zoom), None)
            if group is None:
                raise ValueError(f"no database images at zoom {zoom}; available: {self.zooms()}")
            rec, b = group[0][0], group[1][0]
            width = self.source.tile_features([rec])[rec.tile_id].size[0]
            self._res[zoom] = (b[2] - b[0]) / width
        return self._res[zoom]

    def features(self, bounds_lonlat: Bounds, zoom: int, year: int | None) -> GeoFeatures | None:
        """Features of the area (clipped to what is covered) at ``zoom`` and ``year``; None if nothing covers it."""
        recs, boxes = self._groups.get((zoom, year), ([], np.zeros((0, 4))))
        qx0, qy0, qx1, qy1 = mercator_bounds(bounds_lonlat)
        hit = (boxes[:, 0] < qx1) & (qx0 < boxes[:, 2]) & (boxes[:, 1] < qy1) & (qy0 < boxes[:, 3]) if len(recs) \
            else np.zeros(0, bool)
        if not hit.any():
            return None
        used = [recs[i] for i in np.flatnonzero(hit)]
        ub = boxes[hit]
        res = self.resolution_m(zoom)
        x0, y0 = max(qx0, ub[:, 0].min()), max(qy0, ub[:, 1].min())
        x1, y1 = min(qx1, ub[:, 2].max()), min(qy1, ub[:, 3].max())
        w, h = round((x1 - x0) / res), round((y1 - y0) / res)
        if w < 8 or h < 8:
            return None
        feats = self.source.tile_features(used)
        centres = np.stack([(ub[:, 0] + ub[:, 2]) / 2, (ub[:, 1] + ub[:, 3]) / 2], axis=1)
        halves = np.stack([(ub[:, 2] - ub[:, 0]) / 2, (ub[:, 3] - ub[:, 1]) / 2], axis=1)
        kps, descs = [], []
        for i, rec in enumerate(used):
            f = feats[rec.tile_id]
            if not len(f.keypoints):
                continue
            b = ub[i]
            mx = b[0] + f.keypoints[:, 0].astype(np.float64) * (b[2] - b[0]) / f.size[0]
            my = b[3] - f.keypoints[:, 1].astype(np.float64) * (b[3] - b[1]) / f.size[1]
            keep = (mx >= x0) & (mx <= x1) & (my >= y0) & (my <= y1)
            if len(used) > 1:  # the point belongs to the image it lies deepest in (Chebyshev, per image size)
                depth = np.max(np.abs(np.stack([mx, my], 1)[:, None, :] - centres[None]) / halves[None], axis=2)
                keep &= depth.argmin(axis=1) == i
            if keep.any():
                kps.append(np.stack([(mx[keep] - x0) / res, (y1 - my[keep]) / res], axis=1))
                descs.append(f.float_descriptors()[keep])
        if not kps:
            return None
        kp = np.concatenate(kps).astype(np.float32)
        desc = np.concatenate(descs)
        return GeoFeatures(matcher_features(self.matcher, kp, desc), kp, desc, (x0, y1 - h * res, x0 + w * res, y1),
                           (w, h), zoom, year, tuple(used))
