"""Benchmark: footprint bbox queries through the REST API, DB-generated GeoJSON vs the serializer.

    python -m tests.benchmarks.api_bbox [--sizes 100000,1000000] [--requests 40]

Loads N footprints (the 17,763 real EarthLoc footprints, jittered, repeated; ``tests.benchmarks.footprint_db``)
into a separate database by COPY, starts gunicorn on loopback against it, and times
GET /api/v1/footprints?bbox=...&limit=L (p50/p95, sequential requests, uncompressed). The same pages are then
built in-process both ways: PostgreSQL-generated GeoJSON (json_build_object + ST_AsGeoJSON, joined as text)
and djangorestframework-gis's serializer (a GEOS object per row);
the ratio is serializer time / database time. Bounded: a fixed number of requests per size.
"""

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
import urllib.request

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "astroloc_platform.settings_test")
os.environ.setdefault("TEST_DATABASE_NAME", "bench_astroloc_api")

from django.db import connection

from tests.benchmarks.footprint_db import free_port, load, real_quads, start_gunicorn


def start_server(port: int) -> subprocess.Popen:
    return start_gunicorn(port, ready_path="/api/v1/footprints?limit=1",
                          env={"API_THROTTLE_ANON": "10000000/min", "CACHE_KEY_PREFIX": "bench"})


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
