"""The `train` job: train a descriptor model on the database's labeled pairs and register a ModelVersion.

Training data comes from the database, never from files on the side: photos whose current footprint
overlaps a database image with IoU > ``min_iou`` (``apps.footprints.selectors.footprint_tile_pairs``, the
paper's rule) are the pair-loss photos, and every database image (all years; a place seen in two years is
a MUM location) is the tile set. A share of the labeled photos (``val_fraction``, drawn with ``seed``) is held
out as validation queries against the whole tile database.

``ml.train.fit`` runs with a progress callback that writes the Job row; its run directory lives under
``ASTROLOC_TRAIN_DIR`` (default: the system temp dir) per job, so a redelivered job resumes from its
``last.pt``; it is removed once the version is registered. The best checkpoint goes into Django storage
as a new ``ModelVersion`` (architecture and data config from the checkpoint, metrics with validation
recall of the trained and of the untrained model), linked to the job. It is not activated unless
``activate`` is true.

Parameters: ``model_preset`` (default ``resnet18_gem``), ``image_size``, ``name``, ``activate``,
``val_fraction`` (default 0.25), ``zooms`` (database images used, default all), ``retrieval_min_confidence``
(retrieval footprints below it do not train; default ``RETRIEVAL_TRAINING_MIN_CONFIDENCE``) and any
``ml.train.TrainConfig`` field (``iterations``, ``pairs_per_batch``, ``mum_locations_per_batch``,
``num_clusters``, ``seed``, ``lr``, ``device``, ``time_budget_s``, ...).
"""

import logging
import random
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from celery import shared_task
from django.conf import settings

from apps.core.geo import polygon_corners
from apps.core.models import Job
from apps.core.services import JobInputError
from apps.footprints.constants import RETRIEVAL_TRAINING_MIN_CONFIDENCE
from apps.footprints.models import Footprint
from apps.footprints.selectors import footprint_tile_pairs
from apps.imagery.selectors import tile_list
from apps.models_registry.services import model_version_register
from ml.data.records import PhotoRecord, TileRecord, bounds_footprint
from ml.embed import resolve_device
from ml.evaluate import evaluate
from ml.models.checkpoint import load_checkpoint
from ml.train import Progress, TrainConfig, TrainData, build_model, fit, progress_line, seed_everything
from workers.jobs import JobContext, run_job

__all__ = ["TrainInputError", "labeled_photo_records", "tile_records", "train", "train_config", "train_model"]

logger = logging.getLogger(__name__)

JOB_KEYS = {"name", "activate", "val_fraction", "image_size", "zooms", "retrieval_min_confidence"}
DEFAULT_PRESET = "resnet18_gem"


class TrainInputError(JobInputError):
    """The database cannot train a model as asked; the message says what is missing and what to do."""


def tile_records(*, zooms: Sequence[int] | None = None) -> list[TileRecord]:
    """Stored database images of ingested mosaics (of ``zooms``, default all); one location per grid cell."""
    rows = tile_list().only("pk", "zoom", "x", "y", "span", "year", "bounds", "image").order_by("pk")
    if zooms:
        rows = rows.filter(zoom__in=[int(z) for z in zooms])
    return [TileRecord(tile_id=str(t.pk), path=Path(t.image.path), footprint=bounds_footprint(t.bounds.extent),
                       location_key=f"z{t.zoom}/{t.x}/{t.y}/s{t.span}", year=t.year) for t in rows]


def labeled_photo_records(*, min_iou: float = 0.2,
                          retrieval_min_confidence: float = RETRIEVAL_TRAINING_MIN_CONFIDENCE) -> list[PhotoRecord]:
    """Photos with at least one training positive (current footprint IoU > ``min_iou`` with a tile).

    Which footprints may teach is the selector's rule (``footprint_tile_pairs``): every imported, manual and
    auto-label one, retrieval ones only from ``retrieval_min_confidence`` up.
    """
    pairs = footprint_tile_pairs(min_iou=min_iou, retrieval_min_confidence=retrieval_min_confidence)
    photo_pks = sorted({pair.photo_id for pair in pairs})
    footprints = (Footprint.objects.current().filter(photo_id__in=photo_pks).select_related("photo")
                  .order_by("photo_id"))
    return [PhotoRecord(photo_id=f.photo.photo_id, path=Path(f.photo.image.path),
                        footprint=tuple(polygon_corners(f.polygon))) for f in footprints]


def train_config(parameters: dict[str, Any], run_dir: Path) -> TrainConfig:
    """``TrainConfig`` from the job's parameters (unknown keys are refused by ``TrainConfig.from_dict``)."""
    values = {k: v for k, v in parameters.items() if k not in JOB_KEYS}
    values.setdefault("model_preset", DEFAULT_PRESET)
    if parameters.get("image_size"):
        values["model_overrides"] = {**values.get("model_overrides", {}), "image_size": int(parameters["image_size"])}
    values["out_dir"] = str(run_dir)
    try:
        return TrainConfig.from_dict(values)
    except (TypeError, ValueError) as exc:
        raise TrainInputError(f"train job parameters: {exc}") from exc


