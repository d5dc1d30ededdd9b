"""The demo pipeline: the synthetic Earth through the platform, stage by stage, as real jobs.

`python -m workers.demo` (called by platform/scripts/demo.sh). Each stage is a Job row that the running
workers execute, so the web Jobs page shows the same work the terminal shows. Idempotent: the synthetic
data is generated once, every ingest/import service is a no-op for input it has already seen, and the
stages pick the same photos on every run, so a rerun finds them done.

Sized by time, not by iterations: the demo first measures how fast this machine trains the demo model and
trains for a time budget (`--train-seconds`), and it labels and localizes bounded, evenly spaced subsets of
the photos, so the whole run fits `DEMO_TARGET_MINUTES` on the slowest machine the project runs on
(`REFERENCE_MACHINE`). Every stage prints a line at least every `REPORT_EVERY_S` seconds with a counter, a
rate and an ETA.
"""

import argparse
import json
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "astroloc_platform.settings")
django.setup()

from django.conf import settings  # noqa: E402
from django.utils import timezone  # noqa: E402

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
from apps.photos.selectors import has_own_footprint, photos_to_label  # noqa: E402
from apps.photos.services import batch_create  # noqa: E402
from ml.geo import polygon_iou  # noqa: E402
from ml.progress import format_seconds  # noqa: E402
from ml.synth.config import get_preset  # noqa: E402
from ml.synth.generate import generate  # noqa: E402
from ml.train import Throughput, TrainConfig, measure_throughput  # noqa: E402
from workers.runtime import localize_matcher  # noqa: E402
from workers.train import train_config  # noqa: E402

DEMO_BATCH_NAME = "Synthetic Earth demo photos"
DEMO_MODEL_NAME = "demo-resnet18-gem"
# A small model trained from scratch on the CPU (the AstroLoc setting, ViT-B + SALAD, is for GPUs).
# No validation split: the held-out photos the demo localizes are its measure, and validating twice (untrained
# and trained) against every tile at 4 rotations would cost minutes of CPU.
DEMO_TRAINING = {"model_preset": "resnet18_gem", "image_size": 96, "activate": True, "val_fraction": 0.0}

# The slowest machine of the kind the project runs on, and the time the whole demo must fit there.
REFERENCE_MACHINE = "2-core AMD EPYC with AVX2 only, training ResNet-18 + GeM at 96 px at 23 images/s"
DEMO_TARGET_MINUTES = 15
# Training time and the photos labeled and localized, estimated for the reference machine (docs/benchmarks.md,
# "Demo"): training 210 s plus ~20 s of clustering and checkpointing; labeling ~5 s and localizing ~8 s per
# photo; generating, ingesting, importing and embedding ~3 minutes: ~12 minutes in all, 3 minutes of margin.
DEMO_TRAIN_SECONDS = 210
DEMO_LABEL_PHOTOS = 40
DEMO_LOCALIZE_PHOTOS = 20
REPORT_EVERY_S = 10.0

# What a longer training buys, from docs/benchmarks.md (Localization end to end; Training: the loss ablation).
LONGER_TRAINING = (
    "what longer training buys (docs/benchmarks.md): the same model trained 100 iterations on the larger `bench` "
    "Earth verifies 75 % of its held-out photos with the nadir prior, none wrong; on `bench`, 400 iterations lift "
    "R@10 from 43.7 % (untrained) to 63-68 %. Train longer with --train-seconds (demo.sh: DEMO_TRAIN_SECONDS)."
)


