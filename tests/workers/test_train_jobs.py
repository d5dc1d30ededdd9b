"""Label -> training pairs -> a short `train` job through the real worker -> a new ModelVersion.

~2.5 min on 2 shared CPU cores (slow). The recall comparison is on 6 held-out labeled photos against 408
database images, resnet18 from random initialisation (no pretrained weights offline), 120 iterations, seed 0:
measured R@1 0.33 vs 0.00 untrained, R@5 0.67 vs 0.50, R@20 1.00 vs 0.67. Six queries make that a thin
margin (one query at R@5); the run is seeded and single-threaded, so it repeats on this machine.
"""

import pytest

from apps.core.constants import JobKind, JobStatus
from apps.core.services import job_enqueue
from apps.footprints.selectors import footprint_tile_pairs
from apps.models_registry.models import ModelVersion
from tests.workers.labeling_world import TRAIN_WORLD, generate_label_world, ingest_and_import
from tests.workers.test_job_runner import wait_final
from workers.train import labeled_photo_records, tile_records

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker, pytest.mark.slow]

TRAIN = {
    "model_preset": "resnet18_gem", "image_size": 64, "iterations": 120, "pairs_per_batch": 3,
    "mum_locations_per_batch": 4, "num_clusters": 2, "recluster_every": 1000, "checkpoint_every": 20,
    "val_fraction": 0.34, "seed": 0, "device": "cpu", "num_threads": 1, "embed_batch_size": 32, "lr": 3e-4,
    "zooms": [11],
}


@pytest.fixture(scope="module")
def train_world(tmp_path_factory):
    return generate_label_world(tmp_path_factory.mktemp("train-world"), TRAIN_WORLD)


def test_label_pairs_train_register(celery_worker, train_world):
    batch = ingest_and_import(train_world)
    label = job_enqueue(kind=JobKind.LABEL, parameters={"batch_id": batch.pk})
    wait_final(label, timeout=300)
    label.refresh_from_db()
    assert label.status == JobStatus.SUCCEEDED, label.error

    pairs = footprint_tile_pairs()
    photos = labeled_photo_records()
    assert len(photos) == len({p.photo_id for p in pairs}) >= 3
    assert len(tile_records()) > 0

    job = job_enqueue(kind=JobKind.TRAIN, parameters=TRAIN)
    wait_final(job, timeout=600)
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, f"{job.error}\n{celery_worker.log_tail()}"
    version = ModelVersion.objects.get(pk=job.result["model_version_id"])
    assert version.training_job_id == job.pk and not version.is_active
    assert version.architecture["backbone"] == "resnet18" and version.embedding_dim == 256
    assert version.data_config["input_size"] == 64 and version.checkpoint.name.endswith(".pt")
    assert version.metrics["iterations"] == 120 and version.metrics["val_photos"] >= 1
    assert version.metrics["val_R@5"] > version.metrics["untrained_val_R@5"]
