"""The demo pipeline: the synthetic Earth through the platform, stage by stage, as real jobs.

`python -m workers.demo` (called by platform/scripts/demo.sh). Each stage is a Job row that the running
workers execute, so the web Jobs page shows the same work the terminal shows. Idempotent: the synthetic
data is generated once, and every ingest/import service is a no-op for input it has already seen.
"""

import argparse
import json
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "astroloc_platform.settings")
django.setup()

from django.conf import settings  # noqa: E402

from apps.core.constants import JobKind  # noqa: E402
from apps.core.jobrun import job_wait  # noqa: E402
from apps.core.models import Job  # noqa: E402
from apps.core.services import job_enqueue  # noqa: E402
from apps.footprints.models import Footprint  # noqa: E402
from apps.imagery.models import SatelliteTile  # noqa: E402
from apps.imagery.selectors import tiles_without_features  # noqa: E402
from apps.imagery.services import TilingParameters, mosaic_ingest  # noqa: E402
from apps.models_registry.models import ModelVersion  # noqa: E402
from apps.models_registry.selectors import model_version_active, tiles_without_embeddings  # noqa: E402
from apps.photos.models import Batch, Photo  # noqa: E402
from apps.photos.selectors import photos_to_label  # noqa: E402
from apps.photos.services import batch_create  # noqa: E402
from ml.geo import polygon_iou  # noqa: E402
from ml.synth.config import get_preset  # noqa: E402
from ml.synth.generate import generate  # noqa: E402
from workers.runtime import localize_matcher  # noqa: E402

DEMO_BATCH_NAME = "Synthetic Earth demo photos"
DEMO_MODEL_NAME = "demo-resnet18-gem"
# A small model trained from scratch on the CPU: a few minutes on 2 cores (DESIGN: ViT-B + SALAD is for GPUs).
DEMO_TRAINING = {"model_preset": "resnet18_gem", "image_size": 96, "iterations": 300, "activate": True}


@dataclass
class ProgressBar:
    """One terminal line per stage: redrawn in place on a terminal, a line per 10% step otherwise."""

    label: str
    width: int = 30
    _last_step: int = field(default=-1, repr=False)

    def update(self, fraction: float, message: str = "") -> None:
        fraction = min(max(fraction, 0.0), 1.0)
        filled = round(fraction * self.width)
        line = f"{self.label:<22} [{'#' * filled}{'.' * (self.width - filled)}] {fraction:4.0%} {message[:60]}"
        if sys.stdout.isatty():
            sys.stdout.write("\r" + line.ljust(120))
            sys.stdout.flush()
        elif int(fraction * 10) != self._last_step:
            self._last_step = int(fraction * 10)
            print(line, flush=True)

    def done(self, message: str) -> None:
        self._last_step = -1  # always show the closing line
        self.update(1.0, message)
        if sys.stdout.isatty():
            sys.stdout.write("\n")


def follow(job: Job | None, label: str, skipped: str = "already done") -> Job | None:
    """Show a job's progress until it ends; raise if it failed."""
    bar = ProgressBar(label)
    if job is None:
        bar.done(skipped)
        return None
    job = job_wait(job, on_progress=lambda j: bar.update(j.progress, j.progress_message))
    if job.status != "succeeded":
        bar.done(job.status)
        raise SystemExit(f"{label} job #{job.pk} {job.status}: {job.error.splitlines()[0] if job.error else ''}")
    bar.done(f"job #{job.pk} {job.status} in {job.duration_seconds or 0:.0f}s")
    return job


def stage_synth(root: Path, preset: str, seed: int) -> Path:
    bar = ProgressBar("synthetic Earth")
    manifest = root / "manifest.json"
    if manifest.exists() and json.loads(manifest.read_text()).get("config", {}).get("seed") == seed:
        bar.done(f"reusing {root}")
        return root
    bar.update(0.0, f"generating preset {preset!r}")
    generate(get_preset(preset, seed=seed), root, log=lambda msg: bar.update(0.5, msg))
    bar.done(f"written to {root}")
    return root


def stage_ingest(root: Path, preset: str) -> None:
    config = get_preset(preset)
    tiling = TilingParameters(zooms=tuple(config.zooms), span=4, size_px=config.tile_px)
    for tif in sorted((root / "mosaics").glob("*_3857.tif")):
        year = int(tif.name.split("_")[0])
        request = mosaic_ingest(year=year, tiling=tiling, path=tif, name=f"synthetic {tif.stem}")
        follow(request.job, f"ingest {tif.stem}")


