"""GPU workers: how many this machine runs, and the model + index each worker process keeps loaded.

One Celery worker process per GPU (``platform/scripts/services.sh`` starts them with ``CUDA_VISIBLE_DEVICES``
set to one device each, solo pool), so every process owns one device and the model and FAISS index it loads
stay on it. Loading happens after the fork (CUDA does not survive one) and at most once per model version:
``preload_active`` runs when a worker is ready (solo pool) or a pool child starts (prefork), and every
localize chunk asks ``workers.runtime.runtime_for`` for its job's pinned version, which reloads only when
the version (or its index files) changed, e.g. after ``activate``. With no GPU, the same code runs on CPU.

    python -m workers.gpu count     # GPUs this machine has (nvidia-smi, else torch); 0 means CPU fallback
    python -m workers.gpu check     # on a CUDA machine: train ViT-B + SALAD, embed, localize; timed (ml.gpu_check)
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys

from celery.signals import worker_process_init, worker_ready
from django.conf import settings

__all__ = ["gpu_check", "gpu_count", "preload_active"]

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


def gpu_check(argv: list[str] | None = None) -> int:
    """`check`: the GPU paths in one go (``ml.gpu_check``); exits 0 with a note on a machine without CUDA."""
    import argparse
    import tempfile
    from pathlib import Path

    import torch

    parser = argparse.ArgumentParser(prog="python -m workers.gpu check", description=gpu_check.__doc__)
    parser.add_argument("--iterations", type=int, default=300, help="training steps of the ViT-B config")
    parser.add_argument("--train-seconds", type=float, default=240.0, help="training stops after this many seconds")
    parser.add_argument("--photos", type=int, default=200, help="photos localized in the batch")
    parser.add_argument("--preset", default="demo", help="synthetic Earth preset generated for the check")
    parser.add_argument("--data", type=Path, help="an existing synthetic Earth (skips generating one)")
    args = parser.parse_args(argv)
    if not torch.cuda.is_available():
        print(f"no CUDA device on this machine (torch {torch.__version__}, CUDA build {torch.version.cuda}, "
              f"{gpu_count()} GPUs seen): nothing to check. Run `python -m workers.gpu check` on a GPU machine.")
        return 0
    from ml.gpu_check import run_check
    from ml.synth.config import get_preset
    from ml.synth.generate import generate

    root = args.data
    if root is None:
        root = Path(tempfile.mkdtemp(prefix="astroloc-gpu-check-synth-"))
        print(f"generating the synthetic Earth ({args.preset}) in {root}", flush=True)
        generate(get_preset(args.preset), root, log=lambda message: print(f"  {message}", flush=True))
    result = run_check(root, iterations=args.iterations, train_seconds=args.train_seconds, photos=args.photos,
                       log=lambda message: print(message, flush=True))
    print("\n".join(result.lines()))
    return 0


if __name__ == "__main__":
    if sys.argv[1:] == ["count"]:
        print(gpu_count())
    elif sys.argv[1:2] == ["check"]:
        sys.exit(gpu_check(sys.argv[2:]))
    else:
        print("usage: python -m workers.gpu count | check [--iterations N] [--photos N] [--data DIR]",
              file=sys.stderr)
        sys.exit(2)
