"""The `train` job refuses, with a reason a user can act on, what it cannot train on."""

import pytest
from django.core.management import CommandError, call_command

from apps.core.constants import JobKind
from apps.core.models import Job
from workers.jobs import JobContext
from workers.train import TrainInputError, train_config, train_model

pytestmark = pytest.mark.django_db(transaction=True)


def test_train_without_tiles_fails_with_what_to_do():
    job = Job.objects.create(kind=JobKind.TRAIN, parameters={"iterations": 1}, queue="gpu")
    with pytest.raises(TrainInputError, match="no database images: ingest a satellite mosaic first"):
        train_model(JobContext(job.pk, job.parameters, {}, 1))


def test_unknown_train_parameter_is_refused_by_name(tmp_path):
    with pytest.raises(TrainInputError, match=r"unknown TrainConfig keys \['iterationz'\]"):
        train_config({"iterationz": 5}, tmp_path)
    config = train_config({"image_size": 64, "iterations": 3, "activate": True, "val_fraction": 0.5}, tmp_path)
    assert config.model_preset == "resnet18_gem" and config.model_overrides == {"image_size": 64}
    assert config.iterations == 3 and config.out_dir == str(tmp_path)


def test_train_model_command_reports_the_failure():
    with pytest.raises(CommandError, match="failed: no database images: ingest a satellite mosaic first"):
        call_command("train_model", "--iterations", "1", "--in-process")
