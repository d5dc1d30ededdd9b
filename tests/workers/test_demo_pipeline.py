"""The demo pipeline (`python -m workers.demo`) as a real process against the test database and worker."""

import re
import subprocess
import sys

import pytest

from apps.imagery.models import SatelliteTile
from apps.models_registry.models import ModelVersion
from apps.photos.models import Photo
from tests.conftest import REPO_ROOT, _worker_env

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]


def _run_demo(data_dir) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "workers.demo", "--preset", "tiny", "--data", str(data_dir), "--train-seconds", "5"],
        cwd=REPO_ROOT, env=_worker_env(), capture_output=True, text=True, timeout=900,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_demo_runs_every_stage_as_jobs_and_a_rerun_changes_nothing(celery_worker, tmp_path):
    first = _run_demo(tmp_path / "synth")

    tiles, photos = SatelliteTile.objects.count(), Photo.objects.count()
    assert tiles > 0 and photos > 0
    assert re.search(rf"^tiles: {tiles}$", first, re.M) and re.search(rf"^photos: {photos}$", first, re.M)
    assert "job #" in first and "succeeded" in first
    assert re.search(r"^plan: this machine trains \d+ images/s \(cpu\); training for 5 s ≈ \d+ iterations", first, re.M)
    assert "what longer training buys" in first

    second = _run_demo(tmp_path / "synth")

    assert (SatelliteTile.objects.count(), Photo.objects.count()) == (tiles, photos)
    assert "reusing" in second and "job #" not in second
    if ModelVersion.objects.exists():  # nothing left to train: the speed is not measured again
        assert "plan: this machine trains" not in second
