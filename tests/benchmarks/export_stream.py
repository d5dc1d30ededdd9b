"""Benchmark: bulk footprint export, streamed (ours) vs building the whole file in memory (baseline).

    python -m tests.benchmarks.export_stream [--sizes 20000,100000]

Loads N public footprints (the real EarthLoc shapes, jittered, repeated; ``tests.benchmarks.footprint_db``)
into a separate database by COPY, then exports all of them as CSV in-process two ways and reports the peak
Python heap (tracemalloc) and the time: ours, ``apps.footprints.bulk_export.export_stream`` (server-side
cursor, 2,000 rows at a time, the bytes consumed as a response would send them), and the baseline that
reads every row first and joins the file in memory. Also the GeoPackage (``export_to_file``, ogr2ogr) time.
"""

import argparse
import os
import random
import sys
import time
import tracemalloc

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "astroloc_platform.settings_test")
os.environ.setdefault("TEST_DATABASE_NAME", "gisio_bench_export")

import django

django.setup()

from django.db import connection  # noqa: E402

from apps.footprints.bulk_export import _csv_lines, export_rows, export_stream, export_to_file  # noqa: E402
from apps.footprints.models import Footprint  # noqa: E402
from tests.benchmarks.footprint_db import load, real_quads  # noqa: E402


def measure(fn, qs) -> tuple[float, float, int]:
    """(peak heap MiB, seconds, bytes) of ``fn(qs)``, which returns the number of bytes it produced."""
    tracemalloc.start()
    start = time.perf_counter()
    size = fn(qs)
    seconds = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20, seconds, size


def streamed(qs) -> int:
    return sum(len(part) for part in export_stream(qs, "csv"))


def in_memory(qs) -> int:
    rows = list(export_rows(qs))  # every row first, as a naive view would
    return len("".join(_csv_lines(iter(rows))).encode())


def geopackage(qs) -> int:
    with export_to_file(qs, "gpkg") as fh:
        return len(fh.read())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="20000,100000")
    args = parser.parse_args()
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=True)
    rng = random.Random(7)
    quads = real_quads()
    print("| footprints | CSV bytes | streamed peak MiB | in-memory peak MiB | memory ratio | streamed s | "
          "in-memory s | GeoPackage s |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for n in [int(v) for v in args.sizes.split(",")]:
        t0 = time.perf_counter()
        load(n, quads, rng)
        print(f"<!-- loaded {n} in {time.perf_counter() - t0:.1f} s -->", file=sys.stderr)
        qs = Footprint.objects.filter(is_current=True)
        ours_mib, ours_s, size = measure(streamed, qs)
        base_mib, base_s, base_size = measure(in_memory, qs)
        assert size == base_size, (size, base_size)
        start = time.perf_counter()
        geopackage(qs)
        gpkg_s = time.perf_counter() - start
        print(f"| {n:,} | {size:,} | {ours_mib:.1f} | {base_mib:.1f} | {base_mib / ours_mib:.1f}x | {ours_s:.1f} | "
              f"{base_s:.1f} | {gpkg_s:.1f} |", flush=True)


if __name__ == "__main__":
    main()
