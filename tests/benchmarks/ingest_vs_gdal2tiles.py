"""Benchmark: our mosaic ingestion against ``gdal2tiles.py`` on the same mosaic, and the photo import rate.

    python -m tests.benchmarks.ingest_vs_gdal2tiles [--tiles 16] [--photos 40] [--processes 1]

One run, same machine, same input: a synthetic EPSG:3857 GeoTIFF (tiled, DEFLATE, internal overviews, like
a COG) aligned on the z11 XYZ grid at 256 px per tile, cut to zooms 9-11.

Fairness: both sides write PNG (zlib level 6, GDAL's default) with bilinear resampling and the same number
of processes. The headline row compares *equal pixel output*: our pipeline with span 1 cuts exactly the
standard 256-px XYZ tiles gdal2tiles cuts (same grid, same zooms), so tiles/s compare directly; we also
give output megapixels/s. Our numbers are for the whole ingest job (validation, warped reads, encoding,
files through Django storage, SatelliteTile rows in PostgreSQL); gdal2tiles only writes files. The
production setting (span 4: 1024-px database images with 50 % overlap, 4x the pixels of plain tiles) is
reported in Mpx/s too. gdal2tiles writes every tile that touches the raster (edges included); we skip
images more than half nodata, so counts differ slightly at the edges: the rates are what is compared.

Needs PostgreSQL (a throwaway database ``bench_astroloc_ingest`` is created and dropped) and gdal-bin.
"""

import argparse
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

HALF = math.pi * 6378137.0


@dataclass
class Row:
    name: str
    tiles: int
    px_per_tile: int
    seconds: float

    @property
    def tiles_per_s(self) -> float:
        return self.tiles / self.seconds

    @property
    def mpx_per_s(self) -> float:
        return self.tiles * self.px_per_tile**2 / 1e6 / self.seconds


