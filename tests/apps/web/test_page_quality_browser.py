"""Every page, populated, in a real Chromium: accessible (axe-core), clean console, only local requests, no
horizontal scrolling down to small laptop screens, readable without JavaScript, usable with the keyboard.

Screenshots of every page at each size go to the screenshot folder (var/screenshots/page-<name>-<size>.png).
"""

import re

import pytest

from apps.core.models import Job
from apps.footprints.models import Footprint
from apps.photos.constants import PhotoStatus
from apps.photos.models import Photo
from tests.apps.web.browser_checks import RequestLog, axe_violations, covered_controls, horizontal_overflow
from tests.apps.web.site_data import PASSWORD, Site, populate

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

SIZES = {"laptop": (1280, 720), "small": (1024, 768)}


def _pages(site: Site) -> list[tuple[str, str, bool, str]]:
    """(name, path, needs a login, selector that says the page is ready)."""
    lat, lon = site.centre
    return [
        ("map", f"/?lat={lat}&lon={lon}&z=10", False, "#map[data-loaded=features]"),
        ("map-world", "/?lat=20&lon=0&z=2", False, "#map[data-loaded]"),
        ("photo-detail", f"/photos/{site.detail_id}/", False, "img.leaflet-warped-image"),
        ("login", "/accounts/login/", False, "#id_username"),
        ("upload", "/upload/", True, "#dropzone"),
        ("batch", f"/batches/{site.batch_pk}/", True, "#batch-files"),
        ("jobs", "/jobs/", True, "#job-table"),
        ("job-detail", f"/jobs/{site.job_pk}/", True, ".job-progress"),
        ("job-running", f"/jobs/{site.running_job_pk}/", True, ".job-progress"),
        ("review", "/review/", True, "#review-table"),
        ("review-photo", f"/review/{site.review_id}/", True, ".leaflet-editing-icon"),
    ]


def _login(page, base_url: str) -> None:
    page.goto(base_url + "/accounts/login/?next=/jobs/")
    page.fill("#id_username", "archivist")
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(base_url + "/jobs/")


@pytest.fixture
def site(synth_tiny) -> Site:
    return populate(synth_tiny)


def test_every_page_is_accessible_clean_and_fits_laptop_and_small_screens(live_server, browser, site,
                                                                          screenshot_dir):
    problems: dict[str, list[str]] = {}
    for size_name, (width, height) in SIZES.items():
        for logged_in in (False, True):
            context = browser.new_context(viewport={"width": width, "height": height})
            page = context.new_page()
            log = RequestLog(page, live_server.url)
            if logged_in:
                _login(page, live_server.url)
            for name, path, needs_login, ready in _pages(site):
                if needs_login != logged_in:
                    continue
                key = f"{name}@{size_name}"
                page.goto(live_server.url + path)
                page.wait_for_selector(ready)
                page.wait_for_load_state("networkidle")
                page.screenshot(path=str(screenshot_dir / f"page-{name}-{size_name}.png"))
                found = axe_violations(page)
                overflow = horizontal_overflow(page)
                if overflow > 0:
                    found.append(f"page is {overflow} px wider than the {width} px window")
                found += [f"covered: {c}" for c in covered_controls(page)]
                if found:
                    problems[key] = found
            if log.problems():
                problems[f"console/network@{size_name}{' (logged in)' if logged_in else ''}"] = log.problems()
            context.close()
    assert problems == {}, "\n".join(f"{k}:\n  " + "\n  ".join(v) for k, v in problems.items())


def test_pages_are_readable_without_javascript(live_server, browser, site):
    context = browser.new_context(java_script_enabled=False, viewport={"width": 1280, "height": 720})
    page = context.new_page()

    page.goto(live_server.url + f"/photos/{site.detail_id}/")
    meta = page.locator("table.meta").inner_text()
    assert "NIKON D5" in meta and "418.0 km" in meta and "Localized" in meta
    history = page.locator("#footprint-history").inner_text()
    assert "Rejected by archivist" in history and "matched the wrong dune field" in history
    assert page.locator("a[download]").count() >= 3  # downloads are plain links

    page.goto(live_server.url + "/?q=scene")
    assert page.locator("#f-q").input_value() == "scene"  # the filter form is plain HTML (GET)
    assert page.locator("#map-status a[href='/api/v1/footprints']").count() == 1

    page.goto(live_server.url + "/accounts/login/?next=/jobs/")  # a plain POST form
    page.fill("#id_username", "archivist")
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(live_server.url + "/jobs/")
    rows = page.locator("#job-table tbody tr")
    assert rows.count() == Job.objects.count() >= 6  # 2 ingests, an import, a label, a failed, a running
    assert "Failed" in page.locator("#job-table").inner_text()

    page.goto(live_server.url + f"/batches/{site.batch_pk}/")
    assert page.locator("#batch-files tbody tr").count() == 4
    assert "2 imported, 1 duplicates skipped, 1 rejected" in page.locator("#batch-summary").inner_text()
    assert page.locator(".job-progress").count() == 2  # the import and the label job it queued

    page.goto(live_server.url + "/review/")
    assert site.review_id in page.locator("#review-table").inner_text()
    context.close()


