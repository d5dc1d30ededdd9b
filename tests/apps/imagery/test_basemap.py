"""The XYZ basemap endpoint serves the ingested pixels, with cache headers, and 404 outside coverage."""

import io
import math

import numpy as np
import pytest
import rasterio
from PIL import Image

from apps.core.jobrun import job_run_here
from apps.imagery.services import TilingParameters, mosaic_ingest

pytestmark = pytest.mark.django_db

HALF = math.pi * 6378137.0


@pytest.fixture
def mosaic_path(synth_tiny):
    path = synth_tiny / "mosaics" / "2019_3857.tif"
    # 64 px per z11 tile in the mosaic: stored images of 4 x 4 z11 tiles at 256 px are its native pixels.
    request = mosaic_ingest(path=path, year=2019, tiling=TilingParameters(zooms=(10, 11), span=4, size_px=256,
                                                                          format="png"))
    job_run_here(request.job)
    return path


def source_pixels(path, z: int, x: int, y: int, n_tiles: float = 1.0) -> np.ndarray:
    """The mosaic's own pixels under XYZ tile (z, x, y), read straight from the GeoTIFF."""
    size = 2 * HALF / 2 ** z
    with rasterio.open(path) as src:
        col, row = ~src.transform * (-HALF + x * size, HALF - y * size)
        px = round(size * n_tiles / src.transform.a)
        data = src.read(window=rasterio.windows.Window(round(col), round(row), px, px))
    return np.moveaxis(data, 0, 2)


def covered_tile(path, z: int) -> tuple[int, int]:
    with rasterio.open(path) as src:
        cx, cy = (src.bounds.left + src.bounds.right) / 2, (src.bounds.bottom + src.bounds.top) / 2
    size = 2 * HALF / 2 ** z
    return int((cx + HALF) // size), int((HALF - cy) // size)


def get_image(client, url: str) -> np.ndarray:
    response = client.get(url)
    assert response.status_code == 200, response
    return np.asarray(Image.open(io.BytesIO(response.content)).convert("RGB"))


def test_png_tile_pixels_match_the_source(client, mosaic_path):
    x, y = covered_tile(mosaic_path, 11)

    response = client.get(f"/tiles/2019/11/{x}/{y}.png")

    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    served = np.asarray(Image.open(io.BytesIO(response.content)))
    assert served.shape == (256, 256, 3)
    source = source_pixels(mosaic_path, 11, x, y)  # 64 x 64 px: enlarged 4x by pixel replication
    assert source.shape == (64, 64, 3)
    assert np.array_equal(served[::4, ::4], source)
    assert np.array_equal(served, np.repeat(np.repeat(source, 4, axis=0), 4, axis=1))


def test_jpeg_tile_is_close_to_the_source(client, mosaic_path):
    x, y = covered_tile(mosaic_path, 11)

    response = client.get(f"/tiles/2019/11/{x}/{y}.jpg")

    assert response["Content-Type"] == "image/jpeg"
    served = np.asarray(Image.open(io.BytesIO(response.content)), dtype=np.float64)
    source = np.repeat(np.repeat(source_pixels(mosaic_path, 11, x, y), 4, 0), 4, 1).astype(np.float64)
    assert np.abs(served - source).mean() < 4.0


def test_coarser_stored_zoom_and_finer_requested_zoom(client, mosaic_path):
    x, y = covered_tile(mosaic_path, 10)
    z10 = get_image(client, f"/tiles/2019/10/{x}/{y}.png")  # stored at 64 px per z10 tile, enlarged 4x
    source = source_pixels(mosaic_path, 10, x, y).astype(np.float64)  # 128 px: the mosaic is finer
    assert source.shape == (128, 128, 3)
    averaged = source.reshape(64, 2, 64, 2, 3).mean(axis=(1, 3))
    assert np.abs(z10[::4, ::4] - averaged).mean() < 6.0
    assert np.array_equal(z10, np.repeat(np.repeat(z10[::4, ::4], 4, 0), 4, 1))

    x13, y13 = covered_tile(mosaic_path, 13)  # beyond the finest stored zoom: cut from the z11 ancestor
    z13 = get_image(client, f"/tiles/2019/13/{x13}/{y13}.png")
    source = source_pixels(mosaic_path, 13, x13, y13)  # 16 x 16 mosaic px
    assert source.shape == (16, 16, 3)
    assert np.array_equal(z13[::16, ::16], source)


def test_cache_headers_and_conditional_get(client, mosaic_path):
    x, y = covered_tile(mosaic_path, 11)
    response = client.get(f"/tiles/2019/11/{x}/{y}.png")
    assert "max-age=" in response["Cache-Control"] and "public" in response["Cache-Control"]
    assert response["ETag"] and response["Last-Modified"]

    again = client.get(f"/tiles/2019/11/{x}/{y}.png", headers={"If-None-Match": response["ETag"]})

    assert again.status_code == 304 and again.content == b""


@pytest.mark.parametrize("url", [
    "/tiles/2019/11/0/0.png",        # far outside the mosaic
    "/tiles/2020/11/{x}/{y}.png",    # covered place, year without imagery
    "/tiles/2019/8/0/0.png",         # an overview zoom, outside the mosaic
    "/tiles/2019/11/99999/1.png",    # not on the z11 grid at all
    "/tiles/2019/11/{x}/{y}.webp",   # unsupported format
])
def test_404_outside_coverage(client, mosaic_path, url):
    x, y = covered_tile(mosaic_path, 11)
    assert client.get(url.format(x=x, y=y)).status_code == 404
