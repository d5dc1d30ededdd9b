"""The `localize` job: photos without a footprint get one from retrieval + verification, or go to review.

Parameters: ``{"photo_ids": [...]}`` (Photo primary keys, or NASA photo ids as strings), ``{"batch_id": N}``,
or nothing (every photo without a current footprint); optional ``"bbox": [lon_min, lat_min, lon_max,
lat_max]`` (a user region replacing the metadata prior; lon_min > lon_max crosses the antimeridian),
``"use_prior": false`` (global FAISS search) and ``"verify": {...}`` (the cascade's budget for this job:
``budget_candidates``, ``budget_seconds``, ``cheap_min_inliers``; 0 turns the cheap test off).

The ACTIVE model version at the job's start is recorded in the partial result and used for the whole job,
every chunk and a resumed attempt included, so one photo never mixes versions. The photos are cut into
chunks of ``ASTROLOC_LOCALIZE_CHUNK_PHOTOS`` that any worker on the queue may run (``workers.chunks``).
Each worker process keeps one ``LocalizeRuntime`` (``workers.runtime``: model, FAISS index, descriptors,
matcher and stored features), loaded lazily on first use (after the fork) and reloaded when the job's
version or its index files change. Per photo: ``workers.retrieval`` (prior, candidates, re-rank) ->
``workers.verify`` (the cascade of ``ml.verification`` against stored features) -> publish or review.
"""

from __future__ import annotations

import logging
import time
from functools import partial
from typing import Any

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.db.models import Q

from apps.core.constants import JobKind
from apps.core.geo import bbox_geometry
from apps.core.models import JobChunk
from apps.footprints.constants import FootprintSource
from apps.footprints.services import footprint_publish
from apps.models_registry.models import ModelVersion
from apps.models_registry.selectors import model_version_active
from apps.photos.constants import PhotoStatus
from apps.photos.models import Photo
from apps.photos.selectors import photos_awaiting_footprint
from apps.photos.services import photo_mark_in_progress, photo_mark_unresolved, photo_status_restore
from ml.progress import RateMeter
from ml.verification import CascadeConfig, PhotoQuery, read_rgb
from workers.chunks import ChunkContext, register_chunked, run_chunked
from workers.jobs import JobContext, job_seconds, run_job
from workers.retrieval import candidates_as_dicts, photo_image_path, photo_prior, retrieve
from workers.runtime import LocalizeRuntime, runtime_for
from workers.verify import cascade_config, cascade_rows, verify_candidates

__all__ = ["localize_chunk", "localize_finish", "localize_job", "localize_one", "localize_photos"]

logger = logging.getLogger(__name__)

def localize_one(
    photo: Photo,
    model_version: ModelVersion,
    runtime: LocalizeRuntime,
    *,
    job_id: int | None = None,
    region=None,
    use_prior: bool = True,
    cascade: CascadeConfig | None = None,
) -> dict[str, Any]:
    """Localize one photo and publish the outcome (footprint or review reason); returns a small summary.

    The photo is ``localizing`` meanwhile; every outcome sets a final status, and an error puts the previous
    status back before it propagates (the job marks the photo ``failed`` or retries it).
    """
    previous = photo_mark_in_progress(photo=photo, status=PhotoStatus.LOCALIZING)
    try:
        return _localize_one(photo, model_version, runtime, job_id=job_id, region=region, use_prior=use_prior,
                             cascade=cascade or cascade_config())
    except BaseException:
        photo_status_restore(photo=photo, status=previous)
        raise


def _localize_one(
    photo: Photo,
    model_version: ModelVersion,
    runtime: LocalizeRuntime,
    *,
    job_id: int | None,
    region,
    use_prior: bool,
    cascade: CascadeConfig,
) -> dict[str, Any]:
    started = time.perf_counter()
    cpu = time.process_time()
    keep = settings.ASTROLOC_LOCALIZE_KEEP_CANDIDATES
    prior = photo_prior(photo, region=region) if use_prior or region is not None else None
    retrieval = retrieve(photo, model_version, runtime, prior=prior)
    out: dict[str, Any] = {
        "photo_id": photo.photo_id,
        "model_version_id": model_version.pk,
        "stage": retrieval.stage,
        "prior": None if prior is None else prior.as_dict(),
        "stage_seconds": retrieval.seconds,
    }
    if not retrieval.candidates:
        where = "within the spatial prior" if prior is not None else "in the index"
        reason = f"retrieval found no candidate tiles {where} (model version {model_version.pk})"
        photo_mark_unresolved(photo=photo, reason=reason)
        return out | {"status": PhotoStatus.NEEDS_REVIEW, "reason": reason, "candidates": [],
                      "seconds": round(time.perf_counter() - started, 3)}
    altitude = photo.altitude_km or settings.ASTROLOC_LOCALIZE_DEFAULT_ALTITUDE_KM
    query = PhotoQuery(read_rgb(photo_image_path(photo)), photo.focal_length_mm, altitude, photo.tilt_deg,
                       photo.photo_id)
    result = verify_candidates(photo, query, retrieval.candidates, runtime, cascade)
    out |= cascade_rows(result, retrieval.candidates) | {"candidates": candidates_as_dicts(retrieval.candidates, keep)}

    def timed(fields: dict[str, Any]) -> dict[str, Any]:
        return out | fields | {"seconds": round(time.perf_counter() - started, 3),
                               "cpu_seconds": round(time.process_time() - cpu, 3)}

    if result.best is None:
        reason = "no candidate verified geometrically: " + result.reason()
        photo_mark_unresolved(photo=photo, reason=reason)
        return timed({"status": PhotoStatus.NEEDS_REVIEW, "reason": reason})
    rank, verification = result.best
    candidate = retrieval.candidates[rank]
    matched_tile_id = int(verification.matched_tile.tile_id) if verification.matched_tile else candidate.tile_id
    footprint, created = footprint_publish(
        photo=photo, corners=verification.footprint, source=FootprintSource.RETRIEVAL,
        confidence=verification.confidence,
        inliers=verification.inliers, matched_tile_id=matched_tile_id, matched_rotation=candidate.rotation,
        model_version_id=model_version.pk, job_id=job_id, same_iou=settings.ASTROLOC_LOCALIZE_SAME_IOU,
    )
    return timed({"status": PhotoStatus.LOCALIZED, "footprint_id": footprint.pk, "created": created,
                  "inliers": verification.inliers, "matched_tile_id": matched_tile_id, "published_rank": rank})


