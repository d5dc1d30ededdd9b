"""Benchmark: the home map at N footprints, this tree against a baseline ref, time to first draw and bytes.

    python -m tests.benchmarks.web_map [--size 100000] [--runs 3] [--baseline REF] [--reuse]

Loads N footprints (real EarthLoc shapes, jittered; ``tests.benchmarks.footprint_db``) into a separate
database (``BENCH_DATABASE_NAME``, default ``bench_astroloc_web``; ``--reuse`` keeps rows already there).
Then for the baseline (its code exported from git, its schema: our extra migrations unapplied) and for this
tree (all migrations, then ``manage.py refresh_map_aggregates``, as celery beat would have done): collect
static files, start gunicorn (DEBUG off, WhiteNoise, a fresh cache key prefix so no earlier run's cache
answers) and open typical map views in Debian's Chromium through Playwright, each load in a new browser
context (empty browser cache).

- First draw: navigation start to the map marking its first footprint response drawn (``#map[data-loaded]``).
  "cold" is the first load of the view after the server started (no map cache), "warm" the median of the
  other runs.
- Bytes: every response body the page fetched (HTML, CSS, JS, world layer, map data) as sent (gzip:
  ``DataGZipMiddleware``), and the map data alone (``/map/data``) as sent.
"""

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "astroloc_platform.settings_test")
# Playwright's sync API runs an event loop in this thread; the ORM calls between loads are deliberate.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
# Always its own database (never the test database named in the environment): it is truncated and refilled.
os.environ["TEST_DATABASE_NAME"] = os.environ.get("BENCH_DATABASE_NAME", "bench_astroloc_web")

from django.db import connection

from tests.benchmarks.footprint_db import (
    REPO,
    baseline_tree,
    free_port,
    load,
    real_quads,
    schema_for,
    schema_latest,
    server_env,
    start_gunicorn,
)

VIEWS = {  # name -> query string of the home page; the baseline opens on "world, z2", whose grid is then cached
    "world, z2": "lat=20&lon=0&z=2",
    "continent, z4": "lat=25&lon=20&z=4",
    "region, z5": "lat=30&lon=31&z=5",
    "city, z8 (polygons)": "lat=30&lon=31&z=8",
    "region z5 + filter cloud<20": "lat=30&lon=31&z=5&cloud_max=20",
    "opening view (/, no view in the URL)": "",
}


def start_server(port: int, static_root: str, tree: Path) -> subprocess.Popen:
    env = {"DJANGO_STATIC_ROOT": static_root, "DJANGO_SECURE_SSL_REDIRECT": "0",
           "CACHE_KEY_PREFIX": f"bench-web-{os.getpid()}-{time.time_ns()}"}
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"], cwd=tree,
                   env=server_env(tree, env), check=True)
    if tree == REPO:  # what celery beat does in production once the rows are in
        subprocess.run([sys.executable, "manage.py", "refresh_map_aggregates", "--force"], cwd=tree,
                       env=server_env(tree, env), check=True, stdout=sys.stderr)
    return start_gunicorn(port, ready_path="/health", env=env, tree=tree)


def measure(browser, url: str, screenshot: Path | None = None) -> dict:
    """One cold browser load: ms to first draw, bytes sent (all, map data), what the map drew."""
    context = browser.new_context(viewport={"width": 1366, "height": 800})
    page = context.new_page()
    finished = []
    page.on("requestfinished", lambda request: finished.append(request))
    page.goto(url)
    page.wait_for_selector("#map[data-loaded]", timeout=180_000)
    ms = page.evaluate("performance.now()")
    drawn = f"{page.get_attribute('#map', 'data-loaded')}: {page.inner_text('#map-status')}"
    page.wait_for_load_state("networkidle")
    if screenshot is not None:
        page.screenshot(path=str(screenshot))
    sent = [("/map/data" in r.url, r.sizes()["responseBodySize"]) for r in finished]
    context.close()
    return {"ms": ms, "drawn": drawn, "sent": sum(n for _, n in sent), "data_sent": sum(n for d, n in sent if d)}


def kib(n: int) -> str:
    return f"{n / 1024:.1f}"


def run_side(browser, tree: Path, label: str, runs: int) -> dict[str, dict]:
    out = {}
    port = free_port()
    with tempfile.TemporaryDirectory() as static_root:
        server = start_server(port, static_root, tree)
        try:
            shots = REPO / "var" / "screenshots"
            shots.mkdir(parents=True, exist_ok=True)
            for i, (name, query) in enumerate(VIEWS.items()):
                url = f"http://127.0.0.1:{port}/?{query}"
                loads = [measure(browser, url) for _ in range(runs - 1)]
                loads.append(measure(browser, url, screenshot=shots / f"bench-map-{label}-{i + 1}.png"))
                out[name] = {"cold": loads[0]["ms"], "warm": statistics.median(r["ms"] for r in loads[1:]),
                             **{k: loads[-1][k] for k in ("sent", "data_sent", "drawn")}}
                print(f"<!-- {label} {name}: {out[name]} -->", file=sys.stderr, flush=True)
        finally:
            server.terminate()
            server.wait(timeout=20)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3, help="loads per view (the first is the cold one)")
    parser.add_argument("--baseline", default="merge-base", help="git ref to compare with (default: where this "
                        "branch left main, so both sides have the same migrations up to this branch's own)")
    parser.add_argument("--reuse", action="store_true", help="keep the rows if the database already holds N")
    args = parser.parse_args()
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=True,
                                        serialize=False)  # never dump a million rows to JSON
    t0 = time.perf_counter()
    loaded = load(args.size, real_quads(), random.Random(7), reuse=args.reuse)
    print(f"<!-- {'loaded' if loaded else 'reused'} {args.size} footprints in {time.perf_counter() - t0:.1f} s -->",
          file=sys.stderr)
    base = baseline_tree(args.baseline)

    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"),
                                     args=["--no-sandbox", "--disable-gpu"])
        schema_for(base)
        before = run_side(browser, base, "baseline", args.runs)
        t0 = time.perf_counter()
        schema_latest()
        print(f"<!-- migrated to this tree in {time.perf_counter() - t0:.1f} s -->", file=sys.stderr)
        after = run_side(browser, REPO, "ours", args.runs)
        browser.close()

    print(f"{args.size:,} footprints; baseline = {args.baseline} ({base.name}), ours = this tree. First draw: "
          f"cold = first load after the server started, warm = median of {args.runs - 1} more; every load with "
          "an empty browser cache. KiB as sent (gzip).\n")
    print("| view | cold ms baseline | cold ms ours | ours/baseline | warm ms baseline | warm ms ours | "
          "map data KiB baseline | map data KiB ours | page KiB baseline | page KiB ours | ours drew |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for name in VIEWS:
        b, o = before[name], after[name]
        print(f"| {name} | {b['cold']:.0f} | {o['cold']:.0f} | {o['cold'] / b['cold']:.2f} | {b['warm']:.0f} | "
              f"{o['warm']:.0f} | {kib(b['data_sent'])} | {kib(o['data_sent'])} | {kib(b['sent'])} | "
              f"{kib(o['sent'])} | {o['drawn']} |", flush=True)


if __name__ == "__main__":
    main()
