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
