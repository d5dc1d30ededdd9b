"""Plain records the training loop consumes, independent of where the data comes from.

The synthetic Earth, files on disk and (later) the Django database all reduce to these two types, so the
samplers, datasets and training loop never learn about either source. Footprints are (lon, lat) rings.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["Footprint", "PhotoRecord", "TileRecord", "bounds_footprint"]

Footprint = tuple[tuple[float, float], ...]  # (lon, lat) corners, TL, TR, BR, BL for photos


def bounds_footprint(bounds: tuple[float, float, float, float]) -> Footprint:
    """Corners of a north-up box (lon_min, lat_min, lon_max, lat_max) in TL, TR, BR, BL order."""
    lon0, lat0, lon1, lat1 = bounds
    return ((lon0, lat1), (lon1, lat1), (lon1, lat0), (lon0, lat0))


@dataclass(frozen=True)
class TileRecord:
    """One database image: a place (`location_key`, shared by all years of it) seen in one `year`."""

    tile_id: str
    path: Path
    footprint: Footprint
    location_key: str
    year: int


@dataclass(frozen=True)
class PhotoRecord:
    """One astronaut photo; `footprint` is its ground truth (or auto-label), None when unknown.

    `nadir` (lon, lat) is where the ISS was: evaluation groups queries by their distance from it, as
    EarthLoc's test sets do (near-nadir photos are easier than oblique ones far from it).
    """

    photo_id: str
    path: Path
    footprint: Footprint | None
    nadir: tuple[float, float] | None = None
