"""The `label` job: weakly labeled photos (a center point +- its uncertainty) become footprints, or a reason.

For each photo the database images around the weak center are read from PostGIS (every zoom and year
whose bounds meet the search square) and handed to ``ml.labeling`` as ``TileRecord``s with their features
(stored by the embed job where it ran, extracted from the files otherwise: labeling runs before any model
exists), and ``label_photo`` verifies the photo around its weak label (``ml.verification``). An accepted
result becomes the photo's current ``Footprint(source=auto_label)`` and the photo is ``localized``; otherwise
the photo is ``needs_review`` with the reason (too few inliers, implausible shape, no imagery, ...).

Parameters: ``{"photo_ids": [pk, ...]}`` or ``{"batch_id": N}`` or neither (every photo with a center point
and no current footprint); optional ``uncertainty_km`` (overrides the photos' own) and ``config`` (fields
of ``ml.verification.VerifyConfig``, e.g. ``{"max_zooms": 3, "matcher_options": {"ratio": 0.9}}``).

Resumable and idempotent: the photos to do are fixed when the job first runs and each finished photo is
recorded in the partial result, so a redelivered job continues with the next one. A photo that already
has a footprint written by this job (a crash between the write and the record) counts as done, and
photos with a current footprint are never selected, so a re-run adds no second footprint.
"""

import logging
import time
from dataclasses import fields
from typing import Any

from celery import shared_task

from apps.core.services import JobInputError
from apps.footprints.constants import FootprintSource
from apps.footprints.models import Footprint
from apps.footprints.services import footprint_publish
from apps.imagery.selectors import tile_list
from apps.photos.metadata import CENTER_UNCERTAINTY_KM
from apps.photos.models import Photo
from apps.photos.selectors import photos_to_label
from apps.photos.services import photo_mark_unresolved
from ml.labeling import PhotoInput, label_photo
from ml.matching.base import BaseMatcher
from ml.matching.geometry import lonlat_bounds_around
from ml.matching.registry import create_matcher
from ml.progress import RateMeter
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
from workers.jobs import JobContext, run_job
from workers.runtime import StoredFeatures, tile_record

__all__ = ["LabelInputError", "label", "label_config", "label_photos"]

logger = logging.getLogger(__name__)


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


def _photo_pks(parameters: dict[str, Any]) -> list[int]:
    photo_ids, batch_id = parameters.get("photo_ids"), parameters.get("batch_id")
    if photo_ids is not None and not isinstance(photo_ids, list):
        raise LabelInputError(f"photo_ids must be a list of photo primary keys, got {photo_ids!r}")
    qs = photos_to_label(photo_ids=[int(p) for p in photo_ids] if photo_ids is not None else None,
                         batch_id=int(batch_id) if batch_id is not None else None)
    return list(qs.values_list("pk", flat=True))


def _search_radius_km(photo: Photo, uncertainty_km: float, size: tuple[int, int]) -> float:
    """Half-side of the square whose tiles are loaded: what ``label_photo`` searches, plus one footprint."""
    ground_w = expected_ground_width_km(photo.focal_length_mm, photo.altitude_km, photo.tilt_deg, size)
    return uncertainty_km + 1.5 * ground_w if ground_w else uncertainty_km * 1.25


def _tile_records(center: tuple[float, float], radius_km: float) -> list[TileRecord]:
    bbox = lonlat_bounds_around(center, radius_km)
    rows = tile_list(bbox=bbox).only("pk", "zoom", "year", "bounds", "image")
    return [tile_record(t) for t in rows]


def _label_one(photo: Photo, matcher: BaseMatcher, features: ComputedFeatures, cfg: VerifyConfig,
               uncertainty_km: float | None) -> Verification:
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
    return label_photo(inp, TileImagery(records, features, matcher), config=cfg, matcher=matcher)


