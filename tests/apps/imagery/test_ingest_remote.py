"""Imagery from tile services (XYZ, TMS, WMTS REST) and COGs by URL, against a tile server on loopback.

The reference is the file ingest of the same synthetic mosaic: the tiles the server holds are cut from it
(by the project's own tiling code, and by gdal2tiles.py), so a tile-service ingest must store the same
database images, pixel for pixel from PNG tiles, within JPEG tolerance from JPEG tiles.
"""

import io
import json
import subprocess
from pathlib import Path

import numpy as np
import pytest
import rasterio
import rasterio.shutil
from affine import Affine
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from PIL import Image

from apps.core.constants import JobStatus
from apps.core.jobrun import job_run_here
from apps.imagery.constants import MosaicSource, MosaicStatus
from apps.imagery.models import Mosaic, SatelliteTile
from apps.imagery.services import TilingParameters, mosaic_ingest, mosaic_ingest_cog, mosaic_ingest_tiles
from apps.web.selectors import basemap_layers
from ml.geo import ORIGIN_SHIFT_M, tile_bounds_lonlat, tile_size_m
from ml.tiling import cut_database_images
from tests.apps.imagery.tile_server import TileServer

pytestmark = pytest.mark.django_db

X0, Y0, SIDE_TILES, ZOOM = 2160, 1464, 4, 12  # 4 x 4 tiles at z12 (2 x 2 at z11), aligned on both grids
TILING = TilingParameters(zooms=(11, 12), span=2, format="png")
BBOX = (*tile_bounds_lonlat(ZOOM, X0, Y0 + SIDE_TILES - 1)[:2], *tile_bounds_lonlat(ZOOM, X0 + SIDE_TILES - 1, Y0)[2:])