@dataclass
class StageLine:
    """One console line per report: on a terminal redrawn in place, otherwise a new line at least every
    `REPORT_EVERY_S` seconds (and on every new message), so a log shows a slow stage is still moving."""

    label: str
    width: int = 24
    started: float = field(default_factory=time.monotonic)
    _printed: float = field(default=-1e9, repr=False)
    _last_message: str = field(default="", repr=False)

    def update(self, fraction: float, message: str = "", *, eta_s: float | None = None) -> None:
        fraction = min(max(fraction, 0.0), 1.0)
        filled = round(fraction * self.width)
        elapsed = time.monotonic() - self.started
        timing = f"{format_seconds(elapsed)}" + (f", ETA {format_seconds(eta_s)}" if eta_s is not None else "")
        line = (f"{self.label:<18} [{'#' * filled}{'.' * (self.width - filled)}] {fraction:4.0%} {timing:<16} "
                f"{message[:80]}")
        now = time.monotonic()
        if sys.stdout.isatty():
            sys.stdout.write("\r" + line.ljust(140))
            sys.stdout.flush()
        elif message != self._last_message or now - self._printed >= REPORT_EVERY_S:
            self._printed, self._last_message = now, message
            print(line, flush=True)

    def done(self, message: str) -> None:
        self._last_message = None  # always show the closing line
        self.update(1.0, message)
        if sys.stdout.isatty():
            sys.stdout.write("\n")


