"""Diagnostic tasks that report on the worker process itself (no Job row)."""

import platform
import sys
from typing import Any

from celery import shared_task


@shared_task(name="diagnostics.environment")
def environment() -> dict[str, Any]:
    """Prove, from inside a worker, that the stdlib `platform` and torch import (docs/design.md s. 5)."""
    import torch

    return {
        "platform_system": platform.system(),
        "platform_module": platform.__file__,
        "torch_version": torch.__version__,
        "cuda_available": bool(torch.cuda.is_available()),
        "python": sys.executable,
    }
