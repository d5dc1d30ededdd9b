"""Web pages and the map's data endpoint, through Django's test client (no browser)."""

import gzip
import json

import pytest

from apps.core.geo import bbox_polygon
from apps.footprints.cache import footprints_changed
from apps.footprints.constants import FootprintSource
from apps.footprints.models import Footprint
from apps.photos.constants import PhotoStatus, Visibility
from apps.web.selectors import MAP_FEATURE_LIMIT
from tests.factories import footprint_create, mosaic_create, photo_create, user_create

pytestmark = pytest.mark.django_db


def _grid(n: int, *, start=(10.0, 10.0), step=0.5, **photo_fields):
    for i in range(n):
        photo = photo_create(**photo_fields)
        footprint_create(photo, center=(start[0] + (i % 20) * step, start[1] + (i // 20) * step), half=0.1,
                         confidence=0.9)


def test_map_page_renders_the_filter_form_with_values_from_the_url(client):
    response = client.get("/", {"q": "Nile", "cloud_max": "20", "source": "manual"})

    assert response.status_code == 200
    html = response.content.decode()
    assert 'value="Nile"' in html and 'value="20"' in html
    assert '<option value="manual" selected>' in html


def test_map_data_returns_polygons_when_zoomed_in_and_filters_apply(client):
    a = photo_create("ISS064-E-1", feature_text="Nile delta", cloud_pct=10)
    footprint_create(a, center=(31.0, 30.5), confidence=0.9)
    b = photo_create("ISS065-E-2", feature_text="Alps", cloud_pct=80)
    footprint_create(b, center=(31.5, 30.5), confidence=0.3, source=FootprintSource.MANUAL)

    body = client.get("/map/data", {"bbox": "30,29,33,32", "zoom": "9"}).json()
    assert body["mode"] == "features" and body["total"] == 2
    props = {f["properties"]["photo_id"]: f["properties"] for f in body["features"]["features"]}
    assert props["ISS065-E-2"]["source"] == "manual" and props["ISS064-E-1"]["has_thumbnail"] is False

    def ids(**params):
        data = client.get("/map/data", {"bbox": "30,29,33,32", "zoom": "9", **params}).json()
        return sorted(f["properties"]["photo_id"] for f in data["features"]["features"])

    assert ids(q="nile") == ["ISS064-E-1"]
    assert ids(q="065-E") == ["ISS065-E-2"]
    assert ids(cloud_max="50") == ["ISS064-E-1"]
    assert ids(source="manual") == ["ISS065-E-2"]
    assert ids(confidence_min="0.5") == ["ISS064-E-1"]
    assert ids(mission="ISS065") == ["ISS065-E-2"]
    assert ids(bbox="-10,-10,0,0") == []


def test_map_data_aggregates_into_cells_when_zoomed_out_and_many_match(client):
    _grid(MAP_FEATURE_LIMIT // 2 + 1)

    body = client.get("/map/data", {"bbox": "-180,-85,180,85", "zoom": "2"}).json()

    assert body["mode"] == "cells"
    assert body["features"]["features"] == []
    assert sum(c["count"] for c in body["cells"]) == MAP_FEATURE_LIMIT // 2 + 1
    assert len(body["cells"]) < 50


def test_map_data_reports_bad_filters_as_400_with_the_field(client):
    response = client.get("/map/data", {"bbox": "1,2,3", "zoom": "3"})
    assert response.status_code == 400
    assert "bbox" in response.json()["fields"]


def test_map_data_and_detail_hide_private_photos_from_others(client):
    owner = user_create()
    private = photo_create("ISS066-E-9", visibility=Visibility.PRIVATE, owner=owner)
    footprint_create(private, center=(5.0, 5.0))

    assert client.get("/map/data", {"bbox": "0,0,10,10", "zoom": "9"}).json()["total"] == 0
    assert client.get("/photos/ISS066-E-9/").status_code == 404
    client.force_login(owner)
    assert client.get("/map/data", {"bbox": "0,0,10,10", "zoom": "9"}).json()["total"] == 1
    assert client.get("/photos/ISS066-E-9/").status_code == 200


def test_photo_detail_shows_metadata_history_and_downloads(client):
    photo = photo_create("ISS064-E-77", cloud_pct=15, feature_text="Lake Victoria")
    footprint_create(photo, center=(33.0, -1.0), confidence=0.4)
    reviewer = user_create("reviewer", is_staff=True)
    footprint_create(photo, center=(33.1, -1.0), source=FootprintSource.MANUAL, created_by=reviewer, note="moved")

    html = client.get("/photos/ISS064-E-77/").content.decode()

    assert "Lake Victoria" in html and "15.0 %" in html
    assert html.count("<tr><td>") == 2 and "reviewer" in html and "moved" in html
    assert "/api/v1/photos/ISS064-E-77/files/original" in html
    assert "/api/v1/footprints?photo_id=ISS064-E-77" in html


def test_operator_pages_need_a_login_and_staff_links_show_for_staff(client):
    for url in ("/upload/", "/jobs/", "/review/"):
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith("/accounts/login/")
    assert 'href="/admin/"' not in client.get("/").content.decode()

    client.force_login(user_create(is_staff=True))
    for url in ("/upload/", "/jobs/", "/review/"):
        assert client.get(url).status_code == 200
    assert 'href="/admin/"' in client.get("/").content.decode()


def test_review_queue_lists_needs_review_and_low_confidence_photos(client):
    footprint_create(photo_create("ISS064-E-1"), confidence=0.95)
    footprint_create(photo_create("ISS064-E-2"), confidence=0.2)
    photo_create("ISS064-E-3", status=PhotoStatus.NEEDS_REVIEW)
    client.force_login(user_create())

    html = client.get("/review/").content.decode()

    assert "ISS064-E-2" in html and "ISS064-E-3" in html and "ISS064-E-1" not in html


def test_login_page_logs_in_and_redirects_home(client):
    user_create("ann")
    response = client.post("/accounts/login/", {"username": "ann", "password": "pw-for-tests-1"})
    assert response.status_code == 302 and response.url == "/"
    assert "ann" in client.get("/").content.decode()
    assert client.post("/accounts/logout/").status_code == 302


def test_map_offers_each_imagery_year_with_its_coverage_and_zooms_newest_first_selected(client):
    from tests.factories import tile_create

    old = mosaic_create(year=2019, bounds=bbox_polygon(10, 20, 30, 40))
    tile_create(mosaic=old, zoom=9, x=1, y=1)
    tile_create(mosaic=old, zoom=11, x=1, y=1)
    tile_create(mosaic=mosaic_create(year=2021, bounds=bbox_polygon(0, 0, 5, 5)), zoom=10, x=1, y=1)
    mosaic_create(year=2021, bounds=bbox_polygon(5, 0, 10, 6))
    mosaic_create(year=2023, bounds=bbox_polygon(5, 0, 10, 6))  # not ingested yet: no tiles, no option

    html = client.get("/").content.decode()

    assert '<option value="2021" selected>' in html and '<option value="2019">' in html
    assert '<option value="2023"' not in html
    assert ('[{"year": 2019, "bounds": [10.0, 20.0, 30.0, 40.0], "min_zoom": 9, "attribution": ""}, '
            '{"year": 2021, "bounds": [0.0, 0.0, 10.0, 6.0], "min_zoom": 10, "attribution": ""}]') in html


def test_photo_detail_offers_the_matched_satellite_tile_side_by_side(client):
    from tests.factories import tile_create

    tile = tile_create(mosaic=mosaic_create(year=2020), zoom=8, x=150, y=100, bounds=bbox_polygon(30, 29, 31, 30))
    footprint_create(photo_create("ISS064-E-88"), center=(30.5, 29.5), matched_tile_id=tile.pk, confidence=0.9)

    html = client.get("/photos/ISS064-E-88/").content.decode()

    assert 'id="tile-map"' in html
    assert '"matchedTile": {"year": 2020, "bounds": [30.0, 29.0, 31.0, 30.0], "label": "z8/150/100 (2020)"}' in html


def test_world_view_grid_is_cached_until_a_footprint_changes(client, django_assert_max_num_queries):
    from apps.footprints.services import footprint_reject
    from apps.web.selectors import WORLD_CELLS_MAX_ZOOM

    n = MAP_FEATURE_LIMIT // 2 + 101
    _grid(n)  # 20 per row from (10, 10), 0.5 degree apart
    world = {"bbox": "-180,-85,180,85", "zoom": str(WORLD_CELLS_MAX_ZOOM)}
    first = client.get("/map/data", world).json()
    with django_assert_max_num_queries(1):  # the stamp only: the grid comes from the cache
        second = client.get("/map/data", world).json()
    assert second == first and first["mode"] == "cells" and first["total"] == n

    # Cells are 360 / 2**4 / 4 = 5.625 degrees: the rows at latitudes 10, 10.5 and 11 fall in the cell below
    # 11.25, whose mean position is south of the view, so the view clips them out.
    clipped = client.get("/map/data", {"bbox": "0,11.3,40,40", "zoom": str(WORLD_CELLS_MAX_ZOOM)}).json()
    assert clipped["mode"] == "cells" and clipped["total"] == n - 60
    assert all(c["lat"] >= 11.3 for c in clipped["cells"])

    footprint_create(photo_create(), center=(60.0, 10.0), half=0.1)  # a new id changes the stamp
    assert client.get("/map/data", world).json()["total"] == first["total"] + 1
    victim = Footprint.objects.filter(is_current=True).order_by("pk").first()
    footprint_reject(footprint=victim, reviewer=user_create(is_staff=True))
    footprints_changed()  # what the service does on commit (this test's transaction never commits)
    assert client.get("/map/data", world).json()["total"] == first["total"]


def test_cached_world_grid_is_per_audience_private_photos_stay_hidden(client):
    _grid(MAP_FEATURE_LIMIT // 2 + 1)
    _grid(20, start=(-60.0, -20.0), visibility=Visibility.PRIVATE, owner=user_create())
    world = {"bbox": "-180,-85,180,85", "zoom": "2"}
    client.force_login(user_create(is_staff=True))
    assert client.get("/map/data", world).json()["total"] == MAP_FEATURE_LIMIT // 2 + 21
    client.logout()
    assert client.get("/map/data", world).json()["total"] == MAP_FEATURE_LIMIT // 2 + 1


def test_map_data_and_api_json_are_gzipped_html_pages_are_not(client):
    _grid(30)
    gz = {"HTTP_ACCEPT_ENCODING": "gzip, deflate, br"}
    data = client.get("/map/data", {"bbox": "0,0,30,30", "zoom": "9"}, **gz)
    assert data["Content-Encoding"] == "gzip" and "Accept-Encoding" in data["Vary"]
    assert json.loads(gzip.decompress(data.content))["total"] == 30
    api = client.get("/api/v1/footprints", {"limit": 30}, **gz)
    assert api["Content-Encoding"] == "gzip" and api["Content-Type"].startswith("application/geo+json")
    assert len(json.loads(gzip.decompress(api.content))["features"]) == 30
    client.force_login(user_create())
    page = client.get("/jobs/", **gz)  # carries the CSRF token of the log-out form: never compressed (BREACH)
    assert page.status_code == 200 and "Content-Encoding" not in page and b"csrfmiddlewaretoken" in page.content
    assert "Content-Encoding" not in client.get("/map/data", {"bbox": "0,0,30,30", "zoom": "9"})


def test_batch_page_follows_the_jobs_the_import_queued(client):
    from apps.core.constants import JobKind, JobStatus
    from apps.core.models import Job
    from apps.photos.models import Batch

    staff = user_create(is_staff=True)
    label = Job.objects.create(kind=JobKind.LABEL, status=JobStatus.RUNNING, progress=0.5)
    batch = Batch.objects.create(name="b", created_by=staff, report={
        "summary": {"files": 1, "imported": 1, "skipped": 0, "rejected": 0},
        "next_steps": {"label": [1], "localize": [], "enqueued_jobs": {"label": label.pk}}})
    quiet = Batch.objects.create(name="q", created_by=staff, report={
        "next_steps": {"label": [1, 2], "localize": [3], "enqueued_jobs": {}}})
    client.force_login(staff)

    html = client.get(f"/batches/{batch.pk}/").content.decode()
    assert "Follow-up jobs" in html and f'data-job-id="{label.pk}" data-job-status="running"' in html
    html = client.get(f"/batches/{quiet.pk}/").content.decode()
    assert "Next: 2 photos to label (weak center point) and 1 to localize" in html


def test_jobs_list_filters_by_status_and_keeps_the_choice(client):
    from apps.core.constants import JobKind, JobStatus
    from apps.core.models import Job

    user = user_create()
    Job.objects.create(kind=JobKind.LOCALIZE, status=JobStatus.FAILED, created_by=user, error="boom")
    Job.objects.create(kind=JobKind.LOCALIZE, status=JobStatus.SUCCEEDED, created_by=user)
    client.force_login(user)

    html = client.get("/jobs/", {"status": "failed"}).content.decode()

    assert '<option value="failed" selected>' in html
    assert html.count('class="status-badge status-') == 1 and "status-failed" in html
