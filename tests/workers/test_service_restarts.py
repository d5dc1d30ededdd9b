"""PostgreSQL and Redis restarted during a chunked localize job: the job resumes and loses nothing.

Everything runs against a PRIVATE PostgreSQL cluster and a PRIVATE Redis (``private_services``), never
the shared system services: a world built by a subprocess (``private_world``), a real worker serving
both queues and a real beat whose stale-job recovery runs every 2 s (a job is stale after 5 s without a
heartbeat and with its lock free). The test reads the private database with plain psycopg.

"Nothing acknowledged is lost": every photo outcome a chunk had committed before the fault is in the final
result unchanged, every photo ends in a final state, and no photo got two footprints from the job.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.workers.fault_helpers import CHUNK_ENV, wait_until
from tests.workers.private_services import PrivatePostgres, PrivateRedis

pytestmark = [pytest.mark.slow]

REPO_ROOT = Path(__file__).resolve().parents[2]
N_PHOTOS = 12


class Stack:
    """The private database + broker with a worker and beat on them, and the job the world enqueued."""

    def __init__(self, pg: PrivatePostgres, redis: PrivateRedis, tmp: Path, db: str):
        self.pg, self.redis, self.tmp, self.db = pg, redis, tmp, db
        self.env = {
            **os.environ, **CHUNK_ENV,
            "DJANGO_SETTINGS_MODULE": "astroloc_platform.settings_test",
            "DATABASE_URL": pg.create_database(db),
            "TEST_CELERY_BROKER_URL": redis.url(0),
            "TEST_CACHE_URL": redis.url(1),
            "TEST_MEDIA_ROOT": str(tmp / "media"),
            "ASTROLOC_JOB_STALE_SECONDS": "5",
            "ASTROLOC_RECOVERY_INTERVAL_SECONDS": "2",
            "PYTHONUNBUFFERED": "1",
        }
        self.processes: list[subprocess.Popen[bytes]] = []
        self.world: dict[str, Any] = {}

    def build_world(self) -> None:
        out = subprocess.run([sys.executable, "-m", "tests.workers.private_world", str(N_PHOTOS)], cwd=REPO_ROOT,
                             env=self.env, capture_output=True, text=True, timeout=600)
        lines = [line for line in out.stdout.splitlines() if line.startswith("WORLD ")]
        assert out.returncode == 0 and lines, out.stdout[-3000:] + out.stderr[-3000:]
        self.world = json.loads(lines[-1][len("WORLD "):])

    def _spawn(self, name: str, args: list[str]) -> None:
        log = (self.tmp / f"{name}.log").open("ab")
        self.processes.append(subprocess.Popen([sys.executable, "-m", "celery", "-A", "astroloc_platform", *args],
                                               cwd=REPO_ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                               start_new_session=True))

    def start_celery(self) -> None:
        self._spawn("worker", ["worker", "-Q", "cpu,gpu", "-P", "solo", "-c", "1", "-n", f"restart-{self.db}@%h",
                               "--without-gossip", "--without-mingle", "-l", "info"])
        self._spawn("beat", ["beat", "-l", "info", "-s", str(self.tmp / "beat-schedule")])

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, 15)
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, 9)
                process.wait()

    def logs(self) -> str:
        return "\n".join(f"--- {p.name}\n" + p.read_text(errors="replace")[-4000:] for p in self.tmp.glob("*.log"))

    def query(self, sql: str, *params: Any) -> list[tuple]:
        """Run a read on the private database, retrying while it restarts."""
        deadline = time.monotonic() + 60
        while True:
            try:
                with self.pg.connect(self.db) as conn:
                    return conn.execute(sql, params).fetchall()
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    @property
    def job_id(self) -> int:
        return self.world["job_id"]

    def done(self) -> int:
        return int(self.query("SELECT coalesce(sum(done), 0) FROM core_jobchunk WHERE job_id = %s", self.job_id)[0][0])

    def outcomes(self) -> dict[str, dict]:
        out: dict[str, dict] = {}
        for (result,) in self.query("SELECT result FROM core_jobchunk WHERE job_id = %s", self.job_id):
            out.update(result.get("photos", {}))
        return out

    def job(self) -> dict[str, Any]:
        cols = ("status", "progress", "attempts", "error", "result")
        row = self.query(f"SELECT {', '.join(cols)} FROM core_job WHERE id = %s", self.job_id)[0]
        return dict(zip(cols, row, strict=True))

    def wait(self, predicate, what: str, timeout: float = 300.0) -> None:
        wait_until(predicate, what, timeout, interval=0.1, details=lambda: f"{self.job()}\n{self.logs()}")


@pytest.fixture
def stack(tmp_path) -> Iterator[Stack]:
    tmp_path.chmod(0o755)
    pg, redis = PrivatePostgres().init(), PrivateRedis().start()
    s = Stack(pg, redis, tmp_path, "astroloc_restart")
    try:
        yield s
    finally:
        s.stop()
        redis.destroy()
        pg.destroy()


def _run_through_fault(stack: Stack, fault) -> tuple[dict[str, dict], dict[str, Any]]:
    stack.build_world()
    stack.start_celery()
    stack.wait(lambda: stack.done() >= 4, "chunk 0 done and chunk 1 started")
    before = stack.outcomes()
    assert 4 <= len(before) < N_PHOTOS, len(before)
    fault()
    stack.wait(lambda: stack.job()["status"] in ("succeeded", "failed", "cancelled"), "the job to end", 400)
    return before, stack.job()


def _assert_nothing_lost(stack: Stack, before: dict[str, dict], job: dict[str, Any]) -> None:
    assert job["status"] == "succeeded", (job["error"], stack.logs())
    assert job["progress"] == 1.0 and job["attempts"] >= 2  # it resumed: the fault interrupted it
    photos = job["result"]["photos"]
    assert set(photos) == {str(pk) for pk in stack.world["photo_pks"]}
    for pk, outcome in before.items():
        assert photos[pk] == outcome  # committed before the fault: kept, not redone
    chunks = stack.query("SELECT status, done, size FROM core_jobchunk WHERE job_id = %s", stack.job_id)
    assert len(chunks) == 4 and all(status == "succeeded" and done == size for status, done, size in chunks)
    made = dict(stack.query("SELECT photo_id, count(*) FROM footprints_footprint WHERE job_id = %s GROUP BY photo_id",
                            stack.job_id))
    assert all(count == 1 for count in made.values())  # no duplicate rows
    statuses = dict(stack.query("SELECT id, status FROM photos_photo"))
    for pk, outcome in photos.items():
        assert statuses[int(pk)] == outcome["status"]
        assert (int(pk) in made) == (outcome["status"] == "localized")


def test_postgresql_crash_restart_mid_job_resumes_and_loses_nothing(stack):
    before, job = _run_through_fault(stack, lambda: stack.pg.crash_restart(down_seconds=1.0))
    _assert_nothing_lost(stack, before, job)


def test_redis_restart_losing_the_queue_mid_job_resumes_and_loses_nothing(stack):
    before, job = _run_through_fault(stack, lambda: stack.redis.crash_restart(down_seconds=2.0))
    _assert_nothing_lost(stack, before, job)
