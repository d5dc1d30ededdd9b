"""Fixtures shared by the whole suite: a real Celery worker process, a browser, factories.

Everything runs against the real services: PostgreSQL + PostGIS + pgvector (pytest-django's test
database) and Redis (database 15, see settings_test). No network sockets other than loopback.
"""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in the test thread; Django's ORM refuses to run beside one
# unless told that this is deliberate (the loop only drives the browser).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

REPO_ROOT = Path(__file__).resolve().parents[1]
SCREENSHOT_DIR = Path(os.environ.get("ASTROLOC_SCREENSHOT_DIR", REPO_ROOT / "var" / "screenshots"))


def _test_database_url() -> str:
    from django.conf import settings

    db = settings.DATABASES["default"]
    user = db.get("USER") or "postgres"
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgis://{user}@{host}:{port}/{db['NAME']}"


class WorkerProcess:
    """A `celery worker` subprocess serving both queues, with its log kept for failure reports."""

    def __init__(self, log_path: Path, env: dict[str, str]):
        self.log_path = log_path
        self.env = env
        self.process: subprocess.Popen[bytes] | None = None

    def start(
        self, name: str = "pytest-worker", concurrency: int = 2, queues: str = "cpu,gpu", pool: str = "prefork"
    ) -> None:
        self.name = f"{name}@{os.uname().nodename}"
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [
                sys.executable, "-m", "celery", "-A", "astroloc_platform", "worker",
                "-Q", queues, "-c", str(concurrency), "-P", pool, "-n", self.name,
                "--without-gossip", "--without-mingle", "-l", "info",
            ],
            cwd=REPO_ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        self.wait_ready()

    def wait_ready(self, timeout: float = 90.0) -> None:
        from astroloc_platform.celery import app

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"celery worker exited early:\n{self.log_tail()}")
            replies = app.control.ping(destination=[self.name], timeout=0.5)
            if replies:
                return
        raise RuntimeError(f"celery worker not ready after {timeout}s:\n{self.log_tail()}")

    def kill(self) -> None:
        """SIGKILL the worker's whole process group: no shutdown handler runs, as in a crash."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def log_tail(self, lines: int = 60) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


def _worker_env() -> dict[str, str]:
    from django.conf import settings

    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "astroloc_platform.settings_test",
        "DATABASE_URL": _test_database_url(),
        "TEST_CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "TEST_MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "PYTHONUNBUFFERED": "1",
    }


@pytest.fixture(scope="session")
def celery_worker(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[WorkerProcess]:
    """A real worker process on the test database and the test broker, for the whole session."""
    from astroloc_platform.celery import app

    app.control.purge()
    worker = WorkerProcess(tmp_path_factory.mktemp("celery") / "worker.log", _worker_env())
    worker.start()
    yield worker
    worker.stop()


@pytest.fixture
def worker_factory(django_db_setup, tmp_path) -> Iterator:
    """Start extra worker processes (e.g. to kill one); all are stopped after the test."""
    started: list[WorkerProcess] = []

    def start(name: str, queues: str, pool: str = "solo", env: dict[str, str] | None = None) -> WorkerProcess:
        worker = WorkerProcess(tmp_path / f"{name}.log", {**_worker_env(), **(env or {})})
        worker.start(name=name, queues=queues, pool=pool, concurrency=1)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


@pytest.fixture
def screenshot_dir() -> Path:
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    return SCREENSHOT_DIR


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright (never `playwright install`: the machines are offline)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"),
            args=["--no-sandbox", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run", "--disable-gpu"],
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    """A fresh page that records console errors and failed requests, asserted empty by the tests."""
    context = browser.new_context(viewport={"width": 1366, "height": 800})
    page = context.new_page()
    page.console_errors = []
    page.failed_requests = []
    page.on("console", lambda msg: msg.type == "error" and page.console_errors.append(msg.text))
    page.on("pageerror", lambda exc: page.console_errors.append(str(exc)))
    page.on("requestfailed", lambda req: page.failed_requests.append(req.url))
    yield page
    context.close()


@pytest.fixture(scope="session")
def synth_tiny(tmp_path_factory) -> Path:
    """The synthetic Earth's `tiny` preset (mosaics in EPSG:3857 and 4326, photos, CSVs), made once."""
    from ml.synth.config import get_preset
    from ml.synth.generate import generate

    out = tmp_path_factory.mktemp("synth-tiny")
    generate(get_preset("tiny", 0), out)
    return out


@pytest.fixture(scope="session")
def real_samples() -> Path:
    """shared/real-samples: it sits beside the checkout (../shared), here and in CI."""
    path = (REPO_ROOT / ".." / "shared" / "real-samples").resolve()
    if not path.is_dir():
        pytest.fail(f"{path} is missing: the real samples must sit beside the checkout")
    return path
