"""The map's materialized counts: the same numbers as the live grid, per audience (private photos never reach
another user's counts, extent or histogram), never read when stale, refreshed by the beat task."""

from datetime import UTC, datetime

import pytest
from django.core.management import call_command

from apps.footprints.selectors import FootprintFilter
from apps.photos.constants import Visibility
from apps.web.mapcells import map_aggregates_fresh, map_aggregates_refresh, map_cells_rolled_up
from apps.web.selectors import _grid_cells, map_first_view, map_footprints
from tests.factories import footprint_create, photo_create, user_create

pytestmark = pytest.mark.django_db

MANY = 40


def _grid(n: int, *, start=(10.0, 10.0), **photo_fields) -> None:
    for i in range(n):
        photo = photo_create(captured_at=datetime(2020, 1 + i % 3, 5, tzinfo=UTC), **photo_fields)
        footprint_create(photo, center=(start[0] + (i % 20) * 0.5, start[1] + (i // 20) * 0.5), half=0.1)


def _live(zoom: int, user=None) -> list[dict]:
    return _grid_cells(map_footprints(user=user, filters=FootprintFilter()), zoom)


def _total(user=None) -> int:
    cells = map_cells_rolled_up(user=user, zoom=2, bbox=None) if map_aggregates_fresh() else _live(2, user)
    return sum(c["count"] for c in cells)


def test_aggregated_cells_match_the_live_grid_at_every_zoom_out(client):
    _grid(MANY)
    live = {z: sorted((c["lon"], c["lat"], c["count"]) for c in _live(z)) for z in (1, 3, 5, 6)}
    assert not map_aggregates_fresh()

    assert map_aggregates_refresh() is True
    assert map_aggregates_fresh() and map_aggregates_refresh() is False

    for z, cells in live.items():
        aggregated = sorted((c["lon"], c["lat"], c["count"]) for c in map_cells_rolled_up(user=None, zoom=z, bbox=None))
        assert [c[2] for c in aggregated] == [c[2] for c in cells], z
        assert [v for c in aggregated for v in c] == pytest.approx([v for c in cells for v in c], abs=1e-3), z


def test_private_photos_stay_out_of_other_users_counts_extent_and_histogram(client):
    owner, other = user_create(), user_create()
    _grid(MANY, start=(10.0, 10.0))
    _grid(MANY, start=(-60.0, -30.0), visibility=Visibility.PRIVATE, owner=owner)
    call_command("refresh_map_aggregates")
    assert map_aggregates_fresh()

    def seen() -> tuple[int, list, int]:
        total = _total(client_user[0])
        months = client.get("/map/dates").json()["months"]
        return total, map_first_view(user=client_user[0])["bounds"], sum(m["count"] for m in months)

    client_user = [None]
    total, bounds, dated = seen()
    assert (total, dated) == (MANY, MANY) and bounds[0] > 0  # anonymous: the public grid only
    for user, expected in ((other, MANY), (owner, 2 * MANY), (user_create(is_staff=True), 2 * MANY)):
        client.force_login(user)
        client_user[0] = user
        total, bounds, dated = seen()
        assert (total, dated) == (expected, expected), user
        assert (bounds[0] < -50) == (expected == 2 * MANY)


def test_a_write_or_a_photo_edit_makes_the_aggregates_stale_and_the_map_counts_live():
    _grid(MANY)
    map_aggregates_refresh()
    photo = photo_create(captured_at=datetime(2021, 5, 1, tzinfo=UTC))
    footprint_create(photo, center=(12.0, 11.0), half=0.1)

    assert not map_aggregates_fresh()
    assert _total() == MANY + 1
    map_aggregates_refresh()
    assert _total() == MANY + 1

    photo.visibility = Visibility.PRIVATE
    photo.owner = user_create()
    photo.save()
    assert not map_aggregates_fresh()
    assert _total() == MANY


def test_histogram_counts_months_for_the_filters_but_the_dates(client):
    _grid(30)
    for fresh in (False, True):
        if fresh:
            map_aggregates_refresh()
        months = client.get("/map/dates", {"date_from": "2020-02-01"}).json()["months"]
        assert months == [{"month": "2020-01", "count": 10}, {"month": "2020-02", "count": 10},
                          {"month": "2020-03", "count": 10}]
    assert client.get("/map/dates", {"mission": "NONE"}).json()["months"] == []
    assert client.get("/map/dates", {"cloud_max": "x"}).status_code == 400


def test_first_view_is_the_footprints_else_the_imagery_else_the_world(client):
    assert map_first_view(user=None) == {"bounds": None, "of": "world"}
    footprint_create(photo_create(), center=(30.0, 20.0), half=0.5)
    view = map_first_view(user=None)
    assert view["of"] == "footprints" and view["bounds"] == pytest.approx([29.5, 19.5, 30.5, 20.5])
    assert '"of": "footprints"' in client.get("/").content.decode()


def test_with_fresh_aggregates_few_footprints_still_come_as_polygons_and_filters_apply(client):
    _grid(MANY)
    map_aggregates_refresh()

    body = client.get("/map/data", {"bbox": "-180,-85,180,85", "zoom": "2"}).json()
    assert body["mode"] == "features" and body["total"] == MANY
    assert client.get("/map/data", {"bbox": "-180,-85,180,85", "zoom": "2", "mission": "X"}).json()["total"] == 0