@contextmanager
def heartbeat(redraw: Callable[[], None]) -> Iterator[None]:
    """Call `redraw` every second while the block runs, so the line keeps its elapsed time and ETA current
    (and a log gets a line every `REPORT_EVERY_S`) even when the work reports nothing for a while."""
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(1.0):
            redraw()

    thread = threading.Thread(target=beat, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def job_eta_s(job: Job) -> float | None:
    """Seconds left at the pace the job's progress has moved since it started (None before it moved)."""
    if job.started_at is None or not 0 < job.progress < 1:
        return None
    elapsed = (timezone.now() - job.started_at).total_seconds()
    return elapsed * (1 - job.progress) / job.progress


def follow(job: Job | None, label: str, skipped: str = "already done") -> Job | None:
    """Show a job's progress (its own message: counter and rate; plus elapsed and ETA) until it ends."""
    line = StageLine(label)
    if job is None:
        line.done(skipped)
        return None
    latest = {"job": job}

    def show(j: Job) -> None:
        latest["job"] = j
        line.update(j.progress, j.progress_message or j.status, eta_s=job_eta_s(j))

    with heartbeat(lambda: show(latest["job"])):
        job = job_wait(job, on_progress=show)
    if job.status != "succeeded":
        line.done(job.status)
        raise SystemExit(f"{label} job #{job.pk} {job.status}: {job.error.splitlines()[0] if job.error else ''}")
    line.done(f"job #{job.pk} {job.status} in {job.duration_seconds or 0:.0f}s")
    return job


def evenly_spaced(items: Sequence, count: int) -> list:
    """`count` items spread over the sorted input (all of them when there are fewer): the same on every run."""
    if count >= len(items):
        return list(items)
    step = len(items) / count
    return [items[int(i * step)] for i in range(count)]


def stage_synth(root: Path, preset: str, seed: int) -> Path:
    line = StageLine("synthetic Earth")
    manifest = root / "manifest.json"
    if manifest.exists() and json.loads(manifest.read_text()).get("config", {}).get("seed") == seed:
        line.done(f"reusing {root}")
        return root
    steps = ["geography", "mosaics", "photos", "tiles"]
    state = {"done": 0, "message": f"generating preset {preset!r}"}

    def log(message: str) -> None:
        state["done"] = min(state["done"] + 1, len(steps))
        state["message"] = f"step {state['done']}/{len(steps)}: {message}"

    with heartbeat(lambda: line.update(state["done"] / len(steps), state["message"])):
        generate(get_preset(preset, seed=seed), root, log=log)
    line.done(f"written to {root}")
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


def demo_label_photos(batch: Batch, count: int) -> list[Photo]:
    """The weakly labeled photos the demo labels: `count` of the batch's, evenly spaced by photo ID."""
    weak = Photo.objects.filter(batch=batch, center_point__isnull=False).order_by("photo_id")
    return evenly_spaced(list(weak), count)


def stage_label(count: int) -> None:
    """Weakly labeled photos (a center point) -> matching -> auto-label footprints or `needs review`."""
    batch = Batch.objects.filter(name=DEMO_BATCH_NAME).first()
    chosen = [p.pk for p in demo_label_photos(batch, count)] if batch else []
    # Photos an earlier run sent to review stay there: a rerun does not retry them.
    photo_ids = list(photos_to_label(photo_ids=chosen).filter(status="imported").values_list("pk", flat=True))
    if not photo_ids:
        follow(None, "auto-label")
        return
    follow(job_enqueue(kind=JobKind.LABEL, parameters={"photo_ids": photo_ids}), "auto-label")


def demo_train_config() -> TrainConfig:
    """The demo model's training config, exactly as the train job will build it (for the speed measurement)."""
    return train_config(DEMO_TRAINING, Path(settings.VAR_DIR) / "demo" / "speed")


def plan_line(speed: Throughput, train_seconds: float, label: int, localize: int) -> str:
    return (f"plan: this machine trains {speed.images_per_s:.0f} images/s ({speed.device}); training for "
            f"{train_seconds:.0f} s ≈ {speed.iterations_for(train_seconds)} iterations of "
            f"{speed.images_per_step} images; labeling {label} photos and localizing {localize} held-out photos "
            f"(sized to finish in {DEMO_TARGET_MINUTES} min on a {REFERENCE_MACHINE})")


def stage_train(speed: Throughput | None, train_seconds: float) -> None:
    """Train the demo model for `train_seconds` on the auto-labeled pairs + all tiles (MUM), and activate it."""
    if ModelVersion.objects.filter(name=DEMO_MODEL_NAME).exists():
        follow(None, "train model")
        return
    if not Footprint.objects.current().filter(source="auto_label").exists():
        follow(None, "train model", skipped="skipped: no auto-labeled photo to train on")
        return
    assert speed is not None, "the speed is measured whenever the model is not trained yet"
    parameters = {"name": DEMO_MODEL_NAME, **DEMO_TRAINING, "time_budget_s": train_seconds,
                  "iterations": speed.iterations_for(train_seconds)}
    follow(job_enqueue(kind=JobKind.TRAIN, parameters=parameters), "train model")


def stage_embed() -> None:
    """Embed every tile at 4 rotations with the active model (pgvector rows, HNSW + FAISS indexes) and store
    every tile's local features for verification."""
    version = model_version_active()
    if version is None or not (tiles_without_embeddings(model_version=version).exists()
                               or tiles_without_features(matcher_key=localize_matcher()[1]).exists()):
        follow(None, "embed tiles", skipped="already done" if version else "skipped: no active model")
        return
    follow(job_enqueue(kind=JobKind.EMBED, parameters={"model_version_id": version.pk}), "embed tiles")


def held_out_ids(root: Path) -> list[str]:
    """Photos the synthetic Earth gives without any label (val/test splits), sorted by photo ID."""
    truth = json.loads((root / "truth" / "photos.json").read_text())
    return sorted(t["photo_id"] for t in truth if t["split"] in ("val", "test"))


def demo_localize_photo_ids(root: Path, count: int) -> list[str]:
    return evenly_spaced(held_out_ids(root), count)


def stage_localize(root: Path, count: int) -> None:
    """`count` held-out photos, evenly spaced, still without a footprint: retrieval (with its prior) + verification."""
    chosen = demo_localize_photo_ids(root, count)
    pending = list(Photo.objects.filter(batch__name=DEMO_BATCH_NAME, photo_id__in=chosen, status="imported")
                   .exclude(has_own_footprint()).order_by("pk").values_list("pk", flat=True))
    if not pending or model_version_active() is None:
        follow(None, "localize photos")
        return
    follow(job_enqueue(kind=JobKind.LOCALIZE, parameters={"photo_ids": pending}), "localize photos")


def held_out_report(root: Path, count: int) -> str:
    """On the localized held-out photos: verified share and IoU >= 0.5 against the truth."""
    truth = {t["photo_id"]: t for t in json.loads((root / "truth" / "photos.json").read_text())}
    chosen = demo_localize_photo_ids(root, count)
    current = {
        f.photo.photo_id: f.polygon for f in
        Footprint.objects.current().filter(photo__photo_id__in=chosen).select_related("photo")
    }
    good = sum(
        polygon_iou(list(current[pid].exterior_ring.coords[:-1]), [tuple(c) for c in truth[pid]["footprint"]]) >= 0.5
        for pid in current
    )
    n = max(len(chosen), 1)
    return (f"held-out photos localized (given without any label): {len(chosen)} of {len(held_out_ids(root))}; "
            f"verified footprint: {len(current)} ({len(current) / n:.0%}); "
            f"IoU >= 0.5 vs truth: {good} ({good / n:.0%})")


def model_report() -> str:
    version = ModelVersion.objects.filter(name=DEMO_MODEL_NAME).first()
    if version is None:
        return "model: none trained"
    metrics = version.metrics or {}
    return (f"model: {version.name} (v{version.pk}), {metrics.get('iterations', '?')} iterations of "
            f"{metrics.get('train_photos', '?')} labeled photos + {metrics.get('tiles', '?')} tiles in "
            f"{metrics.get('step_seconds', '?')} s of training steps")


def summary() -> str:
    lines = [
        f"tiles: {SatelliteTile.objects.count()}",
        f"photos: {Photo.objects.count()}",
        "footprints (current) by source: "
        + json.dumps(
            {s: Footprint.objects.current().filter(source=s).count() for s in ("imported", "auto_label",
                                                                                "retrieval", "manual")}
        ),
        model_report(),
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", default="demo", help="synthetic Earth preset (tiny, demo, bench)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data", type=Path, default=Path(settings.VAR_DIR) / "demo" / "synth")
    parser.add_argument("--train-seconds", type=float, default=DEMO_TRAIN_SECONDS,
                        help=f"training time budget (default {DEMO_TRAIN_SECONDS}); the iterations follow from "
                             "this machine's measured speed")
    parser.add_argument("--label-photos", type=int, default=DEMO_LABEL_PHOTOS,
                        help=f"weakly labeled photos to auto-label (default {DEMO_LABEL_PHOTOS})")
    parser.add_argument("--localize-photos", type=int, default=DEMO_LOCALIZE_PHOTOS,
                        help=f"held-out photos to localize (default {DEMO_LOCALIZE_PHOTOS})")
    args = parser.parse_args(argv)

    started = time.monotonic()
    speed = None
    if not ModelVersion.objects.filter(name=DEMO_MODEL_NAME).exists():
        line = StageLine("measure speed")
        with heartbeat(lambda: line.update(0.5, "timing training steps on random images")):
            speed = measure_throughput(demo_train_config())
        line.done(f"{speed.images_per_s:.0f} images/s")
        print(plan_line(speed, args.train_seconds, args.label_photos, args.localize_photos), flush=True)
    else:
        print(f"plan: reusing the trained model {DEMO_MODEL_NAME}; labeling {args.label_photos} photos and "
              f"localizing {args.localize_photos} held-out photos (what is done already is skipped)", flush=True)
    root = stage_synth(args.data, args.preset, args.seed)
    stage_ingest(root, args.preset)
    stage_import(root)
    stage_label(args.label_photos)
    stage_train(speed, args.train_seconds)
    stage_embed()
    stage_localize(root, args.localize_photos)
    print(f"\nDemo pipeline finished in {format_seconds(time.monotonic() - started)}\n{summary()}\n"
          f"{held_out_report(root, args.localize_photos)}\n{LONGER_TRAINING}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
