"""Benchmark: footprint bbox queries through the REST API, this tree against a baseline ref; DB-generated
GeoJSON vs the serializer.

    python -m tests.benchmarks.api_bbox [--sizes 100000,1000000] [--requests 40] [--baseline REF] [--reuse]

Loads N footprints (the 17,763 real EarthLoc footprints, jittered, repeated; ``tests.benchmarks.footprint_db``)
by COPY into a separate database per size (``BENCH_DATABASE_NAME`` + ``_<N>``, default ``bench_astroloc_api``;
``--reuse`` keeps rows already there), starts gunicorn on loopback against it, once with the baseline's code
and schema and once with this tree's, and times the same GET /api/v1/footprints?bbox=...&limit=L requests
on both (p50/p95, sequential requests, uncompressed). The same pages are then
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
# Never the test database named in the environment: each size's database is truncated and refilled.
os.environ["TEST_DATABASE_NAME"] = os.environ.get("BENCH_DATABASE_NAME", "bench_astroloc_api")

from django.db import connection

from tests.benchmarks.footprint_db import (
    REPO,
    baseline_tree,
    free_port,
    load,
    real_quads,
    schema_for,
    schema_latest,
    start_gunicorn,
)

DATABASE_PREFIX = os.environ["TEST_DATABASE_NAME"]

def start_server(port: int, tree) -> subprocess.Popen:
    return start_gunicorn(port, ready_path="/api/v1/footprints?limit=1", tree=tree,
                          env={"API_THROTTLE_ANON": "10000000/min", "CACHE_KEY_PREFIX": "bench"})


def use_database(name: str) -> None:
    """Point this process at the benchmark database ``name`` (created, migrated, kept)."""
    from django.conf import settings

    connection.close()
    settings.DATABASES["default"]["TEST"]["NAME"] = name
    connection.settings_dict["TEST"]["NAME"] = name
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=True, serialize=False)


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
    parser.add_argument("--baseline", default="merge-base", help="git ref to compare with (default: where this "
                        "branch left main, so both sides have the same migrations up to this branch's own)")
    parser.add_argument("--reuse", action="store_true", help="keep the rows if a size's database already holds N")
    args = parser.parse_args()
    base = baseline_tree(args.baseline)
    quads = real_quads()
    print(f"baseline = {args.baseline} ({base.name}), ours = this tree; the same requests on both.\n")
    print("| footprints | page | p50 ms baseline | p95 ms baseline | p50 ms ours | p95 ms ours | p95 ours/baseline "
          "| mean features | DB GeoJSON ms | serializer ms | ratio |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for n in [int(v) for v in args.sizes.split(",")]:
        use_database(f"{DATABASE_PREFIX}_{n}")
        rng = random.Random(7)
        t0 = time.perf_counter()
        loaded = load(n, quads, rng, reuse=args.reuse)
        print(f"<!-- {'loaded' if loaded else 'reused'} {n} in {time.perf_counter() - t0:.1f} s -->", file=sys.stderr)
        boxes = {limit: bboxes(quads, rng, args.requests, args.bbox_deg) for limit in (100, 1000)}
        results = {}
        for side, tree in (("baseline", base), ("ours", REPO)):
            schema_for(base) if side == "baseline" else schema_latest()
            port = free_port()
            server = start_server(port, tree)
            try:
                for limit, page_boxes in boxes.items():
                    http_latencies(port, page_boxes[:3], limit)  # warm up
                    results[side, limit] = http_latencies(port, page_boxes, limit)
            finally:
                server.terminate()
                server.wait(timeout=20)
        for limit, page_boxes in boxes.items():
            (before, _), (after, features) = results["baseline", limit], results["ours", limit]
            db_ms, ser_ms = inprocess_ratio(page_boxes[: max(5, args.requests // 4)], limit)
            print(f"| {n:,} | {limit} | {pct(before, 50):.1f} | {pct(before, 95):.1f} | {pct(after, 50):.1f} | "
                  f"{pct(after, 95):.1f} | {pct(after, 95) / pct(before, 95):.2f} | {features / len(page_boxes):.0f} | "
                  f"{db_ms:.1f} | {ser_ms:.1f} | {ser_ms / db_ms:.1f}x |", flush=True)


if __name__ == "__main__":
    main()