def make_mosaic(path: Path, n_tiles: int, zoom: int = 11, seed: int = 0) -> Path:
    """An RGB EPSG:3857 GeoTIFF of n x n z11 tiles at 256 px/tile, textured so PNG has work to do."""
    import rasterio
    from affine import Affine
    from PIL import Image
    from rasterio.enums import Resampling

    rng = np.random.default_rng(seed)
    side = n_tiles * 256
    size = 2 * HALF / 2**zoom
    x0, y0 = 1190, 890  # near the synthetic Earth's region (Egypt)
    transform = Affine(size / 256, 0, -HALF + x0 * size, 0, -size / 256, HALF - y0 * size)
    coarse = rng.integers(0, 255, (max(side // 64, 2), max(side // 64, 2), 3), dtype=np.uint8)
    base = np.asarray(Image.fromarray(coarse).resize((side, side), Image.Resampling.BICUBIC), dtype=np.int16)
    noise = rng.integers(-12, 12, (side, side, 3), dtype=np.int16)
    rgb = np.clip(base + noise, 0, 255).astype(np.uint8)
    profile = {"driver": "GTiff", "width": side, "height": side, "count": 3, "dtype": "uint8",
               "crs": "EPSG:3857", "transform": transform, "tiled": True, "blockxsize": 256, "blockysize": 256,
               "compress": "deflate", "photometric": "rgb", "interleave": "pixel"}
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(np.moveaxis(rgb, 2, 0))
        dst.build_overviews([2, 4, 8], Resampling.average)
    return path


def run_gdal2tiles(mosaic: Path, out: Path, zooms: tuple[int, int], processes: int) -> Row:
    cmd = ["gdal2tiles.py", "--xyz", "-z", f"{zooms[0]}-{zooms[1]}", "-r", "bilinear", "-w", "none",
           f"--processes={processes}", "--tiledriver=PNG", str(mosaic), str(out)]
    started = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    seconds = time.perf_counter() - started
    return Row("gdal2tiles.py (256-px XYZ tiles, PNG)", len(list(out.rglob("*.png"))), 256, seconds)


def run_ours(mosaic: Path, year: int, zooms: tuple[int, ...], span: int, fmt: str, name: str) -> Row:
    from apps.core.jobrun import job_run_here
    from apps.imagery.services import TilingParameters, mosaic_ingest

    request = mosaic_ingest(path=mosaic, year=year, tiling=TilingParameters(zooms=zooms, span=span, format=fmt))
    started = time.perf_counter()
    job = job_run_here(request.job)
    seconds = time.perf_counter() - started
    if job.status != "succeeded":
        raise RuntimeError(f"ingest failed: {job.error}")
    return Row(name, job.result["tile_count"], span * 256, seconds)


def make_photos(folder: Path, n: int, size: tuple[int, int], seed: int = 1) -> Path:
    """n JPEG photos with NASA-like EXIF and an EOL CSV; returns the CSV path."""
    from PIL import Image

    from ml.synth.metadata import EOL_COLUMNS, PhotoMetadata, eol_row, save_jpeg_with_exif, write_csv

    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        coarse = rng.integers(0, 255, (24, 36, 3), dtype=np.uint8)
        image = np.asarray(Image.fromarray(coarse).resize(size, Image.Resampling.BICUBIC))
        meta = PhotoMetadata(
            photo_id=f"ISS070-E-{10000 + i}", captured_at=datetime(2023, 5, 1, tzinfo=UTC) + timedelta(minutes=i),
            camera="NIKON D5", focal_length_mm=400.0, altitude_km=415.0, nadir=(31.0, 21.0), center=(30.5, 20.5),
            tilt_deg=20.0, cloud_pct=10.0, sun_elevation_deg=50.0, sun_azimuth_deg=120.0,
        )
        save_jpeg_with_exif(image, folder / f"{meta.photo_id}.jpg", meta, quality=90)
        rows.append(eol_row(meta))
    csv_path = folder / "metadata.csv"
    write_csv(csv_path, EOL_COLUMNS, rows)
    return csv_path


def run_import(folder: Path, csv_path: Path) -> tuple[int, float, float]:
    from apps.core.jobrun import job_run_here
    from apps.photos.services import batch_create

    files = sorted(folder.glob("*.jpg"))
    megabytes = sum(p.stat().st_size for p in files) / 1e6
    batch = batch_create(paths=files, csv_path=csv_path)
    started = time.perf_counter()
    job = job_run_here(batch.job)
    seconds = time.perf_counter() - started
    if job.status != "succeeded" or job.result["imported"] != len(files):
        raise RuntimeError(f"import failed: {job.error or job.result}")
    return len(files), seconds, megabytes


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "astroloc_platform.settings_test")
    os.environ.setdefault("TEST_DATABASE_NAME", "bench_astroloc_ingest")
    os.environ["TEST_CELERY_BROKER_URL"] = "memory://"  # jobs run in this process; nothing to send
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from astroloc_platform.celery import app

    os.environ["CELERY_RESULT_BACKEND"] = "cache+memory://"
    app.conf.result_backend = "cache+memory://"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tiles", type=int, default=16, help="mosaic side in z11 tiles (256 px each)")
    parser.add_argument("--photos", type=int, default=40)
    parser.add_argument("--photo-size", default="3000x2000", help="WxH of the benchmark photos")
    parser.add_argument("--processes", type=int, default=1, help="gdal2tiles processes (ours: 1 job)")
    args = parser.parse_args(argv)
    if shutil.which("gdal2tiles.py") is None:
        print("gdal2tiles.py not found: apt-get install gdal-bin", file=sys.stderr)
        return 2
    _setup_django()
    from django.test.utils import setup_databases, teardown_databases

    zooms = (9, 10, 11)
    with tempfile.TemporaryDirectory(prefix="astroloc-bench-") as tmp:
        tmp_path = Path(tmp)
        mosaic = make_mosaic(tmp_path / "mosaic_3857.tif", args.tiles)
        old = setup_databases(verbosity=0, interactive=False)
        try:
            rows = [
                run_gdal2tiles(mosaic, tmp_path / "gdal2tiles", (zooms[0], zooms[-1]), args.processes),
                run_ours(mosaic, 2001, zooms, 1, "png", "ours, span 1 (256-px XYZ tiles, PNG)"),
                run_ours(mosaic, 2002, zooms, 4, "png", "ours, span 4 (1024-px database images, PNG)"),
                run_ours(mosaic, 2003, zooms, 4, "jpg", "ours, span 4 (1024-px database images, JPEG)"),
            ]
            photo_dir = tmp_path / "photos"
            photo_dir.mkdir()
            width, height = (int(v) for v in args.photo_size.split("x"))
            csv_path = make_photos(photo_dir, args.photos, (width, height))
            n_photos, import_s, megabytes = run_import(photo_dir, csv_path)
        finally:
            teardown_databases(old, verbosity=0)

    reference = rows[0]
    print(f"\nMosaic: {args.tiles * 256} x {args.tiles * 256} px EPSG:3857 GeoTIFF, zooms {zooms[0]}-{zooms[-1]}, "
          f"gdal2tiles --processes={args.processes}, ours 1 job in 1 process\n")
    print(f"{'pipeline':48} {'tiles':>6} {'seconds':>8} {'tiles/s':>8} {'Mpx/s':>7} {'ratio Mpx/s':>12}")
    for row in rows:
        print(f"{row.name:48} {row.tiles:6d} {row.seconds:8.2f} {row.tiles_per_s:8.1f} {row.mpx_per_s:7.2f} "
              f"{row.mpx_per_s / reference.mpx_per_s:11.2f}x")
    same = rows[1]
    print(f"\nEqual output (span 1 vs gdal2tiles): ours {same.tiles_per_s:.1f} tiles/s vs "
          f"{reference.tiles_per_s:.1f} tiles/s = {same.tiles_per_s / reference.tiles_per_s:.2f}x")
    print(f"Photo import: {n_photos} photos of {width} x {height} px ({megabytes:.1f} MB JPEG) with EOL CSV in "
          f"{import_s:.2f} s = {n_photos / import_s:.2f} photos/s ({megabytes / import_s:.1f} MB/s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