def _select_photos(parameters: dict[str, Any]) -> list[int]:
    if parameters.get("photo_ids"):
        ids = parameters["photo_ids"]
        pks = [int(i) for i in ids if isinstance(i, int)]
        nasa = [str(i) for i in ids if not isinstance(i, int)]
        return list(Photo.objects.filter(Q(pk__in=pks) | Q(photo_id__in=nasa)).order_by("pk")
                    .values_list("pk", flat=True))
    if parameters.get("batch_id") is not None:
        return list(Photo.objects.filter(batch_id=int(parameters["batch_id"])).order_by("pk")
                    .values_list("pk", flat=True))
    return list(photos_awaiting_footprint().order_by("pk").values_list("pk", flat=True))


def localize_photos(ctx: JobContext) -> dict[str, Any]:
    """Job body: pin the active version, then localize the photos in chunks spread over the workers."""
    if "model_version_id" not in ctx.partial:
        active = model_version_active()
        if active is None:
            raise ValueError("no active model version: embed the tiles (`manage.py embed_tiles`) and activate "
                             "a version before localizing")
        cascade_config(ctx.parameters.get("verify"))  # unusable budgets fail the job before any chunk
        ctx.partial["model_version_id"] = active.pk
        ctx.save_partial(0.0, f"model version {active.pk} pinned for this job")
    return run_chunked(ctx, kind=JobKind.LOCALIZE, items=_select_photos(ctx.parameters),
                       size=settings.ASTROLOC_LOCALIZE_CHUNK_PHOTOS)


def _localize_recorded(photo: Photo, model_version: ModelVersion, runtime: LocalizeRuntime,
                       outcomes: dict[str, Any], **options: Any) -> None:
    """Localize one photo into ``outcomes``; a photo that fails leaves no half-written rows, only its reason."""
    try:
        with transaction.atomic():
            outcomes[str(photo.pk)] = localize_one(photo, model_version, runtime, **options)
    except (ValueError, OSError) as exc:
        reason = f"localization failed: {exc}"
        photo_mark_unresolved(photo=photo, reason=reason, status=PhotoStatus.FAILED)
        outcomes[str(photo.pk)] = {"photo_id": photo.photo_id, "status": PhotoStatus.FAILED, "reason": reason}


def localize_chunk(ctx: ChunkContext) -> dict[str, Any]:
    """Chunk body: localize each photo of the chunk not yet recorded, under the job's pinned version.

    Each photo's rows (footprint or review reason) and its outcome in the chunk commit together, so a
    worker killed at any instant leaves every photo either fully done and recorded or untouched.
    """
    model_version = ModelVersion.objects.get(pk=ctx.pinned["model_version_id"])
    runtime = runtime_for(model_version)
    bbox = ctx.parameters.get("bbox")
    region = bbox_geometry(bbox) if bbox else None  # lon_min > lon_max: across the antimeridian
    use_prior = bool(ctx.parameters.get("use_prior", True))
    cascade = cascade_config(ctx.parameters.get("verify"))
    outcomes: dict[str, Any] = ctx.result.setdefault("photos", {})
    meter = RateMeter(start_count=len(outcomes))
    for pk in ctx.items:
        if str(pk) in outcomes:
            continue
        photo = Photo.objects.filter(pk=pk).first()
        if photo is None:
            outcomes[str(pk)] = {"status": "skipped", "reason": "photo was deleted"}
            continue
        ctx.commit(len(outcomes) + 1, partial(_localize_recorded, photo, model_version, runtime, outcomes,
                                              job_id=ctx.job_id, region=region, use_prior=use_prior,
                                              cascade=cascade),
                   f"chunk {ctx.chunk.index}: {meter.line(len(outcomes) + 1, ctx.chunk.size, 'photos')}")
    return ctx.result


def localize_finish(ctx: JobContext, chunks: list[JobChunk]) -> dict[str, Any]:
    """Finishing step: every chunk's outcomes merged, counted by status."""
    outcomes: dict[str, Any] = {}
    for chunk in chunks:
        outcomes.update(chunk.result.get("photos", {}))
    counts: dict[str, int] = {}
    for outcome in outcomes.values():
        counts[outcome["status"]] = counts.get(outcome["status"], 0) + 1
    return {"model_version_id": ctx.partial["model_version_id"], "photos": outcomes, "counts": counts,
            "chunks": len(chunks), "seconds": job_seconds(ctx.job_id)}


register_chunked(JobKind.LOCALIZE, chunk_body=localize_chunk, finish=localize_finish)


@shared_task(name="jobs.localize")
def localize_job(job_id: int) -> dict[str, Any]:
    return run_job(job_id, localize_photos)
