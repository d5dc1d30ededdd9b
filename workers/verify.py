"""Verification of one photo's retrieval candidates: the Django side of ``ml.verification.verify_candidates``.

Reads the candidates' database images and those around them from PostGIS (records only: no pixels), hands
them with the worker's stored features (``workers.runtime.StoredFeatures``) to the cascade, and turns the
outcome into the job result's rows. Nothing here extracts features of a database image.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

from apps.core.services import JobInputError
from apps.imagery.models import SatelliteTile
from apps.photos.models import Photo
from ml.verification import CascadeConfig, CascadeResult, PhotoQuery, SearchBounds, TileImagery, VerifyConfig
from ml.verification import verify_candidates as run_cascade
from workers.retrieval import Candidate, square_around
from workers.runtime import LocalizeRuntime, tile_record

__all__ = ["LocalizeInputError", "cascade_config", "cascade_rows", "verify_candidates"]

#: Verification of a retrieval candidate: the candidate pins the year, so one year per zoom is tried.
LOCALIZE_VERIFY_CONFIG = VerifyConfig(max_years=1)


class LocalizeInputError(JobInputError):
    """The localize job's parameters are unusable; the message says which and what is expected."""


def cascade_config(overrides: dict[str, Any] | None = None) -> CascadeConfig:
    """The cascade from the ``ASTROLOC_LOCALIZE_VERIFY_*`` settings, with the job's ``verify`` overrides
    (``cheap_min_inliers`` 0 or null: no cheap test)."""
    values: dict[str, Any] = {"budget_candidates": settings.ASTROLOC_LOCALIZE_VERIFY_BUDGET_CANDIDATES,
                              "budget_seconds": settings.ASTROLOC_LOCALIZE_VERIFY_BUDGET_SECONDS,
                              "cheap_min_inliers": settings.ASTROLOC_LOCALIZE_VERIFY_CHEAP_MIN_INLIERS}
    overrides = dict(overrides or {})
    unknown = sorted(set(overrides) - set(values))
    if unknown:
        raise LocalizeInputError(f"unknown verify keys {unknown}; valid keys: {sorted(values)}")
    values |= overrides
    try:
        config = CascadeConfig(budget_candidates=int(values["budget_candidates"]),
                               budget_seconds=float(values["budget_seconds"]),
                               cheap_min_inliers=int(values["cheap_min_inliers"] or 0) or None)
    except (TypeError, ValueError) as exc:
        raise LocalizeInputError(f"verify settings must be numbers, got {overrides!r}") from exc
    if config.budget_candidates < 1 or config.budget_seconds <= 0:
        raise LocalizeInputError(f"verify budgets must be positive, got {overrides!r}")
    return config


def _search_margin_km(bounds: SearchBounds, photo: PhotoQuery) -> float:
    """How far around a candidate's bounds verification may look (search margin, windows, zoom-in)."""
    ground_w = photo.ground_width_km() or bounds.radius_km
    return bounds.radius_km + 1.5 * ground_w


def verify_candidates(photo: Photo, query: PhotoQuery, candidates: list[Candidate], runtime: LocalizeRuntime,
                      cascade: CascadeConfig) -> CascadeResult:
    """The cascade over the photo's re-ranked candidates, against the stored features of the database."""
    pool = candidates[: cascade.budget_candidates]
    by_pk = {t.pk: t for t in SatelliteTile.objects.filter(pk__in=[c.tile_id for c in pool])
             .only("pk", "image", "bounds", "zoom", "year")}
    ranks = [i for i, c in enumerate(pool) if c.tile_id in by_pk]  # a tile deleted since the embedding drops out
    ranked = [tile_record(by_pk[pool[i].tile_id]) for i in ranks]
    if not ranked:
        return CascadeResult(None)
    region = None
    for rec in ranked:
        bounds = SearchBounds.around_tile(rec.bounds, rec.year, rec.tile_id, query.reach_km())
        square = square_around(bounds.center, _search_margin_km(bounds, query))
        region = square if region is None else region.union(square)
    years = sorted({rec.year for rec in ranked})
    around = SatelliteTile.objects.filter(year__in=years, bounds__intersects=region).only(
        "pk", "image", "bounds", "zoom", "year")
    imagery = TileImagery([tile_record(t) for t in around], runtime.features, runtime.matcher)
    return run_cascade(query, ranked, imagery, matcher=runtime.matcher, config=LOCALIZE_VERIFY_CONFIG,
                       cascade=cascade, ranks=ranks)


def cascade_rows(result: CascadeResult, candidates: list[Candidate]) -> dict[str, Any]:
    """The job result's view of a cascade: every accepted candidate (``verified``: rank, tile, inliers,
    corners) and every candidate the cascade looked at (``cascade``: cheap inliers, full outcome)."""
    rotation = {c.tile_id: c.rotation for c in candidates}
    verified = [{"rank": rank, "tile_id": int(v.matched_tile.tile_id) if v.matched_tile else None,
                 "rotation": v.rotation, "inliers": v.inliers, "confidence": round(float(v.confidence), 4),
                 "corners": [[round(float(lon), 6), round(float(lat), 6)] for lon, lat in v.footprint]}
                for rank, v in result.accepted]
    trail = []
    for o in result.outcomes:
        row: dict[str, Any] = {"rank": o.rank, "tile_id": int(o.tile.tile_id), "cheap": o.cheap_inliers,
                               "embedding_rotation": rotation.get(int(o.tile.tile_id))}
        if o.verification is not None:
            row |= {"accepted": o.verification.accepted, "inliers": o.verification.inliers,
                    "seconds": round(o.verification.seconds, 3)}
            if not o.verification.accepted:
                row["reason"] = o.verification.reason
        elif o.note:
            row["note"] = o.note
        trail.append(row)
    return {"verified": verified, "cascade": trail, "verify_seconds": result.seconds}


