"""The `localize` job: photos without a footprint get one from retrieval + verification, or go to review.

Parameters: ``{"photo_ids": [...]}`` (Photo primary keys, or NASA photo ids as strings), ``{"batch_id": N}``,
or nothing (every photo without a current footprint); optional ``"bbox": [lon_min, lat_min, lon_max,
lat_max]`` (a user region replacing the metadata prior; lon_min > lon_max crosses the antimeridian) and
``"use_prior": false`` (global FAISS search).

The ACTIVE model version at the job's start is recorded in the partial result and used for the whole job,
every chunk and a resumed attempt included, so one photo never mixes versions. The photos are cut into
chunks of ``ASTROLOC_LOCALIZE_CHUNK_PHOTOS`` that any worker on the queue may run (``workers.chunks``).
Each worker process keeps one ``RetrievalRuntime`` (model, FAISS index, descriptors), loaded lazily on
first use (after the fork) and reloaded when the job's version or its index files change.
"""

from __future__ import annotations

import logging
import time
from functools import partial
from typing import Any

import numpy as np
from celery import shared_task
from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Q

from apps.core.constants import JobKind
from apps.core.geo import bbox_geometry
from apps.core.models import JobChunk
from apps.footprints.services import retrieval_footprint_record
from apps.models_registry.models import ModelVersion
from apps.models_registry.selectors import model_version_active
from apps.photos.constants import PhotoStatus
from apps.photos.models import Photo
from apps.photos.selectors import photos_awaiting_footprint
from apps.photos.services import photo_mark_in_progress, photo_mark_unresolved, photo_status_restore
from ml.index import TileIndex
from ml.matching.registry import create_matcher
from ml.progress import RateMeter
from workers.chunks import ChunkContext, register_chunked, run_chunked
from workers.embed import index_files, load_version_model, storage_local_path
from workers.jobs import JobContext, job_seconds, run_job
from workers.retrieval import (
    RetrievalRuntime,
    candidates_as_dicts,
    photo_image_path,
    photo_prior,
    read_rgb,
    retrieve,
    verified_as_dict,
    verify,
)

__all__ = ["localize_chunk", "localize_finish", "localize_job", "localize_one", "localize_photos", "runtime_for"]

logger = logging.getLogger(__name__)

_RUNTIME: RetrievalRuntime | None = None


def _index_stamp(model_version_id: int) -> float:
    name = index_files(model_version_id)["descriptors"]
    if not default_storage.exists(name):
        return -1.0
    return default_storage.get_modified_time(name).timestamp()


def runtime_for(model_version: ModelVersion) -> RetrievalRuntime:
    """This process's runtime for ``model_version``: loaded on first use, reloaded on a version/index change."""
    global _RUNTIME
    stamp = _index_stamp(model_version.pk)
    if stamp < 0:
        raise ValueError(f"model version {model_version.pk} ({model_version.name}) has no tile index: run "
                         f"`manage.py embed_tiles --model-version {model_version.pk}` first")
    if _RUNTIME is not None and _RUNTIME.model_version_id == model_version.pk and _RUNTIME.stamp == stamp:
        return _RUNTIME
    names = index_files(model_version.pk)
    descriptors = np.load(storage_local_path(names["descriptors"]), mmap_mode="r")
    tile_ids = np.load(storage_local_path(names["tile_ids"]))
    index = TileIndex.load(storage_local_path(names["faiss"])) if default_storage.exists(names["faiss"]) else None
    _RUNTIME = RetrievalRuntime(
        model_version_id=model_version.pk,
        model=load_version_model(model_version),
        index=index,
        descriptors=descriptors,
        tile_row={int(t): i for i, t in enumerate(tile_ids)},
        matcher=create_matcher(settings.ASTROLOC_LOCALIZE_MATCHER),
        stamp=stamp,
    )
    logger.info("localize runtime loaded: model version %s, %d tiles", model_version.pk, len(tile_ids))
    return _RUNTIME


def localize_one(
    photo: Photo,
    model_version: ModelVersion,
    runtime: RetrievalRuntime,
    *,
    job_id: int | None = None,
    region=None,
    use_prior: bool = True,
) -> dict[str, Any]:
    """Localize one photo and publish the outcome (footprint or review reason); returns a small summary.

    The photo is ``localizing`` meanwhile; every outcome sets a final status, and an error puts the previous
    status back before it propagates (the job marks the photo ``failed`` or retries it).
    """
    previous = photo_mark_in_progress(photo=photo, status=PhotoStatus.LOCALIZING)
    try:
        return _localize_one(photo, model_version, runtime, job_id=job_id, region=region, use_prior=use_prior)
    except BaseException:
        photo_status_restore(photo=photo, status=previous)
        raise


def _localize_one(
    photo: Photo,
    model_version: ModelVersion,
    runtime: RetrievalRuntime,
    *,
    job_id: int | None,
    region,
    use_prior: bool,
) -> dict[str, Any]:
    started = time.perf_counter()
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
    image = read_rgb(photo_image_path(photo))
    verified = []
    rejections = []
    for rank, candidate in enumerate(retrieval.candidates[: settings.ASTROLOC_LOCALIZE_VERIFY_TOP]):
        result = verify(photo, image, candidate, runtime)
        if result.accepted:
            verified.append((candidate, result))
            out.setdefault("verified", []).append(verified_as_dict(rank, candidate, result))
        else:
            rejections.append(f"tile {candidate.tile_id}: {result.reason}")
    if not verified:
        reason = "no candidate verified geometrically: " + "; ".join(rejections)
        photo_mark_unresolved(photo=photo, reason=reason)
        return out | {"status": PhotoStatus.NEEDS_REVIEW, "reason": reason,
                      "candidates": candidates_as_dicts(retrieval.candidates, keep),
                      "seconds": round(time.perf_counter() - started, 3)}
    candidate, result = max(verified, key=lambda cr: cr[1].inliers)
    matched_tile_id = int(result.matched_tile.tile_id) if result.matched_tile else candidate.tile_id
    footprint, created = retrieval_footprint_record(
        photo=photo, corners=result.footprint, confidence=result.confidence, inliers=result.inliers,
        matched_tile_id=matched_tile_id, matched_rotation=candidate.rotation,
        model_version_id=model_version.pk, job_id=job_id, same_iou=settings.ASTROLOC_LOCALIZE_SAME_IOU,
    )
    return out | {"status": PhotoStatus.LOCALIZED, "footprint_id": footprint.pk, "created": created,
                  "inliers": result.inliers, "matched_tile_id": matched_tile_id,
                  "candidates": candidates_as_dicts(retrieval.candidates, keep),
                  "seconds": round(time.perf_counter() - started, 3)}


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
        ctx.partial["model_version_id"] = active.pk
        ctx.save_partial(0.0, f"model version {active.pk} pinned for this job")
    return run_chunked(ctx, kind=JobKind.LOCALIZE, items=_select_photos(ctx.parameters),
                       size=settings.ASTROLOC_LOCALIZE_CHUNK_PHOTOS)


def _localize_recorded(photo: Photo, model_version: ModelVersion, runtime: RetrievalRuntime,
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
                                              job_id=ctx.job_id, region=region, use_prior=use_prior),
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
