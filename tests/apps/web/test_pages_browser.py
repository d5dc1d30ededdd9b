"""The pages in a real headless Chromium: map with footprints and filters, detail, upload, review."""

import io
import re

import pytest
from django.core.files.base import ContentFile
from PIL import Image
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from apps.footprints.models import Footprint
from apps.photos.models import Photo
from tests.factories import footprint_create, photo_create, user_create

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def _jpeg(size=(64, 48), colour=(30, 120, 200)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, "JPEG")
    return buffer.getvalue()


def _login(page, live_server, user, next_path: str, screenshot=None) -> None:
    page.goto(live_server.url + "/accounts/login/?next=" + next_path)
    page.fill("#id_username", user.username)
    page.fill("#id_password", "pw-for-tests-1")
    if screenshot is not None:
        page.screenshot(path=str(screenshot))
    page.click("button[type=submit]")
    page.wait_for_url(live_server.url + next_path)


def _assert_clean(page) -> None:
    assert page.console_errors == []
    assert page.failed_requests == []


def test_map_shows_footprints_filters_and_opens_a_detail_page(live_server, page, screenshot_dir):
    nile = photo_create("ISS064-E-101", feature_text="Nile delta", cloud_pct=5)
    footprint_create(nile, center=(31.0, 30.5), half=0.3, confidence=0.9)
    alps = photo_create("ISS065-E-202", feature_text="Alps", cloud_pct=70)
    footprint_create(alps, center=(32.0, 30.5), half=0.3, confidence=0.3)
    nile.web_image.save("ISS064-E-101-web.jpg", ContentFile(_jpeg()), save=True)

    page.goto(live_server.url + "/?lat=30.5&lon=31.5&z=8")
    page.wait_for_selector("#map[data-loaded=features]")
    assert page.locator("#map-status").inner_text().startswith("2 of 2 footprints")
    assert page.locator("path.leaflet-interactive, canvas.leaflet-zoom-animated").count() >= 1
    page.screenshot(path=str(screenshot_dir / "map-footprints.png"))

    page.fill("#f-q", "nile")
    page.fill("#f-cloud-max", "50")
    page.click("#filters button[type=submit]")
    page.wait_for_function("document.getElementById('map-status').textContent.startsWith('1 of 1')")
    assert "q=nile" in page.url and "cloud_max=50" in page.url and "z=8" in page.url

    box = page.locator("#map").bounding_box()
    px_per_degree = 256 * 2**8 / 360  # at zoom 8; the Nile footprint is 0.5 degree west of the centre
    page.mouse.click(box["x"] + box["width"] / 2 - 0.5 * px_per_degree, box["y"] + box["height"] / 2)
    popup = page.wait_for_selector(".leaflet-popup-content a")
    assert "ISS064-E-101" in popup.inner_text()
    page.screenshot(path=str(screenshot_dir / "map-filtered-popup.png"))
    popup.click()

    page.wait_for_url(re.compile(r".*/photos/ISS064-E-101/$"))
    page.wait_for_selector("img.leaflet-warped-image")
    page.wait_for_function("document.querySelector('img.leaflet-warped-image').style.transform.startsWith('matrix3d')")
    page.fill("#overlay-opacity", "0.3")
    assert page.eval_on_selector("img.leaflet-warped-image", "img => img.style.opacity") == "0.3"
    assert "Nile delta" in page.content()
    page.screenshot(path=str(screenshot_dir / "photo-detail.png"), full_page=True)
    _assert_clean(page)


def test_upload_a_small_batch_and_watch_the_import_finish(live_server, page, screenshot_dir, celery_worker,
                                                          tmp_path):
    user = user_create("uploader")
    files = []
    for i, colour in enumerate([(200, 30, 30), (30, 200, 30)]):
        path = tmp_path / f"ISS071-E-{500 + i}.jpg"
        path.write_bytes(_jpeg(size=(120, 90), colour=colour))
        files.append(str(path))
    bad = tmp_path / "ISS071-E-599.jpg"
    bad.write_text("not an image")
    files.append(str(bad))

    _login(page, live_server, user, "/upload/")
    page.screenshot(path=str(screenshot_dir / "upload.png"))
    page.set_input_files("#files", files)
    page.fill("#batch-name", "browser test")
    page.click("#upload-button")

    page.wait_for_url(re.compile(r".*/batches/\d+/$"))
    job_block = page.wait_for_selector(".job-progress")  # the live progress of the import job
    try:  # jobs.js polls the job and reloads the page when it ends; the server then renders the report
        page.wait_for_selector(".job-progress[data-job-status=succeeded], .job-progress[data-job-status=failed]",
                               timeout=90_000)
    except PlaywrightTimeout:
        pytest.fail(f"import job did not end: {job_block.inner_text()}\n{celery_worker.log_tail()}")
    page.screenshot(path=str(screenshot_dir / "batch.png"), full_page=True)

    page.click(".job-progress a")
    page.wait_for_selector(".job-progress progress")
    page.screenshot(path=str(screenshot_dir / "job-detail.png"), full_page=True)
    page.goto(live_server.url + "/jobs/")
    assert page.locator("#job-table tbody tr").count() == 1
    page.screenshot(path=str(screenshot_dir / "jobs.png"), full_page=True)
    _assert_clean(page)

    page.goto(live_server.url + "/upload/")
    page.click("#content table a")
    page.wait_for_selector(".job-progress")
    assert page.locator(".job-progress").get_attribute("data-job-status") == "succeeded", \
        page.locator("main").inner_text()
    summary = page.locator("#batch-summary").inner_text()
    assert "2 imported" in summary and "1 rejected" in summary
    assert page.locator("#batch-files tbody tr").count() == 3
    assert Photo.objects.filter(photo_id__startswith="ISS071-E-50").count() == 2


def test_review_edits_a_footprint_polygon_as_a_new_manual_footprint(live_server, page, screenshot_dir):
    reviewer = user_create("rev", is_staff=True)
    photo = photo_create("ISS064-E-303")
    old = footprint_create(photo, center=(20.0, 10.0), half=0.5, confidence=0.2)

    _login(page, live_server, reviewer, "/review/", screenshot=screenshot_dir / "login.png")
    page.screenshot(path=str(screenshot_dir / "review-queue.png"))
    page.click("text=Review ISS064-E-303")
    page.wait_for_selector(".leaflet-editing-icon")
    handle = page.locator(".leaflet-marker-icon.leaflet-editing-icon").first
    box = handle.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] - 30, box["y"] - 20, steps=5)
    page.mouse.up()
    page.fill("#review-note", "corner fixed")
    page.click("#review-save")
    page.wait_for_selector("#review-status[data-saved]")
    page.screenshot(path=str(screenshot_dir / "review-edit.png"))

    new = Footprint.objects.get(photo=photo, is_current=True)
    assert new.pk != old.pk and new.source == "manual" and new.created_by == reviewer
    assert new.note == "edited: corner fixed"
    assert not new.polygon.equals(old.polygon)
    _assert_clean(page)
