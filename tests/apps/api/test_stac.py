"""STAC API: the official stac-api-validator and pystac-client against a live server on loopback."""

import json
import subprocess
import sys
from datetime import UTC, datetime

import pytest
from django.conf import settings

from apps.imagery.models import Mosaic
from tests.factories import footprint_create, photo_create, user_create

REPO_ROOT = settings.REPO_ROOT


@pytest.fixture
def stac_archive(transactional_db):
    """A few localized photos near Toshka (Egypt) in 2021-2022, one private, and a 2020 mosaic."""
    from django.core.cache import cache

    from apps.core.geo import bbox_polygon

    cache.clear()
    alice = user_create("alice")
    for i, (lon, cloud, day) in enumerate([(31.0, 5.0, 8), (31.5, 30.0, 9), (32.0, 70.0, 10), (32.5, 2.0, 11)]):
        photo = photo_create(f"ISS064-E-{100 + i}", owner=alice, cloud_pct=cloud, tilt_deg=4.0, tilt_class="NV",
                             captured_at=datetime(2021, 4, day, 4, 39, tzinfo=UTC), sun_elevation_deg=50.0,
                             sun_azimuth_deg=120.0, altitude_km=420.0)
        footprint_create(photo, center=(lon, 22.5), confidence=0.9)
    hidden = photo_create("ISS064-E-999", owner=alice, visibility="private", cloud_pct=1.0,
                          captured_at=datetime(2021, 4, 8, 4, 40, tzinfo=UTC))
    footprint_create(hidden, center=(31.0, 22.5))
    Mosaic.objects.create(name="s2cloudless", year=2020, bounds=bbox_polygon(30, 20, 35, 25))
    yield
    cache.clear()


def test_stac_api_validator_passes(stac_archive, live_server):
    geometry = {"type": "Polygon", "coordinates": [[[30.5, 22], [33, 22], [33, 23], [30.5, 23], [30.5, 22]]]}
    command = [
        sys.executable, "-m", "tests.apps.api.stac_validator_offline", "--root-url", f"{live_server.url}/stac/",
        "--collection", "astronaut-photos", "--geometry", json.dumps(geometry),
        *[arg for c in ("core", "item-search", "features", "collections", "filter") for arg in ("--conformance", c)],
    ]
    result = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]


def test_pystac_client_searches_with_bbox_datetime_and_cql2(stac_archive, live_server):
    from pystac_client import Client

    client = Client.open(f"{live_server.url}/stac/")
    assert {c.id for c in client.get_collections()} == {"astronaut-photos", "satellite-mosaics-2020"}
    search = client.search(collections=["astronaut-photos"], bbox=[30.5, 22, 31.8, 23],
                           datetime="2021-04-01/2021-04-30", filter="eo:cloud_cover < 20", filter_lang="cql2-text")
    assert [item.id for item in search.items()] == ["ISS064-E-100"]
    search = client.search(collections=["astronaut-photos"], datetime="2021-04-08/2021-04-10", max_items=10,
                           filter={"op": "s_intersects", "args": [{"property": "geometry"},
                                   {"type": "Point", "coordinates": [32.0, 22.5]}]}, sortby="-datetime")
    assert [item.id for item in search.items()] == ["ISS064-E-102"]
    paged = client.search(collections=["astronaut-photos"], limit=1, sortby="id")
    assert [item.id for item in paged.items()] == [f"ISS064-E-{100 + i}" for i in range(4)]
    item = next(client.search(ids=["ISS064-E-101"]).items())
    assert item.properties["eo:cloud_cover"] == 30.0
    assert item.properties["astroloc:mission_roll_frame"] == "ISS064-E-101"
    assert set(item.assets) >= {"original"}
