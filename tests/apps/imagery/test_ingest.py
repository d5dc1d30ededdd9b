"""Mosaic ingestion against the real database on the synthetic Earth: grid maths, idempotency, bad input."""

import math
from pathlib import Path

import numpy as np
import pytest
import rasterio
from affine import Affine
from django.conf import settings

from apps.core.constants import JobStatus
from apps.core.jobrun import job_run_here
from apps.imagery.constants import MosaicStatus
from apps.imagery.models import Mosaic, SatelliteTile
from apps.imagery.services import TilingParameters, mosaic_delete, mosaic_ingest

pytestmark = pytest.mark.django_db

TILING = TilingParameters(zooms=(10, 11), span=4, size_px=64, format="png")
R = 6378137.0
HALF = math.pi * R


def xyz_bounds(z: int, x: int, y: int, span: int) -> tuple[float, float, float, float]:
    """Lon/lat bounds of a span x span block, from the textbook XYZ formulas (independent of ml.geo)."""
    n = 2 ** z

    def lat(row: float) -> float:
        return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * row / n))))

    return (x / n * 360 - 180, lat(y + span), (x + span) / n * 360 - 180, lat(y))


def expected_cells(mercator_bounds, z: int, span: int, max_nodata: float = 0.5) -> dict[tuple[int, int], float]:
    """Cells of the stride-span/2 grid and the fraction of each that lies inside the raster (geometry)."""
    min_x, min_y, max_x, max_y = mercator_bounds
    size = 2 * HALF / 2 ** z
    out = {}
    stride = span // 2
    for x in range(0, 2 ** z - span + 1, stride):
        cx0, cx1 = -HALF + x * size, -HALF + (x + span) * size
        if cx1 <= min_x or cx0 >= max_x:
            continue
        for y in range(0, 2 ** z - span + 1, stride):
            cy1, cy0 = HALF - y * size, HALF - (y + span) * size
            if cy0 >= max_y or cy1 <= min_y:
                continue
            inside = (min(cx1, max_x) - max(cx0, min_x)) * (min(cy1, max_y) - max(cy0, min_y))
            out[(x, y)] = inside / (span * size) ** 2
    return out


def ingest(path: Path, year: int = 2019, tiling: TilingParameters = TILING):
    request = mosaic_ingest(path=path, year=year, tiling=tiling)
    job = job_run_here(request.job)
    request.mosaic.refresh_from_db()
    return request.mosaic, job


def stored_cells(mosaic: Mosaic, zoom: int) -> set[tuple[int, int]]:
    return set(SatelliteTile.objects.filter(mosaic=mosaic, zoom=zoom).values_list("x", "y"))


def test_3857_mosaic_tiles_match_the_xyz_grid_exactly(synth_tiny):
    path = synth_tiny / "mosaics" / "2019_3857.tif"
    with rasterio.open(path) as src:
        mercator_bounds = tuple(src.bounds)

    mosaic, job = ingest(path)

    assert job.status == JobStatus.SUCCEEDED, job.error
    assert mosaic.status == MosaicStatus.INGESTED and mosaic.crs == "EPSG:3857"
    total = 0
    for zoom in (10, 11):
        fractions = expected_cells(mercator_bounds, zoom, 4)
        expected = {cell for cell, inside in fractions.items() if 1 - inside <= 0.5}
        assert stored_cells(mosaic, zoom) == expected
        assert expected
        total += len(expected)
    assert mosaic.tile_count == total == SatelliteTile.objects.count()
    for tile in SatelliteTile.objects.all():
        assert tile.bounds.extent == pytest.approx(xyz_bounds(tile.zoom, tile.x, tile.y, 4), abs=1e-9)
        assert tile.size_px == 64 and tile.span == 4 and tile.year == 2019
        assert (Path(settings.MEDIA_ROOT) / tile.image.name).is_file()


def test_4326_mosaic_is_reprojected_onto_the_same_grid(synth_tiny):
    path = synth_tiny / "mosaics" / "2019_4326.tif"
    with rasterio.open(path) as src:
        mercator_bounds = rasterio.warp.transform_bounds(src.crs, "EPSG:3857", *src.bounds)

    mosaic, job = ingest(path)

    assert job.status == JobStatus.SUCCEEDED, job.error
    assert mosaic.crs == "EPSG:4326"
    for zoom in (10, 11):
        fractions = expected_cells(mercator_bounds, zoom, 4)
        stored = stored_cells(mosaic, zoom)
        clearly_in = {c for c, inside in fractions.items() if inside >= 0.55}
        clearly_out = {c for c, inside in fractions.items() if inside <= 0.45}
        assert clearly_in <= stored, "cells mostly inside the raster are missing"
        assert not stored & clearly_out, "cells mostly outside the raster were stored"
        assert stored <= set(fractions)
    for tile in SatelliteTile.objects.all():
        assert tile.bounds.extent == pytest.approx(xyz_bounds(tile.zoom, tile.x, tile.y, 4), abs=1e-9)