def test_keyboard_only_filter_the_map_and_open_a_photo(live_server, page, site, screenshot_dir):
    lat, lon = site.centre
    page.goto(live_server.url + f"/?lat={lat}&lon={lon}&z=10")
    page.wait_for_selector("#map[data-loaded=features]")

    def tab_to(selector: str, limit: int = 80) -> None:
        for _ in range(limit):
            page.keyboard.press("Tab")
            if page.evaluate("(s) => document.activeElement && document.activeElement.matches(s)", selector):
                outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
                assert outline != "none", f"{selector} has no visible focus outline"
                return
        pytest.fail(f"{selector} not reachable with Tab")

    tab_to(".skip-link")
    tab_to("#f-q")
    page.keyboard.type("scene 3")
    page.keyboard.press("Enter")
    page.wait_for_function("document.getElementById('map-status').textContent.startsWith('1 of 1')")
    assert "q=scene+3" in page.url
    tab_to("#results a")
    assert site.photo_ids[2] in page.evaluate("document.activeElement.textContent")
    page.screenshot(path=str(screenshot_dir / "keyboard-map-filtered.png"))
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(rf".*/photos/{site.photo_ids[2]}/$"))
    tab_to("#overlay-opacity")
    before = page.eval_on_selector("img.leaflet-warped-image", "img => img.style.opacity")
    page.keyboard.press("ArrowLeft")
    assert page.eval_on_selector("img.leaflet-warped-image", "img => img.style.opacity") != before
    assert page.console_errors == [] and page.failed_requests == []


def test_review_rejects_a_footprint_then_a_redrawn_one_resolves_it(live_server, page, site, screenshot_dir):
    _login(page, live_server.url)
    page.goto(live_server.url + f"/review/{site.review_id}/")
    page.wait_for_selector(".leaflet-editing-icon")
    bad = Footprint.objects.get(photo__photo_id=site.review_id, is_current=True)

    page.fill("#review-note", "wrong dune field")
    page.click("#review-reject")
    page.wait_for_selector("#review-status[data-rejected]")
    page.screenshot(path=str(screenshot_dir / "review-rejected.png"))
    bad.refresh_from_db()
    photo = Photo.objects.get(photo_id=site.review_id)
    assert not bad.is_current and bad.rejected_by == site.staff and bad.rejection_note == "wrong dune field"
    assert photo.status == PhotoStatus.NEEDS_REVIEW and "wrong dune field" in photo.status_reason
    assert page.is_disabled("#review-accept") and page.is_disabled("#review-reject")

    page.reload()  # no current footprint now: the editor starts from the rejected one
    assert "was rejected by archivist" in page.locator("main").inner_text()
    handle = page.locator(".leaflet-marker-icon.leaflet-editing-icon").first
    box = handle.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] - 25, box["y"] - 15, steps=5)
    page.mouse.up()
    page.click("#review-save")
    page.wait_for_selector("#review-status[data-saved]")

    new = Footprint.objects.get(photo__photo_id=site.review_id, is_current=True)
    photo.refresh_from_db()
    assert new.source == "manual" and new.created_by == site.staff and not new.polygon.equals(bad.polygon)
    assert photo.status == PhotoStatus.LOCALIZED
    page.goto(live_server.url + "/review/")
    assert site.review_id not in page.locator("#review-table").inner_text()
    assert page.console_errors == [] and page.failed_requests == []


def test_the_checks_can_fail_on_a_broken_page(page):
    """The audit helpers find what they exist to find (so an empty result above means something)."""
    page.set_viewport_size({"width": 1024, "height": 768})
    page.set_content("""<html><body><main>
        <input id="nameless"><button id="blank"></button>
        <p style="color:#bbb;background:#fff">low contrast text</p>
        <div style="width:1500px">too wide</div>
        <a href="#x" id="hidden-link" style="position:absolute;left:10px;top:300px">covered</a>
        <div style="position:absolute;left:0;top:290px;width:200px;height:60px;background:#fff"></div>
    </main></body></html>""")
    found = " ".join(axe_violations(page))
    assert "label" in found and "button-name" in found and "color-contrast" in found
    assert horizontal_overflow(page) > 0
    assert any(c.startswith("#hidden-link covered by div") for c in covered_controls(page))
