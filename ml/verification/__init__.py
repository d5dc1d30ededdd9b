"""Geometric verification of a photo against precomputed database-image features (pure, no Django).

- :class:`PhotoQuery` + :class:`SearchBounds` (``around_weak_label`` / ``around_tile``) + :class:`TileImagery`
  (database images with a :class:`FeatureSource`) -> :func:`verify_photo` -> :class:`Verification`.
- :func:`verify_candidates`: the localization cascade over ranked retrieval candidates (:class:`CascadeConfig`).
- :func:`extract_tile_features`, :func:`encode_features` / :func:`decode_features`, :func:`feature_key`: the
  stored features of database images, versioned by matcher and options.
"""

from ml.verification.cascade import CandidateOutcome, CascadeConfig, CascadeResult, verify_candidates
from ml.verification.features import (
    ComputedFeatures,
    FeatureSource,
    MissingFeaturesError,
    QueryFeatures,
    TileFeatures,
    TileRecord,
    decode_features,
    encode_features,
    extract_tile_features,
    feature_key,
    read_rgb,
)
from ml.verification.imagery import GeoFeatures, TileImagery
from ml.verification.search import PhotoQuery, SearchBounds, expected_ground_width_km
from ml.verification.verify import Verification, VerifyConfig, default_check_config, verify_photo

__all__ = [
    "CandidateOutcome",
    "CascadeConfig",
    "CascadeResult",
    "ComputedFeatures",
    "FeatureSource",
    "GeoFeatures",
    "MissingFeaturesError",
    "PhotoQuery",
    "QueryFeatures",
    "SearchBounds",
    "TileFeatures",
    "TileImagery",
    "TileRecord",
    "Verification",
    "VerifyConfig",
    "decode_features",
    "default_check_config",
    "encode_features",
    "expected_ground_width_km",
    "extract_tile_features",
    "feature_key",
    "read_rgb",
    "verify_candidates",
    "verify_photo",
]
