"""The photo page compares our footprint with NASA's machine footprint (nasa_ml): both on the mini map (NASA's
dashed), their IoU, and NASA's never shown as ours."""

import json

import pytest
from django.core.files.base import ContentFile

from apps.core.jobrun import job_run_here
from apps.footprints.constants import FootprintSource
from apps.footprints.services import footprint_add, footprint_iou
from apps.imagery.services import TilingParameters, mosaic_ingest
from apps.photos.constants import PhotoStatus
from tests.apps.web.browser_checks import axe_violations
from tests.apps.web.site_data import _jpeg
from tests.factories import photo_create

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def test_photo_page_shows_our_footprint_beside_nasas(live_server, page, screenshot_dir, synth_tiny):
    request = mosaic_ingest(path=synth_tiny / "mosaics" / "2021_3857.tif", year=2021,
                            tiling=TilingParameters(zooms=(10, 11), span=4, size_px=256, format="png"))
    job_run_here(request.job)
    truth = json.loads((synth_tiny / "truth" / "photos.json").read_text())[0]
    photo = photo_create(truth["photo_id"], status=PhotoStatus.LOCALIZED, feature_text="Synthetic dune field",
                         geographic_name="SYNTHETIC EARTH", sun_azimuth_deg=112.0, sun_elevation_deg=54.0,
                         source_url=f"https://eol.jsc.nasa.gov/DatabaseImages/ESC/large/{truth['photo_id'][:6]}/"
                                    f"{truth['photo_id']}.JPG")
    photo.web_image.save(f"{truth['photo_id']}-web.jpg", ContentFile(_jpeg(synth_tiny / truth["path"], 800)))
    ours_corners = [tuple(c) for c in truth["footprint"]]
    # NASA's machine footprint: about right, a little shifted and larger, as a coarse estimate is.
    lon0 = sum(c[0] for c in ours_corners) / 4
    lat0 = sum(c[1] for c in ours_corners) / 4
    nasa_corners = [(lon0 + (lon - lon0) * 1.3 + 0.04, lat0 + (lat - lat0) * 1.3 - 0.03) for lon, lat in ours_corners]
    nasa = footprint_add(photo=photo, corners=nasa_corners, source=FootprintSource.NASA_ML, note="NASA mlcoord")
    ours = footprint_add(photo=photo, corners=ours_corners, source=FootprintSource.AUTO_LABEL, confidence=0.91,
                         inliers=120)
    nasa.refresh_from_db()
    assert ours.is_current and not nasa.is_current

    page.goto(f"{live_server.url}/photos/{photo.photo_id}/")
    page.wait_for_selector("#photo-map path.leaflet-interactive")
    page.wait_for_function("document.querySelectorAll('#photo-map path.leaflet-interactive').length === 2")
    dashes = page.eval_on_selector_all("#photo-map path.leaflet-interactive",
                                       "paths => paths.map(p => p.getAttribute('stroke-dasharray'))")
    assert sorted(str(d) for d in dashes) == ["6 4", "None"]  # ours solid, NASA's dashed
    expected_iou = footprint_iou(ours.polygon, nasa.polygon)
    assert 0.2 < expected_iou < 0.9
    assert page.locator("#nasa-iou").inner_text() == f"{expected_iou:.3f}"
    section = page.locator("#footprint-comparison").inner_text()
    assert "Auto-label" in section and "NASA machine footprint" in section
    page.wait_for_function("document.querySelector('img.leaflet-warped-image')?.style.transform.startsWith('matrix3d')")
    page.set_viewport_size({"width": 1366, "height": 1500})  # the map, the comparison and the metadata in one shot
    page.screenshot(path=str(screenshot_dir / "photo-nasa-ml-comparison.png"), full_page=True)
    assert page.console_errors == [] and page.failed_requests == []
    assert axe_violations(page) == []
