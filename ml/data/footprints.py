"""Ground-overlap queries over footprints (shapely STRtree), shared by pair building, samplers and recall.

Polygons stay in (lon, lat) degrees: overlap tests are exact topology, and IoU is a ratio of areas, which an
affine map (such as scaling lon by cos(latitude)) leaves unchanged, so no projection is needed for footprints
of a few hundred km. Footprints crossing the antimeridian are not handled.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import shapely
from shapely.geometry import Polygon

from ml.data.records import Footprint

__all__ = ["FootprintIndex", "footprint_polygon", "footprint_rotation_deg", "iou", "overlaps"]

_MIN_AREA = 1e-12  # touching edges (grid neighbours) are not an overlap


def footprint_polygon(footprint: Footprint) -> Polygon:
    """Polygon of a (lon, lat) footprint, repaired if its corners cross over."""
    poly = Polygon(footprint)
    return poly if poly.is_valid else poly.buffer(0)


def iou(a: Polygon, b: Polygon) -> float:
    inter = a.intersection(b).area
    union = a.area + b.area - inter
    return float(inter / union) if union > 0 else 0.0


def overlaps(a: Polygon, b: Polygon) -> bool:
    """True when the two footprints share ground (positive area), not merely an edge."""
    return a.intersects(b) and a.intersection(b).area > _MIN_AREA


def footprint_rotation_deg(footprint: Footprint) -> float:
    """Clockwise angle (degrees) between north-up and the photo's "up" (BL -> TL edge) on the ground.

    0 for a north-up image; 90 when the image top points east. Used to align a training tile to its photo
    up to the 4 rotations the database is searched with.
    """
    (tl, _tr, _br, bl) = footprint[:4]
    k = math.cos(math.radians((tl[1] + bl[1]) / 2))
    dx, dy = (tl[0] - bl[0]) * k, tl[1] - bl[1]
    return math.degrees(math.atan2(dx, dy)) % 360.0


class FootprintIndex:
    """Spatial index over many footprints: which ones overlap a query footprint, and by how much."""

    def __init__(self, footprints: Sequence[Footprint]) -> None:
        self.polygons = [footprint_polygon(f) for f in footprints]
        self._tree = shapely.STRtree(self.polygons)

    def __len__(self) -> int:
        return len(self.polygons)

    def overlapping(self, footprint: Footprint | Polygon) -> np.ndarray:
        """Indices of footprints sharing ground with the query (positive intersection area)."""
        query = footprint if isinstance(footprint, Polygon) else footprint_polygon(footprint)
        candidates = self._tree.query(query, predicate="intersects")
        if len(candidates) == 0:
            return candidates.astype(np.int64)
        areas = shapely.area(shapely.intersection(np.asarray(self.polygons, dtype=object)[candidates], query))
        return np.sort(candidates[areas > _MIN_AREA]).astype(np.int64)

    def ious(self, footprint: Footprint | Polygon) -> dict[int, float]:
        """IoU of the query with every overlapping footprint, by index."""
        query = footprint if isinstance(footprint, Polygon) else footprint_polygon(footprint)
        return {int(i): iou(query, self.polygons[i]) for i in self.overlapping(query)}

    def overlap_matrix(self, indices: Sequence[int]) -> np.ndarray:
        """[n, n] bool: which of the given footprints share ground (diagonal True)."""
        polys = np.asarray([self.polygons[i] for i in indices], dtype=object)
        n = len(polys)
        out = np.eye(n, dtype=bool)
        for a in range(n):
            if a + 1 < n:
                inter = shapely.area(shapely.intersection(polys[a + 1 :], polys[a]))
                out[a, a + 1 :] = inter > _MIN_AREA
        return out | out.T