def _record(photo: Photo, result: Verification, job_id: int) -> dict[str, Any]:
    if result.accepted:
        tile = result.matched_tile
        footprint, _ = footprint_publish(
            photo=photo, corners=result.footprint, source=FootprintSource.AUTO_LABEL, confidence=result.confidence,
            inliers=result.inliers,
            matched_tile_id=int(tile.tile_id) if tile is not None and tile.tile_id else None,
            matched_rotation=result.rotation, job_id=job_id,
            note=f"zoom {result.zoom}, year {result.year}, {result.inliers} inliers",
        )
        return {"accepted": True, "footprint_id": footprint.pk, "inliers": result.inliers,
                "confidence": round(result.confidence, 4), "seconds": round(result.seconds, 3)}
    photo_mark_unresolved(photo=photo, reason=f"automated labeling: {result.reason}")
    return {"accepted": False, "reason": result.reason, "inliers": result.inliers,
            "seconds": round(result.seconds, 3)}


def label_photos(ctx: JobContext) -> dict[str, Any]:
    """Job body: label every selected photo not yet done; returns counts, outcomes and time per photo."""
    cfg = label_config(ctx.parameters.get("config"))
    uncertainty_km = ctx.parameters.get("uncertainty_km")
    uncertainty_km = float(uncertainty_km) if uncertainty_km is not None else None
    if "photo_pks" not in ctx.partial:
        ctx.partial.update(photo_pks=_photo_pks(ctx.parameters), outcomes={}, seconds=0.0)
        ctx.save_partial(0.0, f"{len(ctx.partial['photo_pks'])} photos to label")
    pks: list[int] = ctx.partial["photo_pks"]
    outcomes: dict[str, dict[str, Any]] = ctx.partial["outcomes"]
    matcher = create_matcher(cfg.matcher, **dict(cfg.matcher_options))
    meter = RateMeter(start_count=len(outcomes))
    stored = StoredFeatures(feature_key(cfg.matcher, dict(cfg.matcher_options)))
    features = ComputedFeatures(matcher, stored=stored.available)
    for pk in pks:
        if str(pk) in outcomes:
            continue
        started = time.monotonic()
        photo = Photo.objects.filter(pk=pk).first()
        mine = Footprint.objects.filter(photo_id=pk, job_id=ctx.job_id, is_current=True).first()
        if photo is None:
            outcome = {"accepted": False, "skipped": True, "reason": "photo deleted before labeling"}
        elif mine is not None:
            outcome = {"accepted": True, "footprint_id": mine.pk, "inliers": mine.inliers, "resumed": True}
        elif photo.footprints.current().own().exists():
            outcome = {"accepted": False, "skipped": True, "reason": "the photo got a footprint meanwhile"}
        else:
            outcome = _record(photo, _label_one(photo, matcher, features, cfg, uncertainty_km), ctx.job_id)
        seconds = time.monotonic() - started
        outcomes[str(pk)] = outcome
        ctx.partial["seconds"] = ctx.partial.get("seconds", 0.0) + seconds
        logger.info("label job %s: photo %s %s in %.2fs", ctx.job_id, pk,
                    "accepted" if outcome["accepted"] else f"rejected ({outcome.get('reason')})", seconds)
        ctx.save_partial(min(len(outcomes) / max(len(pks), 1), 0.99), meter.line(len(outcomes), len(pks), "photos"))
    accepted = sum(1 for o in outcomes.values() if o["accepted"])
    skipped = sum(1 for o in outcomes.values() if o.get("skipped"))
    n = len(outcomes)
    return {
        "photo_pks": pks,
        "outcomes": outcomes,
        "labeled": n,
        "accepted": accepted,
        "needs_review": n - accepted - skipped,
        "skipped": skipped,
        "seconds": round(ctx.partial.get("seconds", 0.0), 3),
        "seconds_per_photo": round(ctx.partial.get("seconds", 0.0) / n, 3) if n else None,
    }


@shared_task(name="jobs.label")
def label(job_id: int) -> dict[str, Any]:
    return run_job(job_id, label_photos)