def _texture(size: int, seed: int) -> np.ndarray:
    """Smooth random RGB (like imagery: JPEG-friendly) with a little fine detail."""
    rng = np.random.default_rng(seed)
    coarse = rng.integers(0, 256, (size // 32, size // 32, 3), dtype=np.uint8)
    smooth = np.asarray(Image.fromarray(coarse).resize((size, size), Image.Resampling.BICUBIC), dtype=np.int16)
    return np.clip(smooth + rng.integers(-6, 7, smooth.shape), 0, 255).astype(np.uint8)


@pytest.fixture(scope="module")
def imagery(tmp_path_factory) -> Path:
    """A 3857 mosaic aligned on the z12 and z11 grids, and the tiles a server would hold for it."""
    root = tmp_path_factory.mktemp("imagery")
    size = tile_size_m(ZOOM)
    side = SIDE_TILES * 256
    profile = {"driver": "GTiff", "width": side, "height": side, "count": 3, "dtype": "uint8", "crs": "EPSG:3857",
               "transform": Affine(size / 256, 0, -ORIGIN_SHIFT_M + X0 * size, 0, -size / 256,
                                   ORIGIN_SHIFT_M - Y0 * size),
               "tiled": True, "blockxsize": 256, "blockysize": 256}
    with rasterio.open(root / "mosaic.tif", "w", **profile) as dst:
        dst.write(_texture(side, 7).transpose(2, 0, 1))
    for image in cut_database_images(root / "mosaic.tif", zooms=TILING.zooms, span=1, max_nodata=0.0):
        for folder, fmt, ext in (("xyz", "PNG", "png"), ("xyzjpg", "JPEG", "jpg")):
            path = root / folder / str(image.zoom) / str(image.x) / f"{image.y}.{ext}"
            path.parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(image.image).save(path, fmt, **({"quality": 90} if fmt == "JPEG" else {}))
    rasterio.shutil.copy(root / "mosaic.tif", root / "mosaic_cog.tif", driver="COG", COMPRESS="DEFLATE",
                         BLOCKSIZE=256)
    (root / "stac").mkdir()
    (root / "stac" / "item.json").write_text(json.dumps({
        "type": "Feature", "stac_version": "1.0.0", "id": "mosaic", "geometry": None, "properties": {},
        "links": [], "assets": {"visual": {"href": "../mosaic_cog.tif", "type": "image/tiff; application=geotiff"}},
    }))
    return root


@pytest.fixture
def server(imagery, settings, tmp_path):
    settings.ASTROLOC_FETCH_ALLOWED_HOSTS = ["127.0.0.1"]
    settings.ASTROLOC_FETCH_ALLOW_PRIVATE = True
    settings.ASTROLOC_TILE_FETCH_CACHE_DIR = tmp_path / "tile-cache"
    settings.ASTROLOC_FETCH_USER_AGENT = "AstroLoc-Test/1"
    with TileServer(imagery) as srv:
        yield srv


def _run(request):
    job = job_run_here(request.job)
    request.mosaic.refresh_from_db()
    return request.mosaic, job


def _images(mosaic: Mosaic) -> dict[tuple[int, int, int], np.ndarray]:
    out = {}
    for tile in SatelliteTile.objects.filter(mosaic=mosaic):
        with default_storage.open(tile.image.name, "rb") as fh:
            out[(tile.zoom, tile.x, tile.y)] = np.asarray(Image.open(io.BytesIO(fh.read())).convert("RGB"),
                                                          dtype=np.int16)
    return out


@pytest.fixture
def reference(imagery):
    mosaic, job = _run(mosaic_ingest(path=imagery / "mosaic.tif", year=2019, tiling=TILING))
    assert job.status == JobStatus.SUCCEEDED, job.error
    return _images(mosaic)


def _tiles(server, template: str, *, year: int = 2020, tiling: TilingParameters = TILING, **kwargs):
    return _run(mosaic_ingest_tiles(url_template=server.url + template, bbox=BBOX, year=year, tiling=tiling,
                                    rate_per_s=0, **kwargs))


def _assert_same(got: dict, expected: dict, *, max_mean: float = 0.0, max_abs: int = 0) -> None:
    """Same cells; same pixels within the bounds given. At z12 the tiles are the mosaic's own pixels (no
    resampling on either path); at z11 the server's tiles were themselves warped (bilinear, 2:1) over other
    windows than the file ingest's, and GDAL's warper moves a few pixels by up to 3 (mean 0.1-0.2)."""
    assert set(got) == set(expected) and len(expected) >= 5
    for key, pixels in expected.items():
        diff = np.abs(got[key] - pixels)
        native = key[0] == ZOOM
        assert diff.mean() <= max(max_mean, 0.0 if native else 0.25), (key, diff.mean(), diff.max())
        assert diff.max() <= max(max_abs, 0 if native else 4), (key, diff.mean(), diff.max())


def test_xyz_png_tiles_ingest_like_the_file_pixel_for_pixel(server, reference):
    mosaic, job = _tiles(server, "/xyz/{z}/{x}/{y}.png", attribution="© Test Imagery 2020", concurrency=3)

    assert job.status == JobStatus.SUCCEEDED, job.error
    assert mosaic.status == MosaicStatus.INGESTED and mosaic.source == MosaicSource.TILES
    _assert_same(_images(mosaic), reference)
    assert job.result["fetch"]["requests"] == len(server.log.paths) == 4 * 4 + 2 * 2
    assert server.log.user_agents == {"AstroLoc-Test/1"}
    assert 1 < server.log.max_in_flight <= 3
    layer = next(layer for layer in basemap_layers() if layer["year"] == 2020)
    assert layer["attribution"] == "© Test Imagery 2020"


def test_jpeg_tiles_ingest_within_jpeg_tolerance(server, reference):
    mosaic, job = _tiles(server, "/xyzjpg/{z}/{x}/{y}.jpg")

    assert job.status == JobStatus.SUCCEEDED, job.error
    _assert_same(_images(mosaic), reference, max_mean=4.0, max_abs=40)


def test_wmts_rest_template(server, reference):
    mosaic, job = _tiles(server, "/wmts/{TileMatrix}/{TileRow}/{TileCol}.png")

    assert job.status == JobStatus.SUCCEEDED, job.error
    _assert_same(_images(mosaic), reference)


def test_tms_tiles_made_by_gdal2tiles(server, imagery, reference):
    out = imagery / "tms"
    if not out.exists():
        subprocess.run(["gdal2tiles.py", "-q", "-z", "12", "-w", "none", "-r", "near", str(imagery / "mosaic.tif"),
                        str(out)], check=True, timeout=120)
    tiling = TilingParameters(zooms=(12,), span=2, format="png")
    mosaic, job = _tiles(server, "/tms/{z}/{x}/{-y}.png", tiling=tiling)

    assert job.status == JobStatus.SUCCEEDED, job.error
    _assert_same(_images(mosaic), {k: v for k, v in reference.items() if k[0] == 12})


def test_transparent_pixels_of_a_tile_are_nodata(server, imagery):
    """A tile half transparent (its RGB under the alpha left as is) counts 1/8 of a 2 x 2 image as nodata:
    black there, and the image dropped when the nodata threshold is below 1/8."""
    x, y = X0 + 1, Y0 + 1
    folder = imagery / "alpha" / "12"
    for source in (imagery / "xyz" / "12").rglob("*.png"):
        target = folder / source.parent.name / source.name
        target.parent.mkdir(parents=True, exist_ok=True)
        rgba = np.asarray(Image.open(source).convert("RGBA")).copy()
        if (int(source.parent.name), int(source.stem)) == (x, y):
            rgba[:, :128, 3] = 0
        Image.fromarray(rgba).save(target)
    keep = TilingParameters(zooms=(12,), span=2, format="png", max_nodata=0.2)
    drop = TilingParameters(zooms=(12,), span=2, format="png", max_nodata=0.1)
    plain = _images(_tiles(server, "/xyz/{z}/{x}/{y}.png", tiling=keep)[0])
    kept = _images(_tiles(server, "/alpha/{z}/{x}/{y}.png", year=2021, tiling=keep)[0])
    dropped = _images(_tiles(server, "/alpha/{z}/{x}/{y}.png", year=2022, tiling=drop)[0])

    touching = {(12, cx, cy) for cx in (x - 1, x) for cy in (y - 1, y)}
    assert set(kept) == set(plain) and touching <= set(kept)
    image = kept[(12, x, y)]  # the transparent half is the image's top-left tile's left half
    assert not image[:256, :128].any() and np.array_equal(image[:, 128:], plain[(12, x, y)][:, 128:])
    full = {(12, cx, cy) for cx in range(X0, X0 + SIDE_TILES - 1) for cy in range(Y0, Y0 + SIDE_TILES - 1)}
    assert set(dropped) == full - touching  # edge images (half outside the bbox) and the 4 touching ones go


def test_a_second_ingest_is_served_from_the_cache(server, reference):
    _tiles(server, "/xyz/{z}/{x}/{y}.png")
    server.log.reset()

    mosaic, job = _tiles(server, "/xyz/{z}/{x}/{y}.png", year=2021)

    assert job.status == JobStatus.SUCCEEDED, job.error
    assert server.log.paths == [] and job.result["fetch"]["cache_hits"] > 0
    _assert_same(_images(mosaic), reference)


def test_a_failed_ingest_resumes_without_refetching(server, reference):
    server.log.fail.add("/xyz/12/2161/1465.png")
    request = mosaic_ingest_tiles(url_template=server.url + "/xyz/{z}/{x}/{y}.png", bbox=BBOX, year=2020,
                                  tiling=TILING, rate_per_s=0, concurrency=1)
    mosaic, job = _run(request)
    assert job.status == JobStatus.FAILED and "503" in job.error
    assert mosaic.status == MosaicStatus.FAILED
    fetched_before = {p for p in server.log.paths if p not in server.log.fail}
    assert fetched_before
    server.log.fail.clear()
    server.log.reset()

    mosaic, job = _run(mosaic_ingest_tiles(url_template=server.url + "/xyz/{z}/{x}/{y}.png", bbox=BBOX, year=2020,
                                           tiling=TILING, rate_per_s=0, concurrency=1))

    assert job.status == JobStatus.SUCCEEDED, job.error
    assert not fetched_before & set(server.log.paths)
    _assert_same(_images(mosaic), reference)


def test_cog_by_url_ingests_like_the_file_in_windows(server, imagery):
    file_mosaic, _ = _run(mosaic_ingest(path=imagery / "mosaic_cog.tif", year=2019, tiling=TILING))
    mosaic, job = _run(mosaic_ingest_cog(url=f"{server.url}/mosaic_cog.tif", year=2020, tiling=TILING,
                                         attribution="© COG provider"))

    assert job.status == JobStatus.SUCCEEDED, job.error
    assert mosaic.source == MosaicSource.COG and mosaic.crs == "EPSG:3857"
    got, expected = _images(mosaic), _images(file_mosaic)
    assert set(got) == set(expected) and all(np.array_equal(got[k], expected[k]) for k in expected)
    assert server.log.full_gets == 0 and job.result["fetch"]["requests"] == len(server.log.paths) >= 1


def test_stac_item_asset_ingests_the_cog_it_points_to(server, capsys):
    call_command("ingest_tiles", "--stac-item", f"{server.url}/stac/item.json", "--asset", "visual",
                 "--zooms", "12", "--span", "2", "--year", "2020", "--in-process")

    mosaic = Mosaic.objects.get()
    assert mosaic.source_url == f"{server.url}/mosaic_cog.tif" and mosaic.status == MosaicStatus.INGESTED
    with pytest.raises(CommandError, match="no asset 'analytic' with an href \\(its assets: visual\\)"):
        call_command("ingest_tiles", "--stac-item", f"{server.url}/stac/item.json", "--asset", "analytic",
                     "--year", "2021")


def test_cog_ingest_stops_at_the_byte_budget(server, settings):
    settings.ASTROLOC_COG_MAX_BYTES = 600 * 1024
    _, job = _run(mosaic_ingest_cog(url=f"{server.url}/mosaic_cog.tif", year=2020, tiling=TILING))

    assert job.status == JobStatus.FAILED and "ASTROLOC_COG_MAX_BYTES" in job.error


def test_cog_on_a_server_without_ranges_is_refused(server):
    server.log.no_ranges = True
    mosaic, job = _run(mosaic_ingest_cog(url=f"{server.url}/mosaic_cog.tif", year=2020, tiling=TILING))

    assert job.status == JobStatus.FAILED and "byte ranges" in job.error
    assert mosaic.error and SatelliteTile.objects.count() == 0


@pytest.mark.parametrize("source", ["--url-template", "--cog"])
def test_a_host_not_allowed_is_refused_before_anything_is_recorded(server, settings, source):
    settings.ASTROLOC_FETCH_ALLOWED_HOSTS = ["tiles.example.org"]
    url = server.url + ("/xyz/{z}/{x}/{y}.png" if source == "--url-template" else "/mosaic_cog.tif")

    with pytest.raises(CommandError, match=r"host '127\.0\.0\.1' is not allowed.*ASTROLOC_FETCH_ALLOWED_HOSTS"):
        call_command("ingest_tiles", source, url, "--bbox", ",".join(map(str, BBOX)), "--year", "2020")
    assert Mosaic.objects.count() == 0 and server.log.paths == []


@pytest.mark.parametrize("source", ["--url-template", "--cog"])
def test_a_private_address_is_refused_unless_configured(server, settings, source):
    settings.ASTROLOC_FETCH_ALLOW_PRIVATE = False
    url = server.url + ("/xyz/{z}/{x}/{y}.png" if source == "--url-template" else "/mosaic_cog.tif")

    with pytest.raises(CommandError, match=r"private.*ASTROLOC_FETCH_ALLOW_PRIVATE"):
        call_command("ingest_tiles", source, url, "--bbox", ",".join(map(str, BBOX)), "--year", "2020")
    assert Mosaic.objects.count() == 0 and server.log.paths == []


@pytest.mark.parametrize("template, message", [
    ("http://127.0.0.1/{z}/{x}.png", "must contain a zoom, a column and a row"),
    ("http://127.0.0.1/{z}/{x}/{y}/{s}.png", r"unknown placeholder\(s\) \{s\}"),
    ("ftp://127.0.0.1/{z}/{x}/{y}.png", "starts with http"),
])
def test_bad_templates_are_refused_with_the_reason(server, template, message):
    with pytest.raises(CommandError, match=message):
        call_command("ingest_tiles", "--url-template", template, "--bbox", "10,45,10.1,45.1", "--year", "2020")


def test_too_many_tiles_are_refused_before_fetching(server, settings):
    settings.ASTROLOC_TILE_INGEST_MAX_TILES = 10
    _, job = _tiles(server, "/xyz/{z}/{x}/{y}.png")

    assert job.status == JobStatus.FAILED and "ASTROLOC_TILE_INGEST_MAX_TILES" in job.error
    assert server.log.paths == []


def test_the_command_runs_the_ingest(server, reference, capsys):
    call_command("ingest_tiles", "--url-template", server.url + "/xyz/{z}/{x}/{y}.png", "--bbox",
                 ",".join(map(str, BBOX)), "--zooms", "11,12", "--span", "2", "--format", "png", "--year", "2020",
                 "--rate", "50", "--attribution", "© Test", "--in-process")

    assert "succeeded" in capsys.readouterr().out
    mosaic = Mosaic.objects.get(year=2020)
    assert mosaic.attribution == "© Test" and mosaic.status == MosaicStatus.INGESTED
    _assert_same(_images(mosaic), reference)
