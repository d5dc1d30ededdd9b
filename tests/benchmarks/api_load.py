"""Benchmark: REST API latency with N concurrent clients, idle vs while a localize batch runs on the machine.

    python -m tests.benchmarks.api_load [--clients 8] [--requests 40] [--photos 48] [--footprints 20000]

Builds its own database (``TEST_DATABASE_NAME``, default ``bench_astroloc_load``): ``--footprints`` imported
footprints (jittered real EarthLoc shapes, as in api_bbox) for the queries to find, plus the localize world of
the fault tests (a 4 x 4 tile grid embedded under an active version and ``--photos`` photos cut from it).
Starts gunicorn (2 workers, loopback) and a Celery worker on a PRIVATE Redis (so no one else's worker takes
the job), then runs the same client load twice: idle (baseline: no job) and during a localize job over the
photos (ours under load; the measurement starts once the job runs and the job must still be running at the
end, else the row says so). Each client sends its requests back to back, cycling through a bbox search, the
photo list, the job's status and the health report, all anonymous (throttling lifted). Prints p50/p95/max,
throughput and errors per phase and the load/idle ratios. Bounded: clients x requests per phase.
"""

import argparse
import os
import random
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "astroloc_platform.settings_test")
os.environ.setdefault("TEST_DATABASE_NAME", "bench_astroloc_load")

import django

from tests.workers.private_services import PrivateRedis, free_port

REPO = Path(__file__).resolve().parents[2]


def _db_url() -> str:
    from django.conf import settings

    db = settings.DATABASES["default"]
    return (f"postgis://{db.get('USER') or 'postgres'}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/"
            f"{db['NAME']}")


def _env() -> dict[str, str]:
    from django.conf import settings

    return {**os.environ, "DATABASE_URL": _db_url(), "TEST_MEDIA_ROOT": str(settings.MEDIA_ROOT),
            "API_THROTTLE_ANON": "100000000/min", "DJANGO_DEBUG": "0", "PYTHONUNBUFFERED": "1",
            "ASTROLOC_LOCALIZE_CHUNK_PHOTOS": "8"}


def build_world(n_footprints: int, n_photos: int) -> list[int]:
    """Imported footprints for the queries, then the localize world; returns the photos to localize."""
    from django.db import connection

    from apps.core.models import Job
    from apps.imagery.models import Mosaic
    from apps.models_registry.models import ModelVersion
    from tests.benchmarks.api_bbox import load, real_quads
    from tests.workers.fault_helpers import localize_world

    with connection.cursor() as cur:
        cur.execute(f"TRUNCATE {Job._meta.db_table}, {ModelVersion._meta.db_table}, {Mosaic._meta.db_table} "
                    "RESTART IDENTITY CASCADE")
    load(n_footprints, real_quads(), random.Random(7))
    with connection.cursor() as cur:  # free the ids the test factories give the world's photos
        cur.execute("UPDATE photos_photo SET photo_id = 'X' || photo_id, mission = 'X' || mission")
    _, photos = localize_world(n_photos, "load")
    return [p.pk for p in photos]


def spawn(args: list[str], log: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", *args], cwd=REPO, env=_env(), stdout=log.open("ab"),
                            stderr=subprocess.STDOUT, start_new_session=True)


def wait_http(url: str, what: str) -> None:
    for _ in range(300):
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{what} did not answer at {url}")


