"""The archivists' map in a real Chromium on a populated archive: it opens on the archive over the world layer,
shows imagery zoomed out (overview tiles), filters by brushing the date histogram, lists photos with
thumbnails and highlights a footprint when its list entry is hovered. Screenshots: map-archive-*.png."""

import pytest

from apps.footprints.models import Footprint
from tests.apps.web.site_data import Site, populate

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


@pytest.fixture
def site(synth_tiny) -> Site:
    return populate(synth_tiny)


def _drawn(page) -> int:
    return int(page.get_attribute("#map", "data-drawn"))


def test_first_view_fits_the_archive_over_the_land_layer_and_the_list_has_thumbnails(live_server, page, site,
                                                                                       screenshot_dir):
    current = Footprint.objects.filter(is_current=True).count()
    page.goto(live_server.url + "/")
    page.wait_for_selector("#map[data-loaded=features]")
    page.wait_for_selector("#map[data-world]")
    page.wait_for_load_state("networkidle")

    assert _drawn(page) == current, "the first view holds every footprint of the archive"
    assert page.locator(".leaflet-world-land-pane canvas").count() == 1
    view = "['lat', 'lon', 'z'].map((k) => new URLSearchParams(location.search).get(k))"
    lat, lon, zoom = (float(v) for v in page.evaluate(view))
    assert abs(lat - site.centre[0]) < 1.5 and abs(lon - site.centre[1]) < 1.5 and zoom >= 7
    thumbs = page.locator("#results img")
    assert thumbs.count() == current
    assert page.evaluate("[...document.querySelectorAll('#results img')].every(i => i.complete && i.naturalWidth > 0)")
    page.screenshot(path=str(screenshot_dir / "map-archive-first-view.png"))

    first = page.locator("#results a").first
    photo_id = first.inner_text().split(" ")[0]
    first.hover()
    page.wait_for_selector(f"#map[data-highlighted='{photo_id}']")
    page.locator("#results").screenshot(path=str(screenshot_dir / "map-archive-photo-list.png"))
    assert page.console_errors == [] and page.failed_requests == []


def test_world_view_and_zoom_to_archive(live_server, page, site, screenshot_dir):
    page.goto(live_server.url + "/?lat=20&lon=0&z=2")
    page.wait_for_selector("#map[data-loaded]")
    page.wait_for_selector("#map[data-world='110m']")
    page.wait_for_load_state("networkidle")
    assert page.locator(".country-label").count() > 10
    page.screenshot(path=str(screenshot_dir / "map-archive-world.png"))

    page.click("#zoom-archive")
    page.wait_for_function("new URLSearchParams(location.search).get('z') >= 7")
    page.wait_for_selector("#map[data-loaded=features]")
    assert _drawn(page) == Footprint.objects.filter(is_current=True).count()
    assert page.console_errors == [] and page.failed_requests == []


def test_imagery_tiles_are_served_at_zoom_6(live_server, page, site, screenshot_dir):
    tiles: list[tuple[str, int]] = []
    page.on("response", lambda r: "/tiles/" in r.url and tiles.append((r.url, r.status)))
    lat, lon = site.centre
    page.goto(live_server.url + f"/?lat={lat}&lon={lon}&z=6")
    page.wait_for_selector("#map[data-loaded]")
    page.wait_for_selector(".leaflet-tile-loaded")  # the basemap is added once its layers are known: wait for it
    page.wait_for_load_state("networkidle")

    assert tiles, "the basemap asks for tiles at zoom 6"
    assert all(status == 200 and "/6/" in url for url, status in tiles), tiles
    assert page.locator(".leaflet-tile-loaded").count() >= 1
    page.screenshot(path=str(screenshot_dir / "map-archive-zoom6.png"))
    assert page.console_errors == [] and page.failed_requests == []


def test_brushing_the_histogram_filters_the_footprints_drawn(live_server, page, site):
    page.goto(live_server.url + "/")
    page.wait_for_selector("#map[data-loaded=features]")
    page.wait_for_selector("#histogram rect.bar")
    before = _drawn(page)
    bars = page.locator("#histogram rect.bar")
    first = bars.first.bounding_box()

    page.mouse.move(first["x"] + 1, first["y"] + first["height"] / 2)
    page.mouse.down()
    page.mouse.move(first["x"] + first["width"] - 1, first["y"] + first["height"] / 2)
    page.mouse.up()

    page.wait_for_function(f"document.querySelector('#map').dataset.drawn !== '{before}'")
    assert 0 < _drawn(page) < before
    assert page.input_value("#f-from") == "2020-07-01" and page.input_value("#f-to") == "2020-07-31"
    assert "date_from=2020-07-01" in page.url
    assert page.locator("#histogram rect.bar-out").count() > 0

    page.click("#dates-clear")
    page.wait_for_function(f"document.querySelector('#map').dataset.drawn === '{before}'")
    assert page.console_errors == [] and page.failed_requests == []
