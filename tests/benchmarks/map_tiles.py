"""Benchmark: what the map's data could be at N footprints: PostGIS vector tiles vs grid aggregation.

    BENCH_DATABASE_NAME=... python -m tests.benchmarks.map_tiles [--size 1000000] [--reuse]

On the benchmark database of ``tests.benchmarks.web_map`` (same rows, ``--reuse`` keeps them), in-process SQL
timings (the median of 3, after one warm-up) and sizes (uncompressed) of:

- ``ST_AsMVT`` tiles of the footprint polygons per z/x/y (``ST_AsMVTGeom``, extent 4096, buffer 64, public
  photos' current footprints), for a world tile at z2, a region tile at z5 and a city tile at z8;
- the live grid aggregation of ``apps.web.selectors`` (centroids per ~64-px cell, ``GROUP BY``) for the
  world at z2 and the region at z5;
- the materialized per-cell counts (``apps.web.mapcells``), rolled up to the same zooms.
"""

import argparse
import json
import os
import random
import statistics
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "astroloc_platform.settings_test")
os.environ["TEST_DATABASE_NAME"] = os.environ.get("BENCH_DATABASE_NAME", "bench_astroloc_web")

from django.db import connection

from tests.benchmarks.footprint_db import load, real_quads, schema_latest  # sets Django up: first

MVT = """WITH b AS (SELECT ST_TileEnvelope(%s, %s, %s) AS env), rows AS (
    SELECT ST_AsMVTGeom(ST_Transform(f.polygon, 3857), b.env, 4096, 64, true) AS geom, f.id, f.confidence, f.source
    FROM footprints_footprint f JOIN photos_photo p ON p.id = f.photo_id, b
    WHERE p.visibility = 'public' AND f.is_current AND f.polygon && ST_Transform(b.env, 4326))
SELECT ST_AsMVT(rows.*, 'footprints', 4096, 'geom') FROM rows"""

TILES = {"world z2 tile 2/2/1": (2, 2, 1), "region z5 tile 5/18/13": (5, 18, 13),
         "city z8 tile 8/150/107": (8, 150, 107)}
GRIDS = {"world z2 (whole world)": (2, None), "region z5 (30-40E, 25-35N)": (5, (30.0, 25.0, 40.0, 35.0))}


def timed(fn) -> tuple[float, object]:
    fn()
    runs = []
    for _ in range(3):
        start = time.perf_counter()
        out = fn()
        runs.append((time.perf_counter() - start) * 1000)
    return statistics.median(runs), out


def mvt(z: int, x: int, y: int) -> bytes:
    with connection.cursor() as cursor:
        cursor.execute(MVT, (z, x, y))
        return bytes(cursor.fetchone()[0])


def main() -> None:
    from apps.footprints.selectors import FootprintFilter
    from apps.web.mapcells import map_aggregates_refresh, map_cells_rolled_up
    from apps.web.selectors import _grid_cells, map_footprints

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--reuse", action="store_true")
    args = parser.parse_args()
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=True, serialize=False)
    load(args.size, real_quads(), random.Random(7), reuse=args.reuse)
    schema_latest()
    map_aggregates_refresh(force=True)
    print(f"{args.size:,} footprints; SQL in process, median of 3 after a warm-up; sizes uncompressed.\n")
    print("| data | method | ms | KiB | items |")
    print("|---|---|---:|---:|---:|")
    for name, (z, x, y) in TILES.items():
        ms, tile = timed(lambda z=z, x=x, y=y: mvt(z, x, y))
        print(f"| {name} | ST_AsMVT polygons | {ms:.0f} | {len(tile) / 1024:.0f} | tile |", flush=True)
    for name, (zoom, bbox) in GRIDS.items():
        qs = map_footprints(user=None, filters=FootprintFilter(bbox=bbox))
        ms, cells = timed(lambda qs=qs, zoom=zoom: _grid_cells(qs, zoom))
        print(f"| {name} | live grid (GROUP BY) | {ms:.0f} | {len(json.dumps(cells)) / 1024:.0f} | {len(cells)} |",
              flush=True)
        ms, cells = timed(lambda zoom=zoom, bbox=bbox: map_cells_rolled_up(user=None, zoom=zoom, bbox=bbox))
        print(f"| {name} | materialized cells, rolled up | {ms:.1f} | {len(json.dumps(cells)) / 1024:.0f} | "
              f"{len(cells)} |", flush=True)


if __name__ == "__main__":
    main()
