"""What is verified, and where: the photo (pixels + camera metadata) and the search bounds around a place.

A weak label (a hand-clicked centre +- its uncertainty) and a retrieval candidate (a database image the
embedding ranked high) both say "the photo is around here": both become :class:`SearchBounds`, each through
its own constructor, so neither has to pretend to be the other.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ml.geo import KM_PER_DEGREE, Bounds, LonLat
from ml.matching.geometry import expected_ground_size_km
from ml.matching.oblique import oblique_ground_size_km

__all__ = ["PhotoQuery", "SearchBounds", "expected_ground_width_km"]


@dataclass(frozen=True)
class PhotoQuery:
    """A photo to verify: RGB uint8 pixels and the camera metadata the checks use (any may be None)."""

    image: np.ndarray
    focal_length_mm: float | None = None
    altitude_km: float | None = 410.0
    tilt_deg: float | None = None
    photo_id: str = ""

    @property
    def size(self) -> tuple[int, int]:
        return (int(self.image.shape[1]), int(self.image.shape[0]))

    def ground_width_km(self) -> float | None:
        return expected_ground_width_km(self.focal_length_mm, self.altitude_km, self.tilt_deg, self.size)

    def reach_km(self) -> float | None:
        """Half the expected footprint's diagonal: how far its centre can lie from any point it covers."""
        width = self.ground_width_km()
        return None if width is None else 0.5 * width * math.hypot(1.0, self.size[1] / self.size[0])


@dataclass(frozen=True)
class SearchBounds:
    """Where the footprint's centre must lie: within ``radius_km`` (x the checks' tolerance) of ``center``.

    ``years``: the imagery years to match against (None: every year, newest first). ``source`` says where the
    bounds came from, for reasons and logs.
    """

    center: LonLat
    radius_km: float
    years: tuple[int | None, ...] | None = None
    source: str = "weak label"

    @classmethod
    def around_weak_label(cls, center: LonLat, uncertainty_km: float) -> SearchBounds:
        """A hand-clicked centre: the footprint lies within its uncertainty, in any year of the imagery."""
        if uncertainty_km <= 0:
            raise ValueError(f"the weak label's uncertainty must be positive, got {uncertainty_km} km")
        return cls((float(center[0]), float(center[1])), float(uncertainty_km), None, "weak label")

    @classmethod
    def around_tile(cls, bounds_lonlat: Bounds, year: int | None, tile_id: str = "",
                    footprint_reach_km: float | None = None) -> SearchBounds:
        """A retrieval candidate: the footprint meets the database image, so its centre lies within the image's
        half-diagonal plus the footprint's own half-diagonal (``footprint_reach_km``; at least one more image
        half-diagonal, also when the photo's size is unknown); its year only.

        Why the footprint's reach: a 300 km footprint meeting a 78 km image at its edge has its centre ~200 km
        from the image's; a radius of two image half-diagonals rejected such right footprints (`bench`: 96
        inliers, 234 km away)."""
        lon0, lat0, lon1, lat1 = bounds_lonlat
        center = ((lon0 + lon1) / 2, (lat0 + lat1) / 2)
        half_km = 0.5 * math.hypot((lon1 - lon0) * KM_PER_DEGREE * math.cos(math.radians(center[1])),
                                   (lat1 - lat0) * KM_PER_DEGREE)
        return cls(center, half_km + max(half_km, footprint_reach_km or 0.0), (year,),
                   f"candidate tile {tile_id}".strip())


def expected_ground_width_km(focal_length_mm: float | None, altitude_km: float | None, tilt_deg: float | None,
                             size: tuple[int, int]) -> float | None:
    """Ground width (km) a photo of ``size`` (w, h) should cover: the oblique rule when the tilt is known (a
    60 deg photo covers ~2.5 x the nadir width), else the nadir one; None without focal length or altitude.
    The search margin, the zoom order and the query scale follow from it; the label job loads tiles with it."""
    if not (focal_length_mm and altitude_km):
        return None
    if tilt_deg:
        try:
            return oblique_ground_size_km(focal_length_mm, altitude_km, tilt_deg, size)[0]
        except ValueError:  # a tilt past the horizon: a metadata error, fall back to the nadir size
            pass
    return expected_ground_size_km(focal_length_mm, altitude_km, size)[0]