def stage_import(root: Path) -> None:
    if Photo.objects.filter(batch__name=DEMO_BATCH_NAME).exists():
        follow(None, "import photos")
        return
    batch = batch_create(paths=[root / "photos"], csv_path=root / "metadata" / "eol.csv", name=DEMO_BATCH_NAME)
    follow(batch.job, "import photos")


def stage_label() -> None:
    """Weakly labeled photos (a center point) -> matching -> auto-label footprints or `needs review`."""
    batch = Batch.objects.filter(name=DEMO_BATCH_NAME).first()
    # Photos an earlier run sent to review stay there: a rerun does not retry them.
    pending = photos_to_label(batch_id=batch.pk).filter(status="imported") if batch else Photo.objects.none()
    photo_ids = list(pending.values_list("pk", flat=True))
    if not photo_ids:
        follow(None, "auto-label")
        return
    follow(job_enqueue(kind=JobKind.LABEL, parameters={"photo_ids": photo_ids}), "auto-label")


def stage_train() -> None:
    """Train the demo model on the auto-labeled pairs + all tiles (MUM), and activate it."""
    if ModelVersion.objects.filter(name=DEMO_MODEL_NAME).exists():
        follow(None, "train model")
        return
    if not Footprint.objects.current().filter(source="auto_label").exists():
        follow(None, "train model", skipped="skipped: no auto-labeled photo to train on")
        return
    follow(job_enqueue(kind=JobKind.TRAIN, parameters={"name": DEMO_MODEL_NAME, **DEMO_TRAINING}), "train model")


def stage_embed() -> None:
    """Embed every tile at 4 rotations with the active model (pgvector rows, HNSW + FAISS indexes) and store
    every tile's local features for verification."""
    version = model_version_active()
    if version is None or not (tiles_without_embeddings(model_version=version).exists()
                               or tiles_without_features(matcher_key=localize_matcher()[1]).exists()):
        follow(None, "embed tiles", skipped="already done" if version else "skipped: no active model")
        return
    follow(job_enqueue(kind=JobKind.EMBED, parameters={"model_version_id": version.pk}), "embed tiles")


def stage_localize() -> None:
    """Every demo photo still without a footprint: retrieval (with its prior) + verification."""
    batch = Batch.objects.filter(name=DEMO_BATCH_NAME).first()
    pending = Photo.objects.filter(batch=batch).exclude(footprints__is_current=True)
    if batch is None or model_version_active() is None or not pending.filter(status="imported").exists():
        follow(None, "localize photos")
        return
    follow(job_enqueue(kind=JobKind.LOCALIZE, parameters={"batch_id": batch.pk}), "localize photos")


def held_out_report(root: Path) -> str:
    """On the photos given without any label (val/test splits): verified share and IoU >= 0.5 vs the truth."""
    truth = {t["photo_id"]: t for t in json.loads((root / "truth" / "photos.json").read_text())}
    held_out = [pid for pid, t in truth.items() if t["split"] in ("val", "test")]
    current = {
        f.photo.photo_id: f.polygon for f in
        Footprint.objects.current().filter(photo__photo_id__in=held_out).select_related("photo")
    }
    good = sum(
        polygon_iou(list(current[pid].exterior_ring.coords[:-1]), [tuple(c) for c in truth[pid]["footprint"]]) >= 0.5
        for pid in current
    )
    n = max(len(held_out), 1)
    return (f"held-out photos: {len(held_out)}; with a verified footprint: {len(current)} ({len(current) / n:.0%}); "
            f"footprint IoU >= 0.5 vs truth: {good} ({good / n:.0%})")


def summary() -> str:
    lines = [
        f"tiles: {SatelliteTile.objects.count()}",
        f"photos: {Photo.objects.count()}",
        "footprints (current) by source: "
        + json.dumps(
            {s: Footprint.objects.current().filter(source=s).count() for s in ("imported", "auto_label",
                                                                                "retrieval", "manual")}
        ),
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--preset", default="demo", help="synthetic Earth preset (tiny, demo, bench)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data", type=Path, default=Path(settings.VAR_DIR) / "demo" / "synth")
    args = parser.parse_args(argv)

    started = time.monotonic()
    root = stage_synth(args.data, args.preset, args.seed)
    stage_ingest(root, args.preset)
    stage_import(root)
    stage_label()
    stage_train()
    stage_embed()
    stage_localize()
    print(f"\nDemo pipeline finished in {time.monotonic() - started:.0f}s\n{summary()}\n{held_out_report(root)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
