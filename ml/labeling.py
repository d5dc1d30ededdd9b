"""Automated labeling: a weakly labeled photo (centre point +- uncertainty) becomes a footprint, or a reason.

Why: ~300k NASA photos carry only a hand-clicked centre (about +-1 deg). AstroLoc turns them into training
pairs by verifying each photo against the satellite database around that point: the weak label becomes
:class:`~ml.verification.SearchBounds` and :func:`ml.verification.verify_photo` does the rest (several zooms
and years, windows nearest the centre first, 4 rotations, rectified views of oblique photos, refinement, the
calibrated checks). This module is the pure part of the ``label`` job: it takes arrays and tile records,
never Django rows, so the worker feeds it from the database and the evaluation (``python -m
ml.labeling_eval``) from the synthetic Earth.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ml.geo import LonLat
from ml.matching.base import BaseMatcher
from ml.matching.registry import create_matcher
from ml.verification import (
    PhotoQuery,
    SearchBounds,
    TileImagery,
    TileRecord,
    Verification,
    VerifyConfig,
    verify_photo,
)

__all__ = ["WEAK_LABEL_UNCERTAINTY_KM", "PhotoInput", "label_photo", "synth_tile_records"]

#: Search radius around a hand-clicked centre when the photo states none (+-1 deg at 2.5 sigma ~ 280 km).
WEAK_LABEL_UNCERTAINTY_KM = 300.0


@dataclass(frozen=True)
class PhotoInput:
    """A weakly labeled photo: RGB uint8 pixels, the hand-clicked centre and the metadata the matching uses."""

    image: np.ndarray
    weak_center: LonLat  # (lon, lat) of the hand-clicked centre
    uncertainty_km: float = WEAK_LABEL_UNCERTAINTY_KM
    focal_length_mm: float | None = None
    altitude_km: float | None = 410.0
    tilt_deg: float | None = None
    photo_id: str = ""

    def query(self) -> PhotoQuery:
        return PhotoQuery(self.image, self.focal_length_mm, self.altitude_km, self.tilt_deg, self.photo_id)

    def bounds(self) -> SearchBounds:
        return SearchBounds.around_weak_label(self.weak_center, self.uncertainty_km)


def label_photo(
    photo: PhotoInput,
    imagery: TileImagery,
    *,
    config: VerifyConfig | None = None,
    matcher: BaseMatcher | None = None,
) -> Verification:
    """Verify one weakly labeled photo around its weak label; an accepted footprint or the reason."""
    cfg = config or VerifyConfig()
    matcher = matcher or create_matcher(cfg.matcher, **dict(cfg.matcher_options))
    return verify_photo(photo.query(), photo.bounds(), imagery, matcher=matcher, config=cfg)


def synth_tile_records(dataset) -> list[TileRecord]:
    """Tile records of a :class:`ml.synth.loader.SynthDataset`'s database images."""
    return [TileRecord(t.path, t.bounds, t.zoom, t.year, f"{t.year}/{t.zoom}/{t.x}_{t.y}") for t in dataset.tiles]
