"""The `label` job: weakly labeled photos (a center point +- its uncertainty) become footprints, or a reason.

Parameters: ``{"photo_ids": [pk, ...]}`` or ``{"batch_id": N}`` or neither (every photo with a center point
and no current footprint); optional ``uncertainty_km`` (overrides the photos' own) and ``config`` (fields
of ``ml.verification.VerifyConfig``, e.g. ``{"max_zooms": 3, "matcher_options": {"ratio": 0.9}}``).

The photos are cut into chunks of ``ASTROLOC_LABEL_CHUNK_PHOTOS`` that any worker on the queue may run
(``workers.chunks``, as localize). Per photo: ``workers.weak_label`` verifies it around its weak label; an
accepted result becomes its current ``Footprint(source=auto_label)`` (``footprint_publish``: ``localized``),
otherwise the photo is ``needs_review`` with the reason. A photo's rows and its outcome in the chunk commit
in one transaction, so a re-sent job resumes after the recorded photos and never labels one twice; photos
with a current footprint are never selected (or are skipped), so a re-run adds no second footprint.
"""

from __future__ import annotations

import logging
import time
from functools import partial
from typing import Any

from celery import shared_task
from django.conf import settings

from apps.core.constants import JobKind
from apps.core.models import JobChunk
from apps.footprints.constants import FootprintSource
from apps.footprints.services import footprint_publish
from apps.photos.models import Photo
from apps.photos.selectors import photos_to_label
from apps.photos.services import photo_mark_unresolved
from ml.progress import RateMeter
from ml.verification import Verification
from workers.chunks import ChunkContext, register_chunked, run_chunked
from workers.jobs import JobContext, run_job
from workers.weak_label import LabelInputError, LabelMatching, label_config, label_one

__all__ = ["LabelInputError", "label", "label_chunk", "label_finish", "label_photos"]

logger = logging.getLogger(__name__)


def _select_photos(parameters: dict[str, Any]) -> list[int]:
    photo_ids, batch_id = parameters.get("photo_ids"), parameters.get("batch_id")
    if photo_ids is not None and not isinstance(photo_ids, list):
        raise LabelInputError(f"photo_ids must be a list of photo primary keys, got {photo_ids!r}")
    qs = photos_to_label(photo_ids=[int(p) for p in photo_ids] if photo_ids is not None else None,
                         batch_id=int(batch_id) if batch_id is not None else None)
    return list(qs.values_list("pk", flat=True))


def _publish(photo: Photo | None, result: Verification | None, job_id: int) -> dict[str, Any]:
    """The photo's rows for its verification (none when it was deleted or got a footprint meanwhile)."""
    if photo is None:
        return {"accepted": False, "skipped": True, "reason": "photo deleted before labeling"}
    if result is None:
        return {"accepted": False, "skipped": True, "reason": "the photo got a footprint meanwhile"}
    if not result.accepted:
        photo_mark_unresolved(photo=photo, reason=f"automated labeling: {result.reason}")
        return {"accepted": False, "reason": result.reason, "inliers": result.inliers}
    tile = result.matched_tile
    footprint, _ = footprint_publish(
        photo=photo, corners=result.footprint, source=FootprintSource.AUTO_LABEL, confidence=result.confidence,
        inliers=result.inliers, matched_tile_id=int(tile.tile_id) if tile is not None and tile.tile_id else None,
        matched_rotation=result.rotation, job_id=job_id,
        note=f"zoom {result.zoom}, year {result.year}, {result.inliers} inliers",
    )
    return {"accepted": True, "footprint_id": footprint.pk, "inliers": result.inliers,
            "confidence": round(result.confidence, 4)}


def _record(outcomes: dict[str, Any], pk: int, photo: Photo | None, result: Verification | None, job_id: int,
            started: float) -> None:
    outcome = _publish(photo, result, job_id) | {"seconds": round(time.monotonic() - started, 3)}
    outcomes[str(pk)] = outcome
    logger.info("label job %s: photo %s %s in %.2fs", job_id, pk,
                "accepted" if outcome["accepted"] else f"rejected ({outcome['reason']})", outcome["seconds"])


def label_photos(ctx: JobContext) -> dict[str, Any]:
    """Job body: check the parameters, then label the selected photos in chunks spread over the workers."""
    label_config(ctx.parameters.get("config"))  # unusable overrides fail the job before any chunk
    return run_chunked(ctx, kind=JobKind.LABEL, items=_select_photos(ctx.parameters),
                       size=settings.ASTROLOC_LABEL_CHUNK_PHOTOS)


def label_chunk(ctx: ChunkContext) -> dict[str, Any]:
    """Chunk body: label each photo of the chunk not yet recorded; its rows and outcome commit together."""
    matching = LabelMatching.for_config(label_config(ctx.parameters.get("config")))
    uncertainty_km = ctx.parameters.get("uncertainty_km")
    uncertainty_km = float(uncertainty_km) if uncertainty_km is not None else None
    outcomes: dict[str, Any] = ctx.result.setdefault("outcomes", {})
    meter = RateMeter(start_count=len(outcomes))
    for pk in ctx.items:
        if str(pk) in outcomes:
            continue
        started = time.monotonic()
        photo = Photo.objects.filter(pk=pk).first()
        unlabeled = photo is not None and not photo.footprints.current().own().exists()
        result = label_one(photo, matching, uncertainty_km) if unlabeled else None
        ctx.commit(len(outcomes) + 1, partial(_record, outcomes, pk, photo, result, ctx.job_id, started),
                   f"chunk {ctx.chunk.index}: {meter.line(len(outcomes) + 1, ctx.chunk.size, 'photos')}")
    return ctx.result


def label_finish(ctx: JobContext, chunks: list[JobChunk]) -> dict[str, Any]:
    """Finishing step: every chunk's outcomes merged and counted; seconds are the photos' own."""
    outcomes: dict[str, Any] = {}
    for chunk in chunks:
        outcomes.update(chunk.result.get("outcomes", {}))
    n = len(outcomes)
    accepted = sum(1 for o in outcomes.values() if o["accepted"])
    skipped = sum(1 for o in outcomes.values() if o.get("skipped"))
    seconds = sum(o.get("seconds", 0.0) for o in outcomes.values())
    return {"photo_pks": [pk for chunk in chunks for pk in chunk.items], "outcomes": outcomes, "labeled": n,
            "accepted": accepted, "needs_review": n - accepted - skipped, "skipped": skipped,
            "seconds": round(seconds, 3), "seconds_per_photo": round(seconds / n, 3) if n else None,
            "chunks": len(chunks)}


register_chunked(JobKind.LABEL, chunk_body=label_chunk, finish=label_finish)


@shared_task(name="jobs.label")
def label(job_id: int) -> dict[str, Any]:
    return run_job(job_id, label_photos)