def run_clients(base: str, clients: int, requests: int, job_id: int, boxes: list[str]) -> tuple[list[float], int]:
    """Every client sends ``requests`` requests back to back; returns all latencies (ms) and the errors."""
    urls = [f"{base}/api/v1/footprints?bbox={{box}}&limit=100", f"{base}/api/v1/photos?limit=50",
            f"{base}/api/v1/jobs/{job_id}", f"{base}/health"]
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()

    def client(seed: int) -> None:
        rng = random.Random(seed)
        for i in range(requests):
            url = urls[(seed + i) % len(urls)].replace("{box}", rng.choice(boxes))
            start = time.perf_counter()
            try:
                urllib.request.urlopen(url, timeout=60).read()
                ok = True
            except urllib.error.HTTPError as exc:
                ok = exc.code in (401, 403)  # the job detail may need a login: still an answered request
            except OSError:
                ok = False
            with lock:
                latencies.append((time.perf_counter() - start) * 1000)
                errors[0] += 0 if ok else 1

    threads = [threading.Thread(target=client, args=(s,)) for s in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, errors[0]


def pct(values: list[float], p: int) -> float:
    return statistics.quantiles(values, n=100)[p - 1] if len(values) > 2 else max(values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=40, help="per client and phase")
    parser.add_argument("--photos", type=int, default=48)
    parser.add_argument("--footprints", type=int, default=20000)
    args = parser.parse_args()
    redis = PrivateRedis().start()  # the job's broker: no one else's worker can take it
    os.environ["TEST_CELERY_BROKER_URL"] = redis.url(0)
    os.environ["TEST_CACHE_URL"] = redis.url(1)
    try:
        measure(args)
    finally:
        redis.destroy()


def measure(args: argparse.Namespace) -> None:
    django.setup()
    from django.conf import settings
    from django.db import connection

    from apps.core.constants import JobKind
    from apps.core.models import Job
    from apps.core.services import job_enqueue

    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=True)
    t0 = time.perf_counter()
    photo_pks = build_world(args.footprints, args.photos)
    print(f"<!-- world built in {time.perf_counter() - t0:.1f} s -->", file=sys.stderr)
    logs = Path(settings.MEDIA_ROOT)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = spawn(["gunicorn", "astroloc_platform.wsgi", "-b", f"127.0.0.1:{port}", "-w", "2",
                    "--log-level", "warning"], logs / "gunicorn.log")
    worker = spawn(["celery", "-A", "astroloc_platform", "worker", "-Q", "cpu,gpu", "-P", "solo", "-c", "1",
                    "-n", "bench-load@%h", "--without-gossip", "--without-mingle", "-l", "warning"],
                   logs / "worker.log")
    rng = random.Random(3)
    boxes = [f"{x:.3f},{y:.3f},{x + 10:.3f},{y + 10:.3f}"
             for x, y in ((rng.uniform(-170, 160), rng.uniform(-60, 50)) for _ in range(64))]
    try:
        wait_http(f"{base}/health", "gunicorn")
        run_clients(base, 2, 4, 0, boxes)  # warm up both gunicorn workers
        idle, idle_errors = run_clients(base, args.clients, args.requests, 0, boxes)
        job = job_enqueue(kind=JobKind.LOCALIZE, parameters={"photo_ids": photo_pks})
        deadline = time.monotonic() + 300
        while Job.objects.get(pk=job.pk).status != "running" or Job.objects.get(pk=job.pk).progress <= 0.0:
            if time.monotonic() > deadline:
                raise RuntimeError(f"localize job never ran; see {logs / 'worker.log'}")
            time.sleep(0.1)
        loaded, loaded_errors = run_clients(base, args.clients, args.requests, job.pk, boxes)
        job.refresh_from_db()
        during = job.status == "running"
        progress = job.progress
    finally:
        for process in (server, worker):  # the worker may be mid-chunk: a benchmark need not wait for it
            os.killpg(process.pid, 15)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, 9)
                process.wait()
    print(f"{args.clients} concurrent clients x {args.requests} requests on loopback (gunicorn 2 workers, "
          f"{os.cpu_count()} CPUs); localize job over {len(photo_pks)} photos; world: {args.footprints:,} "
          "imported footprints")
    print()
    print("| phase | requests | p50 ms | p95 ms | max ms | req/s | errors |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    rows = {}
    for name, lat, errs in (("idle (baseline)", idle, idle_errors), ("during localize batch (ours)", loaded,
                                                                      loaded_errors)):
        total_s = sum(lat) / 1000 / args.clients
        rows[name] = (pct(lat, 50), pct(lat, 95), max(lat))
        print(f"| {name} | {len(lat)} | {rows[name][0]:.1f} | {rows[name][1]:.1f} | {rows[name][2]:.1f} | "
              f"{len(lat) / total_s:.1f} | {errs} |")
    (i50, i95, imax), (l50, l95, lmax) = rows.values()
    print(f"| ratio load / idle | | {l50 / i50:.2f}x | {l95 / i95:.2f}x | {lmax / imax:.2f}x | | |")
    print()
    print(f"job still running when the load phase ended: {during} (progress {progress:.0%})")


if __name__ == "__main__":
    main()
