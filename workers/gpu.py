"""GPU workers: how many this machine runs, and the model + index each worker process keeps loaded.

One Celery worker process per GPU (``platform/scripts/services.sh`` starts them with ``CUDA_VISIBLE_DEVICES``
set to one device each, solo pool), so every process owns one device and the model and FAISS index it loads
stay on it. Loading happens after the fork (CUDA does not survive one) and at most once per model version:
``preload_active`` runs when a worker is ready (solo pool) or a pool child starts (prefork), and every
localize chunk asks ``workers.runtime.runtime_for`` for its job's pinned version, which reloads only when
the version (or its index files) changed, e.g. after ``activate``. With no GPU, the same code runs on CPU.

    python -m workers.gpu count     # GPUs this machine has (nvidia-smi, else torch); 0 means CPU fallback
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys

from celery.signals import worker_process_init, worker_ready
from django.conf import settings

__all__ = ["gpu_count", "preload_active"]

logger = logging.getLogger(__name__)


def gpu_count() -> int:
    """GPUs visible on this machine: ``nvidia-smi -L`` when it exists (no CUDA initialisation), else torch."""
    smi = shutil.which("nvidia-smi")
    if smi:
        try:
            out = subprocess.run([smi, "-L"], capture_output=True, text=True, timeout=20, check=False).stdout
        except (OSError, subprocess.TimeoutExpired):
            out = ""
        return sum(1 for line in out.splitlines() if line.startswith("GPU "))
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a dependency; kept so the script never crashes
        return 0
    return int(torch.cuda.device_count()) if torch.cuda.is_available() else 0


def preload_active():
    """Load (or keep) this process's retrieval runtime for the ACTIVE model version; None if there is none.

    Returns the runtime so callers (and tests) can see whether it was reused or reloaded.
    """
    from apps.models_registry.selectors import model_version_active
    from workers.runtime import runtime_for

    version = model_version_active()
    if version is None:
        return None
    return runtime_for(version)


def _preload(reason: str) -> None:
    if not settings.ASTROLOC_WORKER_PRELOAD:
        return
    try:
        runtime = preload_active()
    except Exception:  # a worker must start even when the active version has no index yet
        logger.warning("preload (%s) skipped: the active version could not be loaded", reason, exc_info=True)
        return
    if runtime is not None:
        logger.info("preloaded model version %s on %s (%s, CUDA_VISIBLE_DEVICES=%r)", runtime.model_version_id,
                    "GPU" if os.environ.get("CUDA_VISIBLE_DEVICES") else "CPU", reason,
                    os.environ.get("CUDA_VISIBLE_DEVICES"))


@worker_process_init.connect
def _on_child_start(**_: object) -> None:
    _preload("prefork child")


@worker_ready.connect
def _on_ready(sender=None, **_: object) -> None:
    from celery.concurrency.solo import TaskPool as SoloPool

    if isinstance(getattr(sender, "pool", None), SoloPool):  # prefork children load for themselves
        _preload("solo worker")


if __name__ == "__main__":
    if sys.argv[1:] == ["count"]:
        print(gpu_count())
    else:
        print("usage: python -m workers.gpu count", file=sys.stderr)
        sys.exit(2)
