"""The home page in a real headless Chromium: Leaflet loads from our own static files, no errors."""

import pytest

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def test_map_page_renders_a_leaflet_map_without_errors(live_server, page, screenshot_dir):
    external: list[str] = []
    page.on("request", lambda req: req.url.startswith(live_server.url) or req.url.startswith("data:")
            or external.append(req.url))

    page.goto(live_server.url + "/")
    page.wait_for_selector("#map.leaflet-container")

    assert page.title() == "Map · AstroLoc"
    assert page.locator(".leaflet-control-zoom-in").is_visible()
    assert page.evaluate("typeof L !== 'undefined' && typeof L.map === 'function'")
    page.screenshot(path=str(screenshot_dir / "map-empty.png"))
    assert page.console_errors == []
    assert page.failed_requests == []
    assert external == [], "every asset must be served by the project (no CDN)"


def test_map_export_links_carry_the_filters_and_the_view(live_server, page):
    page.goto(live_server.url + "/?mission=ISS064&date_from=2021-01-01&cloud_max=20&q=Nile&lat=10&lon=40&z=6")
    page.wait_for_selector("#map.leaflet-container")
    page.wait_for_function("document.querySelector('a.export-link').href.includes('bbox=')")

    hrefs = page.eval_on_selector_all("a.export-link", "links => links.map(a => a.href)")

    assert [h.split("?")[0].rsplit(".", 1)[1] for h in hrefs] == ["gpkg", "fgb", "kml", "csv"]
    query = hrefs[0].split("?", 1)[1]
    assert "mission=ISS064" in query and "cloud_max=20" in query and "datetime=2021-01-01%2F.." in query
    assert "q=" not in query and "date_from" not in query
    response = page.request.get(hrefs[3])
    assert response.status == 200 and response.text().startswith("WKT,photo_id,")
