"""Benchmark: footprint bbox queries through the REST API, DB-generated GeoJSON vs the serializer.

    python -m tests.benchmarks.api_bbox [--sizes 100000,1000000] [--requests 40]

Loads N footprints (the 17,763 real EarthLoc footprints, jittered, repeated) into a separate database by
COPY, starts gunicorn on loopback against it, and times GET /api/v1/footprints?bbox=...&limit=L (p50/p95,
sequential requests). The same pages are then built in-process both ways: PostgreSQL-generated GeoJSON
(json_build_object + ST_AsGeoJSON, joined as text) and djangorestframework-gis's serializer (a GEOS object
per row); the ratio is serializer time / database time. Bounded: a fixed number of requests per size.
"""

import argparse
import csv
import io
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "astroloc_platform.settings_test")
os.environ.setdefault("TEST_DATABASE_NAME", "bench_astroloc_api")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
CSV = Path(os.environ.get("ASTROLOC_REAL_FOOTPRINTS",
                          REPO.parent / "shared" / "real-footprints" / "iss_footprints_earthloc.csv"))


def real_quads() -> list[list[tuple[float, float]]]:
    quads = []
    with CSV.open() as f:
        for row in csv.DictReader(f):
            corners = [(float(row[f"{c}_LON"]), float(row[f"{c}_LAT"])) for c in ("UL", "UR", "LR", "LL")]
            if max(x for x, _ in corners) - min(x for x, _ in corners) < 90:  # skip antimeridian-crossing ones
                quads.append(corners)
    return quads


def load(n: int, quads, rng: random.Random) -> None:
    """COPY n photos and their current footprints (jittered real shapes) into the empty benchmark tables."""
    with connection.cursor() as cur:
        cur.execute("TRUNCATE footprints_footprint, photos_photo RESTART IDENTITY CASCADE")
    photos, footprints = io.StringIO(), io.StringIO()
    for i in range(n):
        quad = quads[i % len(quads)]
        dx, dy = rng.uniform(-3, 3), rng.uniform(-3, 3)
        dx = max(min(dx, 179.9 - max(x for x, _ in quad)), -179.9 - min(x for x, _ in quad))
        dy = max(min(dy, 89.9 - max(y for _, y in quad)), -89.9 - min(y for _, y in quad))
        ring = [(x + dx, y + dy) for x, y in quad] + [(quad[0][0] + dx, quad[0][1] + dy)]
        wkt = "SRID=4326;POLYGON((" + ",".join(f"{x:.6f} {y:.6f}" for x, y in ring) + "))"
        mission = f"ISS{(i % 70) + 1:03d}"
        photos.write(f"{mission}-E-{i + 1}\t{mission}\tphotos/original/{i}.jpg\t\t\t\t"
                     f"2020-01-01T00:00:00Z\t\t\timported\t\tpublic\t2024-01-01T00:00:00Z\t2024-01-01T00:00:00Z\t"
                     f"\t{rng.uniform(0, 100):.1f}\t{rng.choice([50, 180, 400, 800])}\n")
        footprints.write(f"{i + 1}\t{wkt}\timported\t\tt\t2024-01-01T00:00:00Z\t{rng.random():.3f}\n")
    with connection.cursor() as cur:
        with cur.copy("COPY photos_photo (photo_id, mission, image, web_image, thumbnail, checksum, captured_at,"
                      " camera, feature_text, status, status_reason, visibility, created_at, updated_at, tilt_class,"
                      " cloud_pct, focal_length_mm) FROM STDIN") as copy:
            copy.write(photos.getvalue())
        with cur.copy("COPY footprints_footprint (photo_id, polygon, source, note, is_current, created_at,"
                      " confidence) FROM STDIN") as copy:
            copy.write(footprints.getvalue())
        cur.execute("ANALYZE photos_photo")
        cur.execute("ANALYZE footprints_footprint")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int) -> subprocess.Popen:
    db = settings.DATABASES["default"]
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "astroloc_platform.settings", "DJANGO_DEBUG": "0",
           "DATABASE_URL": f"postgis://{db.get('USER') or 'postgres'}@{db.get('HOST') or '127.0.0.1'}:"
                           f"{db.get('PORT') or 5432}/{db['NAME']}",
           "API_THROTTLE_ANON": "10000000/min", "CACHE_KEY_PREFIX": "bench"}
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "astroloc_platform.wsgi", "-b", f"127.0.0.1:{port}",
                               "-w", "2", "--log-level", "warning"], cwd=REPO, env=env)
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/footprints?limit=1", timeout=2).read()
            return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise RuntimeError("gunicorn did not start")


