"""One photo verified around its weak label (a centre point +- its uncertainty): the label job's matching step.

The database images around the weak centre are read from PostGIS (every zoom and year whose bounds meet the
search square) and handed to ``ml.labeling`` as ``TileRecord``s with their features (stored by the embed job
where it ran, extracted from the files otherwise: labeling runs before any model exists); ``label_photo``
verifies the photo around its weak label (``ml.verification``) and returns a ``Verification``. Publishing
the outcome is the job's (``workers.label``).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from apps.core.services import JobInputError
from apps.imagery.selectors import tile_list
from apps.photos.metadata import CENTER_UNCERTAINTY_KM
from apps.photos.models import Photo
from ml.labeling import PhotoInput, label_photo
from ml.matching.base import BaseMatcher
from ml.matching.geometry import lonlat_bounds_around
from ml.matching.registry import create_matcher
from ml.verification import (
    ComputedFeatures,
    TileImagery,
    TileRecord,
    Verification,
    VerifyConfig,
    expected_ground_width_km,
    feature_key,
    read_rgb,
)
from workers.runtime import StoredFeatures, tile_record

__all__ = ["LabelInputError", "LabelMatching", "label_config", "label_one"]


class LabelInputError(JobInputError):
    """The job's parameters are unusable; the message says which and what is expected."""


def label_config(overrides: dict[str, Any] | None) -> VerifyConfig:
    """``VerifyConfig`` with the job's scalar overrides; unknown keys are refused by name."""
    overrides = dict(overrides or {})
    known = {f.name for f in fields(VerifyConfig)} - {"checks"}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise LabelInputError(f"unknown labeling config keys {unknown}; valid keys: {sorted(known)}")
    if "rotations" in overrides:
        overrides["rotations"] = tuple(int(r) for r in overrides["rotations"])
    if "rectify_directions" in overrides:
        overrides["rectify_directions"] = tuple(float(d) for d in overrides["rectify_directions"])
    if "matcher_options" in overrides:  # JSON object -> hashable (name, value) pairs
        overrides["matcher_options"] = tuple(sorted(dict(overrides["matcher_options"]).items()))
    return VerifyConfig(**overrides)


@dataclass
class LabelMatching:
    """What verifying many photos shares: the config, its matcher, and the database features read or
    extracted so far (a tile near several photos is read once)."""

    config: VerifyConfig
    matcher: BaseMatcher
    features: ComputedFeatures

    @classmethod
    def for_config(cls, config: VerifyConfig) -> LabelMatching:
        matcher = create_matcher(config.matcher, **dict(config.matcher_options))
        stored = StoredFeatures(feature_key(config.matcher, dict(config.matcher_options)))
        return cls(config, matcher, ComputedFeatures(matcher, stored=stored.available))


def _search_radius_km(photo: Photo, uncertainty_km: float, size: tuple[int, int]) -> float:
    """Half-side of the square whose tiles are loaded: what ``label_photo`` searches, plus one footprint."""
    ground_w = expected_ground_width_km(photo.focal_length_mm, photo.altitude_km, photo.tilt_deg, size)
    return uncertainty_km + 1.5 * ground_w if ground_w else uncertainty_km * 1.25


def _tile_records(center: tuple[float, float], radius_km: float) -> list[TileRecord]:
    bbox = lonlat_bounds_around(center, radius_km)
    rows = tile_list(bbox=bbox).only("pk", "zoom", "year", "bounds", "image")
    return [tile_record(t) for t in rows]


def label_one(photo: Photo, matching: LabelMatching, uncertainty_km: float | None) -> Verification:
    """Verify ``photo`` around its centre point (``uncertainty_km`` overrides the photo's own uncertainty)."""
    try:
        image = read_rgb(photo.image.path)
    except ValueError:
        return Verification(False, reason=f"cannot read the photo file {photo.image.name}: missing or not an image")
    center = (photo.center_point.x, photo.center_point.y)
    uncertainty = uncertainty_km or photo.center_uncertainty_km or CENTER_UNCERTAINTY_KM
    records = _tile_records(center, _search_radius_km(photo, uncertainty, (image.shape[1], image.shape[0])))
    if not records:
        return Verification(False, reason=f"no satellite imagery within {uncertainty:.0f} km of the weak label "
                                         f"({center[0]:.3f}, {center[1]:.3f}); ingest a mosaic covering it")
    extra = {k: v for k, v in (("altitude_km", photo.altitude_km),) if v is not None}
    inp = PhotoInput(image, center, uncertainty, photo.focal_length_mm, tilt_deg=photo.tilt_deg,
                     photo_id=photo.photo_id, **extra)
    imagery = TileImagery(records, matching.features, matching.matcher)
    return label_photo(inp, imagery, config=matching.config, matcher=matching.matcher)
