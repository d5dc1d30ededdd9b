"""Benchmark: the home map with 100k footprints, time to first draw and bytes downloaded per view.

    python -m tests.benchmarks.web_map [--size 100000] [--runs 3]

Loads N footprints (real EarthLoc shapes, jittered; ``tests.benchmarks.footprint_db``) into a separate
database, collects static files, starts gunicorn (DEBUG off, WhiteNoise, a fresh cache key prefix so no earlier
run's cached map grid answers) and opens typical map views in Debian's Chromium through Playwright, each load
in a new browser context (empty browser cache).

- First draw: navigation start to the map marking its first footprint response drawn (``#map[data-loaded]``).
  "cold" is the first load of the view after the server started (the world grid of zooms <= 4 not cached
  yet), "warm" the median of the other runs (the grid from the cache; PostgreSQL's buffers warm for all).
- Bytes: every response body the page fetched (HTML, CSS, JS, map data) as sent (gzip: ``DataGZipMiddleware``
  compresses JSON, JS and CSS, never HTML) and decoded (what the same page cost without gzip), and the map
  data alone both ways.
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
# Always its own database (never the test database named in the environment): it is truncated and refilled.
os.environ["TEST_DATABASE_NAME"] = os.environ.get("BENCH_DATABASE_NAME", "bench_astroloc_web")

from django.db import connection

from tests.benchmarks.footprint_db import REPO, free_port, load, real_quads, start_gunicorn

VIEWS = {  # name -> query string of the home page
    "world, z2 (cells, cached grid)": "lat=20&lon=0&z=2",
    "continent, z4 (cells, cached grid)": "lat=25&lon=20&z=4",
    "region, z5 (cells)": "lat=30&lon=31&z=5",
    "city, z8 (polygons)": "lat=30&lon=31&z=8",
    "region z5 + filter cloud<20": "lat=30&lon=31&z=5&cloud_max=20",
}


def start_server(port: int, static_root: str) -> subprocess.Popen:
    env = {"DJANGO_STATIC_ROOT": static_root, "DJANGO_SECURE_SSL_REDIRECT": "0",
           "CACHE_KEY_PREFIX": f"bench-web-{os.getpid()}-{time.time_ns()}"}
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"], cwd=REPO,
                   env={**os.environ, "DJANGO_SETTINGS_MODULE": "astroloc_platform.settings", **env}, check=True)
    return start_gunicorn(port, ready_path="/health", env=env)


def measure(browser, url: str, screenshot: Path | None = None) -> dict:
    """One cold browser load: ms to first draw, bytes sent and decoded (all, map data), what the map drew."""
    context = browser.new_context(viewport={"width": 1366, "height": 800})
    page = context.new_page()
    finished = []
    page.on("requestfinished", lambda request: finished.append(request))
    page.goto(url)
    page.wait_for_selector("#map[data-loaded]", timeout=120_000)
    ms = page.evaluate("performance.now()")
    drawn = f"{page.get_attribute('#map', 'data-loaded')}: {page.inner_text('#map-status')}"
    page.wait_for_load_state("networkidle")
    if screenshot is not None:
        page.screenshot(path=str(screenshot))
    rows = []
    for request in finished:
        response = request.response()
        rows.append(("/map/data" in request.url, request.sizes()["responseBodySize"],
                     len(response.body()) if response is not None else 0))
    context.close()
    return {"ms": ms, "drawn": drawn,
            "sent": sum(r[1] for r in rows), "decoded": sum(r[2] for r in rows),
            "data_sent": sum(r[1] for r in rows if r[0]), "data_decoded": sum(r[2] for r in rows if r[0])}


def kib(n: int) -> str:
    return f"{n / 1024:.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3, help="loads per view (the first is the cold one)")
    args = parser.parse_args()
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=True)
    t0 = time.perf_counter()
    load(args.size, real_quads(), random.Random(7))
    print(f"<!-- loaded {args.size} footprints in {time.perf_counter() - t0:.1f} s -->", file=sys.stderr)

    from playwright.sync_api import sync_playwright

    port = free_port()
    with tempfile.TemporaryDirectory() as static_root:
        server = start_server(port, static_root)
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"),
                                             args=["--no-sandbox", "--disable-gpu"])
                print(f"{args.size:,} footprints; first draw: cold = first load after the server started, "
                      f"warm = median of {args.runs - 1} more; every load with an empty browser cache\n")
                print("| view | first draw cold ms | warm ms | warm/cold | page KiB gzip | page KiB raw | gzip/raw "
                      "| map data KiB gzip | map data KiB raw | gzip/raw | drawn |")
                print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
                shots = REPO / "var" / "screenshots"
                shots.mkdir(parents=True, exist_ok=True)
                for i, (name, query) in enumerate(VIEWS.items()):
                    url = f"http://127.0.0.1:{port}/?{query}"
                    runs = [measure(browser, url) for _ in range(args.runs - 1)]
                    runs.append(measure(browser, url, screenshot=shots / f"bench-map-{i + 1}.png"))
                    cold, warm = runs[0]["ms"], statistics.median(r["ms"] for r in runs[1:])
                    last = runs[-1]
                    print(f"| {name} | {cold:.0f} | {warm:.0f} | {warm / cold:.2f} | {kib(last['sent'])} | "
                          f"{kib(last['decoded'])} | {last['sent'] / last['decoded']:.2f} | {kib(last['data_sent'])} | "
                          f"{kib(last['data_decoded'])} | {last['data_sent'] / last['data_decoded']:.2f} | "
                          f"{last['drawn']} |", flush=True)
                browser.close()
        finally:
            server.terminate()
            server.wait(timeout=20)


if __name__ == "__main__":
    main()