def bboxes(quads, rng: random.Random, count: int, size: float) -> list[tuple[float, ...]]:
    out = []
    for _ in range(count):
        x, y = quads[rng.randrange(len(quads))][0]
        x, y = max(min(x, 179 - size), -179), max(min(y, 89 - size), -89)
        out.append((x, y, x + size, y + size))
    return out


def pct(values: list[float], p: float) -> float:
    return statistics.quantiles(values, n=100)[int(p) - 1] if len(values) > 2 else max(values)


def http_latencies(port: int, boxes, limit: int) -> tuple[list[float], int]:
    times, features = [], 0
    for box in boxes:
        url = f"http://127.0.0.1:{port}/api/v1/footprints?bbox={','.join(f'{v:.4f}' for v in box)}&limit={limit}"
        start = time.perf_counter()
        body = urllib.request.urlopen(url, timeout=60).read()
        times.append((time.perf_counter() - start) * 1000)
        features += len(json.loads(body)["features"])
    return times, features


def inprocess_ratio(boxes, limit: int) -> tuple[float, float]:
    from rest_framework.renderers import JSONRenderer

    from apps.api.serializers import FootprintSerializer
    from apps.footprints.selectors import FootprintFilter, footprint_feature_text, footprints_filtered

    db_times, ser_times = [], []
    for box in boxes:
        qs = footprints_filtered(user=None, filters=FootprintFilter(bbox=box)).order_by("pk")
        start = time.perf_counter()
        rows = list(qs.annotate(feature=footprint_feature_text()).values_list("feature", flat=True)[:limit])
        body = '{"type":"FeatureCollection","features":[' + ",".join(rows) + "]}"
        db_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        data = FootprintSerializer(list(qs.select_related("photo")[:limit]), many=True).data
        body2 = JSONRenderer().render(data)
        ser_times.append(time.perf_counter() - start)
        assert len(body) > 0 and len(body2) > 0
    return statistics.median(db_times) * 1000, statistics.median(ser_times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="100000")
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--bbox-deg", type=float, default=10.0, help="side of the query box, degrees")
    args = parser.parse_args()
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=True)
    rng = random.Random(7)
    quads = real_quads()
    print("| footprints | page | HTTP p50 ms | HTTP p95 ms | mean features | DB GeoJSON ms | serializer ms | ratio |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for n in [int(v) for v in args.sizes.split(",")]:
        t0 = time.perf_counter()
        load(n, quads, rng)
        print(f"<!-- loaded {n} in {time.perf_counter() - t0:.1f} s -->", file=sys.stderr)
        port = free_port()
        server = start_server(port)
        try:
            for limit in (100, 1000):
                boxes = bboxes(quads, rng, args.requests, args.bbox_deg)
                http_latencies(port, boxes[:3], limit)  # warm up
                times, features = http_latencies(port, boxes, limit)
                db_ms, ser_ms = inprocess_ratio(boxes[: max(5, args.requests // 4)], limit)
                print(f"| {n:,} | {limit} | {pct(times, 50):.1f} | {pct(times, 95):.1f} | "
                      f"{features / len(boxes):.0f} | {db_ms:.1f} | {ser_ms:.1f} | {ser_ms / db_ms:.1f}x |", flush=True)
        finally:
            server.terminate()
            server.wait(timeout=20)


if __name__ == "__main__":
    main()
