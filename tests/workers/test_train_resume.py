"""An interrupted `train` job resumes from its checkpoint: the next attempt continues, it does not start over."""

import re

import pytest

from apps.core.constants import JobKind, JobStatus
from apps.core.models import Job
from apps.footprints.constants import FootprintSource
from apps.footprints.services import footprint_add
from apps.models_registry.models import ModelVersion
from apps.photos.models import Photo
from ml.models.checkpoint import load_checkpoint
from ml.synth.loader import load_synth
from tests.workers.labeling_world import TRAIN_WORLD, generate_label_world, ingest_and_import
from workers.jobs import JobContext
from workers.train import _run_dir, train_model

pytestmark = [pytest.mark.django_db(transaction=True),
              pytest.mark.slow]  # ~70 s of CPU: a 5 x 4 degree world, ingest, import, 2 x resnet18 validation

TRAIN = {
    "model_preset": "resnet18_gem", "image_size": 64, "model_overrides": {"desc_dim": 32}, "iterations": 12,
    "checkpoint_every": 4, "pairs_per_batch": 3, "mum_locations_per_batch": 3, "num_clusters": 2,
    "recluster_every": 1000, "val_fraction": 0.3, "seed": 0, "device": "cpu", "num_threads": 1,
    "embed_batch_size": 32, "zooms": [11],
}


class Interrupted(Exception):
    """Stands in for the worker dying (kill -9, a lost machine) in the middle of training."""


class RecordingContext(JobContext):
    """Records every progress message; raises ``Interrupted`` once training reports ``stop_at``."""

    def __init__(self, *args, stop_at: int | None = None):
        super().__init__(*args)
        self.messages: list[str] = []
        self.stop_at = stop_at

    def progress(self, fraction: float, message: str = "", *, force: bool = False) -> None:
        self.messages.append(message)
        super().progress(fraction, message, force=force)
        if self.stop_at is not None and message.startswith(f"train {self.stop_at}/"):
            raise Interrupted(message)

    def train_iterations(self) -> list[int]:
        return [int(m.group(1)) for m in map(re.compile(r"train (\d+)/").match, self.messages) if m]


@pytest.fixture
def labeled_world(tmp_path_factory):
    """The train-test world ingested and imported, each training photo given its true footprint (manual)."""
    root = generate_label_world(tmp_path_factory.mktemp("resume-world"), TRAIN_WORLD)
    batch = ingest_and_import(root)
    truth = {p.photo_id: p.footprint for p in load_synth(root).photos}
    for photo in Photo.objects.filter(batch=batch):
        footprint_add(photo=photo, corners=truth[photo.photo_id], source=FootprintSource.MANUAL)
    return root


def test_interrupted_train_job_resumes_from_its_last_checkpoint(labeled_world):
    job = Job.objects.create(kind=JobKind.TRAIN, parameters=TRAIN, queue="gpu", status=JobStatus.RUNNING)
    first = RecordingContext(job.pk, job.parameters, {}, 1, stop_at=10)
    with pytest.raises(Interrupted):
        train_model(first)
    assert first.train_iterations()[0] == 1 and first.train_iterations()[-1] == 10
    last = _run_dir(job.pk) / "last.pt"
    assert load_checkpoint(last).train_state["iteration"] == 8  # checkpoint_every 4: 9 and 10 are lost
    assert not ModelVersion.objects.exists()

    job.refresh_from_db()  # what a redelivered attempt starts from: the partial result in the row
    second = RecordingContext(job.pk, job.parameters, dict(job.result), 2)
    result = train_model(second)

    assert second.train_iterations()[0] == 9 and second.train_iterations()[-1] == 12  # continued, not restarted
    assert not any(m.startswith("validating the untrained model") for m in second.messages)  # done by attempt 1
    version = ModelVersion.objects.get(pk=result["model_version_id"])
    assert version.metrics["iterations"] == 12 and version.training_job_id == job.pk
    assert result["untrained"] == first.partial["untrained"] and "untrained_val_R@5" in version.metrics
    assert not last.parent.exists()  # the run directory is removed once the version is registered