def test_stored_pixels_are_the_mosaic_pixels(synth_tiny):
    path = synth_tiny / "mosaics" / "2019_3857.tif"
    mosaic, _ = ingest(path, tiling=TilingParameters(zooms=(11,), span=4, size_px=256, format="png"))
    tile = SatelliteTile.objects.filter(mosaic=mosaic).order_by("x", "y").first()
    with rasterio.open(path) as src:
        col, row = ~src.transform * (-HALF + tile.x * 2 * HALF / 2 ** 11, HALF - tile.y * 2 * HALF / 2 ** 11)
        window = rasterio.windows.Window(round(col), round(row), 256, 256)
        source = np.moveaxis(src.read(window=window, boundless=True), 0, 2)
    from PIL import Image

    stored = np.asarray(Image.open(Path(settings.MEDIA_ROOT) / tile.image.name))
    assert stored.shape == (256, 256, 3)
    assert np.array_equal(stored, source)


def test_reingest_of_the_same_file_is_a_noop(synth_tiny):
    path = synth_tiny / "mosaics" / "2019_3857.tif"
    mosaic, _ = ingest(path)
    before = sorted(SatelliteTile.objects.values_list("pk", "image"))
    files = sorted(p.name for p in (Path(settings.MEDIA_ROOT) / "tiles").rglob(f"*_m{mosaic.pk}.png"))

    again = mosaic_ingest(path=path, year=2019, tiling=TILING)

    assert again.is_noop and again.mosaic.pk == mosaic.pk and not again.created
    assert Mosaic.objects.count() == 1
    assert sorted(SatelliteTile.objects.values_list("pk", "image")) == before
    assert sorted(p.name for p in (Path(settings.MEDIA_ROOT) / "tiles").rglob(f"*_m{mosaic.pk}.png")) == files


def test_same_file_with_more_zooms_adds_only_the_missing_tiles(synth_tiny):
    path = synth_tiny / "mosaics" / "2019_3857.tif"
    mosaic, _ = ingest(path, tiling=TilingParameters(zooms=(11,), span=4, size_px=64, format="png"))
    z11 = set(SatelliteTile.objects.values_list("pk", flat=True))

    again, job = ingest(path, tiling=TILING)

    assert again.pk == mosaic.pk and job.status == JobStatus.SUCCEEDED
    assert z11 <= set(SatelliteTile.objects.values_list("pk", flat=True))
    assert SatelliteTile.objects.filter(zoom=10).exists()
    assert again.tile_count == SatelliteTile.objects.count()


def test_a_failed_ingest_resumes_cleanly(synth_tiny, monkeypatch):
    import workers.ingest

    path = synth_tiny / "mosaics" / "2021_3857.tif"
    real_store = workers.ingest.tiles_store
    calls = {"n": 0}

    def failing_store(**kwargs):
        calls["n"] += 1
        if calls["n"] == 2:  # zoom 10 stored, zoom 11 not yet: a crash in the middle
            raise OSError("disk full (simulated)")
        return real_store(**kwargs)

    monkeypatch.setattr(workers.ingest, "tiles_store", failing_store)
    mosaic, job = ingest(path, year=2021)
    assert job.status == JobStatus.FAILED and "disk full (simulated)" in job.error
    assert mosaic.status == MosaicStatus.FAILED and "disk full (simulated)" in mosaic.error
    partial = SatelliteTile.objects.count()
    assert partial > 0

    monkeypatch.setattr(workers.ingest, "tiles_store", real_store)
    resumed, job = ingest(path, year=2021)

    assert job.status == JobStatus.SUCCEEDED, job.error
    assert resumed.pk == mosaic.pk and resumed.status == MosaicStatus.INGESTED
    with rasterio.open(path) as src:
        mercator_bounds = tuple(src.bounds)
    for zoom in (10, 11):
        expected = {c for c, inside in expected_cells(mercator_bounds, zoom, 4).items() if inside >= 0.5}
        assert stored_cells(resumed, zoom) == expected
    files = list((Path(settings.MEDIA_ROOT) / "tiles" / "2021").rglob(f"*_m{mosaic.pk}.png"))
    assert len(files) == SatelliteTile.objects.count() == resumed.tile_count


def _write(path: Path, **profile) -> Path:
    base = {"driver": "GTiff", "width": 64, "height": 64, "count": 3, "dtype": "uint8",
            "crs": "EPSG:3857", "transform": Affine(1000.0, 0, 3_330_000, 0, -1000.0, 2_440_000)}
    base.update(profile)
    data_shape = (base["count"], min(base["height"], 64), min(base["width"], 64))
    with rasterio.open(path, "w", **base) as dst:
        if base["width"] <= 64:
            dst.write(np.zeros(data_shape, dtype=base["dtype"]))
    return path


