"""Overview tiles: the ingest builds them down to zoom 0, each parent the 2 x 2 average of its children, the
XYZ endpoint serves them, and ``build_overviews`` makes them for imagery stored before."""

import io

import numpy as np
import pytest
from django.core.management import call_command
from PIL import Image

from apps.imagery.models import BasemapOverview
from apps.imagery.overviews import basemap_overviews_build
from apps.web.selectors import basemap_layers
from tests.apps.imagery.test_basemap import covered_tile, mosaic_path  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db


def rgba(client, url: str) -> np.ndarray:
    response = client.get(url)
    assert response.status_code == 200, url
    return np.asarray(Image.open(io.BytesIO(response.content)).convert("RGBA"), dtype=np.float64)


def test_ingest_builds_overviews_down_to_zoom_0_and_the_endpoint_serves_them(client, mosaic_path):  # noqa: F811
    levels = set(BasemapOverview.objects.filter(year=2019).values_list("zoom", flat=True))
    assert levels == set(range(0, 10))  # stored zooms 10, 11: overviews 9..0
    assert basemap_layers()[0]["min_zoom"] == 0
    for z in (9, 6, 0):
        x, y = covered_tile(mosaic_path, z)
        tile = rgba(client, f"/tiles/2019/{z}/{x}/{y}.png")
        assert tile.shape == (256, 256, 4)
        assert (tile[..., 3] > 0).any(), f"z{z} shows the imagery"
    x, y = covered_tile(mosaic_path, 6)
    jpeg = client.get(f"/tiles/2019/6/{x}/{y}.jpg")
    assert jpeg.status_code == 200 and jpeg["Content-Type"] == "image/jpeg"


def test_a_parent_is_the_average_of_its_four_children(client, mosaic_path):  # noqa: F811
    x, y = covered_tile(mosaic_path, 9)
    parent = rgba(client, f"/tiles/2019/9/{x}/{y}.png")
    children = np.zeros((512, 512, 4))
    for dx in (0, 1):
        for dy in (0, 1):
            response = client.get(f"/tiles/2019/10/{2 * x + dx}/{2 * y + dy}.png")
            if response.status_code == 200:
                child = np.asarray(Image.open(io.BytesIO(response.content)).convert("RGBA"), dtype=np.float64)
                children[dy * 256:(dy + 1) * 256, dx * 256:(dx + 1) * 256] = child
    averaged = children.reshape(256, 2, 256, 2, 4).mean(axis=(1, 3))
    opaque = parent[..., 3] == 255
    assert opaque.sum() > 1000
    assert np.abs(parent[opaque][:, :3] - averaged[opaque][:, :3]).mean() < 1.0


def test_command_builds_overviews_for_imagery_stored_before(client, mosaic_path):  # noqa: F811
    BasemapOverview.objects.all().delete()
    x, y = covered_tile(mosaic_path, 6)
    assert client.get(f"/tiles/2019/6/{x}/{y}.png").status_code == 404
    out = io.StringIO()

    call_command("build_overviews", stdout=out)

    assert "2019:" in out.getvalue() and "from z10" in out.getvalue()
    assert client.get(f"/tiles/2019/6/{x}/{y}.png").status_code == 200
    assert basemap_overviews_build(year=1999).from_zoom is None


def test_near_black_nodata_neither_shows_nor_darkens_the_imagery_edge():
    from apps.imagery.overviews import _nodata_transparent, _parent

    child = np.zeros((256, 256, 4), np.uint8)
    child[..., 3] = 255
    child[:, :129] = (200, 100, 50, 255)  # imagery; an odd edge, so parent pixels straddle it
    child[:, 129:, :3] = np.random.default_rng(0).integers(0, 9, (256, 127, 3))  # JPEG noise in the nodata
    parent = np.asarray(_parent([(0, 0, _nodata_transparent(Image.fromarray(child, "RGBA")))], 0, 0))
    seen = parent[parent[..., 3] > 0]
    assert len(seen) == 65 * 128  # the imagery's 64.5 columns of the parent's 128 x 128 quarter, no nodata
    assert np.abs(seen[:, :3].astype(int) - (200, 100, 50)).max() <= 2  # the straddling column is not darkened
