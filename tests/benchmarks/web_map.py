"""Benchmark: the home map with 100k footprints, time to first draw and bytes downloaded per view.

    python -m tests.benchmarks.web_map [--size 100000] [--runs 3]

Loads N footprints (real EarthLoc shapes, jittered; ``tests.benchmarks.api_bbox.load``) into a separate
database, collects static files, starts gunicorn (DEBUG off, WhiteNoise) and opens typical map views in
Debian's Chromium through Playwright with an empty cache each run. Time to first draw: navigation start to
the map marking its first footprint response drawn (``#map[data-loaded]``). Bytes: every response body the
page fetched (HTML, CSS, JS, the map data), and the map data alone.
"""

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "astroloc_platform.settings_test")
# Always its own database (never the test database named in the environment): it is truncated and refilled.
os.environ["TEST_DATABASE_NAME"] = os.environ.get("BENCH_DATABASE_NAME", "bench_astroloc_web")

from django.conf import settings
from django.db import connection

from tests.benchmarks.api_bbox import REPO, free_port, load, real_quads

VIEWS = {  # name -> query string of the home page
    "world, z2 (cells)": "lat=20&lon=0&z=2",
    "region, z5 (cells)": "lat=30&lon=31&z=5",
    "city, z8 (polygons)": "lat=30&lon=31&z=8",
    "region z5 + filter cloud<20": "lat=30&lon=31&z=5&cloud_max=20",
}


def start_server(port: int, static_root: str) -> subprocess.Popen:
    db = settings.DATABASES["default"]
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "astroloc_platform.settings", "DJANGO_DEBUG": "0",
           "DJANGO_STATIC_ROOT": static_root, "DJANGO_SECURE_SSL_REDIRECT": "0",
           "DATABASE_URL": f"postgis://{db.get('USER') or 'postgres'}@{db.get('HOST') or '127.0.0.1'}:"
                           f"{db.get('PORT') or 5432}/{db['NAME']}", "CACHE_KEY_PREFIX": "bench-web"}
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"], cwd=REPO, env=env,
                   check=True)
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "astroloc_platform.wsgi", "-b", f"127.0.0.1:{port}",
                               "-w", "2", "--log-level", "warning"], cwd=REPO, env=env)
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2).read()
            return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise RuntimeError("gunicorn did not start")


def measure(browser, url: str, screenshot: Path | None = None) -> tuple[float, int, int, str]:
    """(ms to first draw, bytes of all responses, bytes of the map data, what the map drew)."""
    context = browser.new_context(viewport={"width": 1366, "height": 800})
    page = context.new_page()
    sizes: list[tuple[str, int]] = []
    page.on("requestfinished", lambda req: sizes.append((req.url, req.sizes()["responseBodySize"])))
    page.goto(url)
    page.wait_for_selector("#map[data-loaded]", timeout=60_000)
    ms = page.evaluate("performance.now()")
    mode = page.get_attribute("#map", "data-loaded")
    status = page.inner_text("#map-status")
    page.wait_for_load_state("networkidle")
    if screenshot is not None:
        page.screenshot(path=str(screenshot))
    context.close()
    data_bytes = sum(n for u, n in sizes if "/map/data" in u)
    return ms, sum(n for _, n in sizes), data_bytes, f"{mode}: {status}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
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
                print(f"{args.size:,} footprints; median of {args.runs} cold loads (empty cache)\n")
                print("| view | first draw ms | total KiB | map data KiB | drawn |")
                print("|---|---:|---:|---:|---|")
                shots = REPO / "var" / "screenshots"
                shots.mkdir(parents=True, exist_ok=True)
                for i, (name, query) in enumerate(VIEWS.items()):
                    url = f"http://127.0.0.1:{port}/?{query}"
                    runs = [measure(browser, url) for _ in range(args.runs - 1)]
                    runs.append(measure(browser, url, screenshot=shots / f"bench-map-{i + 1}.png"))
                    ms = statistics.median(r[0] for r in runs)
                    print(f"| {name} | {ms:.0f} | {runs[-1][1] / 1024:.0f} | {runs[-1][2] / 1024:.1f} | "
                          f"{runs[-1][3]} |", flush=True)
                browser.close()
        finally:
            server.terminate()
            server.wait(timeout=20)


if __name__ == "__main__":
    main()
