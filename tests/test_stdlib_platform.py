"""docs/design.md s. 5: the stdlib `platform` module and torch import in every entry point.

The Django project lives in the folder platform/ but is the package `astroloc_platform`; if anything ever
made `platform` resolve to our folder, torch, rasterio and uuid would break. The Celery worker entry point
is checked in tests/workers/test_job_runner.py.
"""

import platform
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
PROBE = "import platform, torch; print(platform.system(), platform.__file__, torch.__version__)"


def _assert_probe_output(output: str) -> None:
    system, module_file, torch_version = output.split()
    assert system == "Linux"
    assert module_file.endswith("platform.py") and str(REPO_ROOT) not in module_file
    assert torch_version.startswith("2.")


def test_pytest_process_imports_stdlib_platform_and_torch():
    import torch

    assert platform.system() == "Linux"
    assert str(REPO_ROOT) not in platform.__file__
    assert torch.tensor([1.0, 2.0]).sum().item() == 3.0


def test_manage_py_process_imports_stdlib_platform_and_torch():
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", PROBE],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=120, check=True,
    )
    _assert_probe_output(result.stdout.strip().splitlines()[-1])


def test_python_started_in_the_repository_root_keeps_stdlib_platform():
    """`python -c` puts the current directory first on sys.path: the folder platform/ must not win."""
    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120, check=True
    )
    _assert_probe_output(result.stdout.strip())