def _split(photos: list[PhotoRecord], fraction: float, seed: int) -> tuple[list[PhotoRecord], list[PhotoRecord]]:
    if fraction <= 0 or len(photos) < 2:
        return photos, []
    shuffled = photos[:]
    random.Random(seed).shuffle(shuffled)
    n_val = min(max(1, round(fraction * len(photos))), len(photos) - 1)
    return sorted(shuffled[n_val:], key=lambda p: p.photo_id), sorted(shuffled[:n_val], key=lambda p: p.photo_id)


def _run_dir(job_id: int) -> Path:
    """Per job row (its UUID, not only its id: ids repeat across databases, and a stale ``last.pt`` would resume)."""
    root = settings.ASTROLOC_TRAIN_DIR or Path(tempfile.gettempdir()) / "astroloc-train"
    uuid = Job.objects.filter(pk=job_id).values_list("uuid", flat=True).get()
    return Path(root) / f"job-{job_id}-{uuid}"


def _untrained_metrics(config: TrainConfig, data: TrainData) -> dict[str, float]:
    """Validation recall of the model ``fit`` starts from (same seed, same initial weights)."""
    if not data.val_photos:
        return {}
    seed_everything(config.seed)
    model = build_model(config).to(resolve_device(config.device)).eval()
    result = evaluate(model, list(data.val_photos)[: config.val_max_queries], data.val_tiles,
                      batch_size=config.embed_batch_size, device=config.device if config.device != "auto" else None)
    return {f"untrained_val_R@{n}": v for n, v in result.recalls.items()}


def train_model(ctx: JobContext) -> dict[str, Any]:
    """Job body: data from the database -> ``fit`` -> checkpoint in storage -> ModelVersion."""
    config = train_config(ctx.parameters, _run_dir(ctx.job_id))
    tiles = tile_records(zooms=ctx.parameters.get("zooms"))
    photos = labeled_photo_records(min_iou=config.min_iou, retrieval_min_confidence=float(
        ctx.parameters.get("retrieval_min_confidence", RETRIEVAL_TRAINING_MIN_CONFIDENCE)))
    if not tiles:
        raise TrainInputError("no database images: ingest a satellite mosaic first (manage.py ingest_mosaic)")
    if config.uses_pairs and not photos:
        raise TrainInputError(f"no labeled photos with a tile at IoU > {config.min_iou}: label photos first "
                              "(manage.py label_photos) or train with pair_loss_weight 0 (MUM only)")
    train_photos, val_photos = _split(photos, float(ctx.parameters.get("val_fraction", 0.25)), config.seed)
    data = TrainData(tiles=tiles, photos=train_photos, val_photos=val_photos, val_tiles=tiles)
    if "untrained" not in ctx.partial:
        ctx.progress(0.0, "validating the untrained model", force=True)
        ctx.partial["untrained"] = _untrained_metrics(config, data)
        ctx.save_partial(0.01, f"{len(train_photos)} training photos, {len(tiles)} tiles")

    def report(p: Progress) -> None:
        message = progress_line(p, config.time_budget_s) if p.phase == "train" else f"{p.phase} {p.metrics or ''}"
        done = p.iteration / max(p.total, 1)
        if config.time_budget_s:
            done = max(done, min(p.seconds / config.time_budget_s, 1.0))
        ctx.progress(0.01 + 0.97 * done, message, force=p.phase != "train")

    result = fit(config, data, progress=report, resume=True)
    checkpoint_path = result.best_checkpoint or result.last_checkpoint
    checkpoint = load_checkpoint(checkpoint_path)
    preprocessing = checkpoint.build_model().preprocessing
    data_config = {**checkpoint.data_config, "input_size": preprocessing.size, "mean": list(preprocessing.mean),
                   "std": list(preprocessing.std)}
    metrics = {**result.best_metrics, **ctx.partial["untrained"], "iterations": result.iterations,
               "planned_iterations": config.iterations, "time_budget_s": config.time_budget_s,
               "train_photos": len(train_photos), "val_photos": len(val_photos), "tiles": len(tiles),
               "train_seconds": round(result.wall_s, 1), "step_seconds": round(result.train_seconds, 1)}
    name = str(ctx.parameters.get("name") or f"{config.model_preset}-job{ctx.job_id}")
    version = model_version_register(
        name=name, checkpoint_path=checkpoint_path, architecture=checkpoint.model_config.to_dict(),
        data_config=data_config, embedding_dim=checkpoint.model_config.desc_dim, metrics=metrics,
        training_job_id=ctx.job_id, activate=bool(ctx.parameters.get("activate", False)),
    )
    shutil.rmtree(config.out_dir, ignore_errors=True)  # the checkpoint now lives in storage
    logger.info("train job %s: model version %s (%s) %s", ctx.job_id, version.pk, name, metrics)
    return {"model_version_id": version.pk, "name": version.name, "metrics": metrics,
            "is_active": version.is_active, "untrained": ctx.partial["untrained"]}


@shared_task(name="jobs.train")
def train(job_id: int) -> dict[str, Any]:
    return run_job(job_id, train_model)
