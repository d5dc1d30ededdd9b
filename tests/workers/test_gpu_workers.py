"""GPU workers, on a machine without a GPU: the count, one solo process per GPU, and the model + index each
process keeps (loaded once, reloaded when the active version changes)."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from apps.models_registry.services import model_version_activate
from tests.workers.fault_helpers import embed_here
from tests.workers.localize_fixtures import make_grid, make_version
from workers.gpu import gpu_count, preload_active

REPO_ROOT = Path(__file__).resolve().parents[2]
BIN = str(Path(sys.executable).parent)


@pytest.fixture
def fake_smi(tmp_path) -> Path:
    """An `nvidia-smi` that lists two GPUs, first on PATH."""
    smi = tmp_path / "bin" / "nvidia-smi"
    smi.parent.mkdir()
    smi.write_text('#!/bin/sh\necho "GPU 0: NVIDIA H100 (UUID: GPU-0)"\necho "GPU 1: NVIDIA H100 (UUID: GPU-1)"\n')
    smi.chmod(0o755)
    return smi.parent


def _plan(script: str, **env: str) -> list[str]:
    out = subprocess.run(["bash", f"platform/scripts/{script}", "plan" if script == "services.sh" else "--plan"],
                         cwd=REPO_ROOT, env={**os.environ, "ASTROLOC_BIN": BIN, **env}, capture_output=True,
                         text=True, timeout=120, check=True)
    return out.stdout.splitlines()


def test_gpu_count_reads_nvidia_smi_else_torch(fake_smi, monkeypatch):
    import torch

    monkeypatch.setenv("PATH", f"{fake_smi}:{os.environ['PATH']}")
    assert gpu_count() == 2
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    assert gpu_count() == (torch.cuda.device_count() if torch.cuda.is_available() else 0)


def test_one_solo_worker_per_gpu_each_on_its_own_device(fake_smi):
    lines = _plan("gpu_workers.sh", PATH=f"{fake_smi}:{os.environ['PATH']}")
    assert [line.split()[0] for line in lines] == ["worker-gpu0", "worker-gpu1"]
    for i, line in enumerate(lines):
        envs, command = line.split(" -- ")
        assert f"CUDA_VISIBLE_DEVICES={i}" in envs.split() and "ASTROLOC_WORKER_PRELOAD=1" in envs.split()
        args = command.split()
        assert args[args.index("-Q") + 1] == "gpu" and args[args.index("-P") + 1] == "solo"
        assert args[args.index("-c") + 1] == "1" and args[args.index("-n") + 1] == f"gpu{i}@%h"


def test_no_gpu_means_one_cpu_fallback_worker_and_worker_machines_run_no_web():
    lines = _plan("services.sh", ASTROLOC_GPU_WORKERS="0")
    names = [line.split()[0] for line in lines]
    assert names == ["worker-cpu", "worker-gpu", "beat", "web"]
    assert "CUDA_VISIBLE_DEVICES=" in lines[1].split(" -- ")[0].split()  # empty: torch sees no GPU
    worker_machine = _plan("services.sh", ASTROLOC_GPU_WORKERS="3", ASTROLOC_ROLE="worker")
    assert [line.split()[0] for line in worker_machine] == ["worker-cpu", "worker-gpu0", "worker-gpu1", "worker-gpu2"]


@pytest.mark.django_db(transaction=True)
def test_process_runtime_is_loaded_once_and_reloaded_when_the_active_version_changes():
    make_grid()
    v1, v2 = make_version("gpu-v1", seed=1), make_version("gpu-v2", seed=2)
    embed_here(v1)
    embed_here(v2)
    assert preload_active() is None  # nothing active yet: nothing to load

    model_version_activate(model_version=v1)
    first = preload_active()
    assert first.model_version_id == v1.pk
    assert preload_active() is first  # same version, same index files: kept, not reloaded

    model_version_activate(model_version=v2)
    second = preload_active()
    assert second is not first and second.model_version_id == v2.pk

    model_version_activate(model_version=v1)
    assert preload_active().model_version_id == v1.pk


@pytest.mark.django_db(transaction=True)
@pytest.mark.worker
def test_a_gpu_queue_worker_preloads_the_active_version_after_it_starts(worker_factory):
    make_grid()
    version = make_version("gpu-preload", seed=3)
    embed_here(version)
    model_version_activate(model_version=version)

    worker = worker_factory("preload", "test-gpu-preload",
                            env={"ASTROLOC_WORKER_PRELOAD": "1", "CUDA_VISIBLE_DEVICES": ""})

    expected = f"preloaded model version {version.pk} on CPU (solo worker"
    deadline = time.monotonic() + 60
    while expected not in worker.log_tail(400) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert expected in worker.log_tail(400), worker.log_tail()