def _bad_inputs(tmp: Path) -> dict[str, tuple[Path, str]]:
    text = tmp / "notes.tif"
    text.write_text("these are field notes, not a raster\n")
    vrt = tmp / "disguised.tif"
    vrt.write_text('<VRTDataset rasterXSize="1" rasterYSize="1"><VRTRasterBand dataType="Byte" band="1">'
                   "<SimpleSource><SourceFilename>/etc/passwd</SourceFilename></SimpleSource>"
                   "</VRTRasterBand></VRTDataset>")
    png = tmp / "picture.tif"
    from PIL import Image

    Image.new("RGB", (8, 8)).save(png, format="PNG")
    empty = tmp / "empty.tif"
    empty.write_bytes(b"")
    no_crs = _write(tmp / "nocrs.tif", crs=None)
    huge = _write(tmp / "huge.tif", width=2_500_000, height=16, tiled=True, blockxsize=256, blockysize=16,
                  sparse_ok=True)
    multispectral = _write(tmp / "bands5.tif", count=5)
    sixteen = _write(tmp / "uint16.tif", dtype="uint16")
    return {
        "text": (text, "not a GeoTIFF (no TIFF signature)"),
        "vrt": (vrt, "not a GeoTIFF (no TIFF signature)"),
        "png": (png, "not a GeoTIFF (no TIFF signature)"),
        "empty": (empty, "empty file (0 bytes)"),
        "no_crs": (no_crs, "no CRS"),
        "absurd": (huge, "absurd dimensions 2500000 x 16"),
        "bands": (multispectral, "5 bands; expected 1 (grey), 3 (RGB) or 4 (RGBA)"),
        "dtype": (sixteen, "data type uint16; expected 8-bit"),
    }


@pytest.mark.parametrize("case", ["text", "vrt", "png", "empty", "no_crs", "absurd", "bands", "dtype"])
def test_bad_input_fails_with_a_clear_error_and_writes_nothing(case, tmp_path):
    path, message = _bad_inputs(tmp_path)[case]

    mosaic, job = ingest(path)

    assert job.status == JobStatus.FAILED
    assert message in job.error.splitlines()[0], job.error
    assert str(path) in job.error.splitlines()[0]
    assert mosaic.status == MosaicStatus.FAILED and message in mosaic.error
    assert not SatelliteTile.objects.exists()
    assert mosaic.tile_count == 0
    assert not list((Path(settings.MEDIA_ROOT) / "tiles").rglob(f"*_m{mosaic.pk}.*"))


def test_mosaic_delete_removes_rows_and_files(synth_tiny):
    mosaic, _ = ingest(synth_tiny / "mosaics" / "2019_3857.tif")
    names = list(SatelliteTile.objects.values_list("image", flat=True))
    assert names

    mosaic_delete(mosaic=mosaic)

    assert not SatelliteTile.objects.exists() and not Mosaic.objects.exists()
    assert not any((Path(settings.MEDIA_ROOT) / n).exists() for n in names)


def test_tiling_parameters_are_validated():
    with pytest.raises(ValueError, match="multiple of span"):
        TilingParameters(span=4, size_px=130)
    with pytest.raises(ValueError, match="zooms"):
        TilingParameters(zooms=(30,))


def test_ingest_mosaic_command_in_process_then_noop(synth_tiny, capsys):
    from django.core.management import call_command

    path = str(synth_tiny / "mosaics" / "2019_3857.tif")
    call_command("ingest_mosaic", path, "--year", "2019", "--zooms", "10,11", "--size", "64", "--in-process")
    first = capsys.readouterr().out
    call_command("ingest_mosaic", path, "--year", "2019", "--zooms", "10,11", "--size", "64", "--in-process")

    assert "succeeded" in first and "nothing to do" in capsys.readouterr().out
    assert Mosaic.objects.get().tile_count == SatelliteTile.objects.count() > 0


def test_uploaded_mosaic_is_stored_then_ingested(synth_tiny):
    from django.core.files.uploadedfile import SimpleUploadedFile

    content = (synth_tiny / "mosaics" / "2021_3857.tif").read_bytes()
    request = mosaic_ingest(upload=SimpleUploadedFile("upload.tif", content), year=2021, tiling=TILING)
    job = job_run_here(request.job)

    assert job.status == JobStatus.SUCCEEDED, job.error
    mosaic = Mosaic.objects.get()
    assert mosaic.file.read() == content and mosaic.source_path == ""
    assert mosaic.tile_count > 0
    again = mosaic_ingest(upload=SimpleUploadedFile("other-name.tif", content), year=2021, tiling=TILING)
    assert again.is_noop and Mosaic.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_ingest_command_in_process_fails_with_the_jobs_error_and_a_nonzero_exit(tmp_path):
    from django.core.management import CommandError, call_command

    fake = tmp_path / "renamed.tif"
    fake.write_text("<VRTDataset/>")
    with pytest.raises(CommandError, match=r"job #\d+ failed: .*renamed\.tif"):
        call_command("ingest_mosaic", str(fake), "--year", "2020", "--in-process")
