"""A small synthetic Earth on which automated labeling succeeds for some photos and not for others.

The ``tiny`` preset's 192 x 128 photos against 64 px database images give SIFT too little texture: no
photo is accepted, so it cannot show a footprint. This variant keeps the tiny region and zooms but uses
128 px images and 384 x 256 photos (generation ~6 s), and weak labels drawn with sigma 0.3 degree (then
rounded to 0.5 degree, as NASA's are) so that they fall inside the default 111 km uncertainty of this
1.6-degree region; some photos are accepted and some rejected (clouds, too few inliers).
"""

from dataclasses import replace
from pathlib import Path

from apps.core.jobrun import job_run_here, job_wait
from apps.core.models import Job
from apps.imagery.services import TilingParameters, mosaic_ingest
from apps.photos.models import Batch
from apps.photos.services import batch_create
from ml.synth.config import SynthConfig, get_preset
from ml.synth.generate import generate

__all__ = ["LABEL_WORLD", "TILING", "TRAIN_WORLD", "generate_label_world", "ingest_and_import"]

LABEL_WORLD: SynthConfig = replace(
    get_preset("tiny", 0), name="label-test", region=(30.0, 20.0, 31.6, 21.4), tile_px=128, mosaic_px_per_tile=128,
    photo_size=(384, 256), n_photos={"train": 10, "val": 4, "test": 2}, footprint_scale=0.6, cloud_probability=0.3,
    weak_label_fraction=1.0, weak_label_sigma_deg=0.3,
)
#: Room for ground-disjoint training pairs (the pair sampler needs several per batch), a validation share, and
#: 40 val + test photos never labeled or trained on, on which trained and untrained models are compared.
TRAIN_WORLD: SynthConfig = replace(LABEL_WORLD, name="train-test", region=(30.0, 20.0, 35.0, 24.0),
                                   n_photos={"train": 40, "val": 20, "test": 20})
TILING = TilingParameters(zooms=(10, 11), span=4, size_px=128)


def generate_label_world(out: Path, config: SynthConfig = LABEL_WORLD) -> Path:
    generate(config, out)
    return out


def ingest_and_import(root: Path, split: str = "train") -> Batch:
    """Ingest both years' mosaics and import the split's photos with the EOL CSV, in this process."""
    for mosaic in sorted((root / "mosaics").glob("*_3857.tif")):
        request = mosaic_ingest(path=mosaic, year=int(mosaic.name[:4]), tiling=TILING)
        if request.job is not None:
            _run(request.job)
    batch = batch_create(paths=[root / "photos" / split], csv_path=root / "metadata" / "eol.csv")
    _run(batch.job)
    batch.refresh_from_db()
    return batch


def _run(job: Job) -> None:
    """Run here; if a test worker took the message first, wait for it instead."""
    job = job_wait(job_run_here(job), timeout=120)
    assert job.status == "succeeded", job.error
