"""Shared by the footprint benchmarks (``api_bbox``, ``web_map``): N footprints in a benchmark database, a
gunicorn server on it, and the baseline to compare with.

The footprints are the 17,763 real EarthLoc footprints (``shared/real-footprints``), jittered by up to 3
degrees and repeated to reach N, bulk-loaded by COPY (minutes of ``save()`` calls otherwise). The caller sets
``DJANGO_SETTINGS_MODULE`` and its own ``TEST_DATABASE_NAME`` before importing this module.

Baseline: another git ref's code (by default where this branch left main), exported by ``git archive`` under
``var/bench/``, served by its own gunicorn on the same data with its own schema: the migrations it lacks are
unapplied first (``schema_for``), then re-applied for this tree (``schema_latest``), so both sides run in one
process, on one machine, minutes apart.
"""

import csv
import io
import os
import random
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402

__all__ = ["CSV", "REPO", "baseline_tree", "database_url", "free_port", "load", "real_quads", "schema_for",
           "schema_latest", "server_env", "start_gunicorn"]

REPO = Path(__file__).resolve().parents[2]
CSV = Path(os.environ.get("ASTROLOC_REAL_FOOTPRINTS",
                          REPO.parent / "shared" / "real-footprints" / "iss_footprints_earthloc.csv"))


def _git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=REPO, check=True, capture_output=True, text=True).stdout.strip()


def baseline_tree(ref: str) -> Path:
    """``ref``'s code (``merge-base``: where this branch left main) exported under ``var/bench/baseline-<commit>``."""
    if ref == "merge-base":
        ref = _git("merge-base", "HEAD", "main")
    commit = _git("rev-parse", "--short", ref)
    tree = REPO / "var" / "bench" / f"baseline-{commit}"
    if not tree.exists():
        tree.mkdir(parents=True)
        archive = subprocess.run(["git", "archive", commit], cwd=REPO, check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
    return tree


def _migrations(app_path: Path) -> list[str]:
    return sorted(p.stem for p in (app_path / "migrations").glob("[0-9]*.py"))


def schema_for(tree: Path) -> None:
    """Unapply this tree's migrations that ``tree`` does not have (its schema, on the same rows)."""
    from django.apps import apps
    from django.core.management import call_command

    for config in apps.get_app_configs():
        if not config.name.startswith("apps."):
            continue
        ours = _migrations(Path(config.path))
        theirs = _migrations(tree / "apps" / config.name.split(".", 1)[1])
        if ours != theirs:
            call_command("migrate", config.label, theirs[-1] if theirs else "zero", verbosity=0)


def schema_latest() -> None:
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def server_env(tree: Path, extra: dict[str, str]) -> dict[str, str]:
    """The environment of a server (or command) of ``tree`` on the benchmark database (DEBUG off)."""
    return {**os.environ, "DJANGO_SETTINGS_MODULE": "astroloc_platform.settings", "DJANGO_DEBUG": "0",
            "DATABASE_URL": database_url(), "PYTHONPATH": f"{tree}:{tree / 'platform'}", **extra}


def real_quads() -> list[list[tuple[float, float]]]:
    """The real footprints' corners (UL, UR, LR, LL), without the antimeridian-crossing ones."""
    quads = []
    with CSV.open() as f:
        for row in csv.DictReader(f):
            corners = [(float(row[f"{c}_LON"]), float(row[f"{c}_LAT"])) for c in ("UL", "UR", "LR", "LL")]
            if max(x for x, _ in corners) - min(x for x, _ in corners) < 90:
                quads.append(corners)
    return quads


def load(n: int, quads, rng: random.Random, *, reuse: bool = False) -> bool:
    """COPY n public photos and their current footprints (jittered real shapes) into the emptied tables.

    ``reuse``: keep the rows when the tables already hold exactly n of each (the same seed makes the same
    rows; minutes saved at a million). Returns whether it loaded.
    """
    with connection.cursor() as cur:
        if reuse:
            cur.execute("SELECT (SELECT count(*) FROM photos_photo), (SELECT count(*) FROM footprints_footprint)")
            if cur.fetchone() == (n, n):
                return False
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
    return True


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def database_url() -> str:
    """The benchmark database as a ``DATABASE_URL`` for the server process."""
    db = settings.DATABASES["default"]
    return (f"postgis://{db.get('USER') or 'postgres'}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/"
            f"{db['NAME']}")


def start_gunicorn(port: int, *, ready_path: str, env: dict[str, str], workers: int = 2,
                   tree: Path = REPO) -> subprocess.Popen:
    """gunicorn on loopback serving ``tree``'s code against the benchmark database (production-like: DEBUG
    off); returns once ``ready_path`` answers. ``env`` adds or overrides environment variables."""
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "astroloc_platform.wsgi", "-b", f"127.0.0.1:{port}",
                               "-w", str(workers), "--log-level", "warning"], cwd=tree, env=server_env(tree, env))
    for _ in range(150):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}{ready_path}", timeout=2).read()
            return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise RuntimeError("gunicorn did not start")
