"""REST v1: GeoJSON lists and their filters, ordering, cursor pagination, detail, history and errors."""

import json

import pytest

from tests.factories import footprint_create

pytestmark = pytest.mark.django_db


def ids(response) -> list:
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/geo+json"
    body = json.loads(response.content)
    assert body["type"] == "FeatureCollection"
    return [f["properties"]["photo_id"] for f in body["features"]]


def test_footprint_list_is_geojson_built_by_the_database(archive, client_for):
    body = json.loads(client_for().get("/api/v1/footprints").content)
    feature = body["features"][0]
    assert feature["geometry"]["type"] == "Polygon"
    assert len(feature["geometry"]["coordinates"][0]) == 5
    assert {"photo_id", "source", "confidence", "datetime", "is_current"} <= set(feature["properties"])


@pytest.mark.parametrize(("query", "expected"), [
    ("bbox=40,-11,41,-10", ["ISS064-E-1"]),
    ("bbox=170,-11,41,-10", ["ISS064-E-1"]),  # crosses the antimeridian
    ("point=40.4,-10.3&distance_km=5", ["ISS064-E-1"]),
    ("point=-100,36&distance_km=150", ["ISS065-E-3"]),
    ("point=-100,36&distance_km=50", []),
    ("datetime=2021-01-01T00:00:00Z/2021-12-31T00:00:00Z", ["ISS064-E-1"]),
    ("datetime=../2021-12-31", ["ISS064-E-1"]),
    ("mission=ISS065", ["ISS065-E-3"]),
    ("focal_min=100&focal_max=500", ["ISS064-E-1"]),
    ("cloud_max=10", ["ISS064-E-1"]),
    ("tilt=HO", ["ISS065-E-3"]),
    ("confidence_min=0.6", ["ISS064-E-1"]),
    ("source=manual", []),
    ("status=imported", ["ISS064-E-1", "ISS065-E-3"]),
])
def test_footprint_filters(archive, client_for, query, expected):
    assert ids(client_for().get(f"/api/v1/footprints?{query}&ordering=photo_id")) == expected


def test_intersects_by_post(archive, client_for):
    geometry = {"type": "Polygon", "coordinates": [[[-101, 34], [-99, 34], [-99, 36], [-101, 36], [-101, 34]]]}
    response = client_for().post("/api/v1/footprints/search", {"intersects": geometry}, format="json")
    assert ids(response) == ["ISS065-E-3"]


def test_ordering_and_cursor_pagination_walk_every_row_once(archive, client_for):
    client = client_for(archive["staff"])
    seen, url = [], "/api/v1/footprints?limit=1&ordering=-datetime"
    while url:
        body = json.loads(client.get(url).content)
        seen += [f["properties"]["photo_id"] for f in body["features"]]
        url = next((link["href"] for link in body["links"] if link["rel"] == "next"), None)
    assert seen == ["ISS065-E-3", "ISS064-E-2", "ISS064-E-1"]


def test_history_keeps_superseded_footprints(archive, client_for):
    footprint_create(archive["public"], center=(40.41, -10.31), source="manual")
    client = client_for()
    assert len(json.loads(client.get("/api/v1/photos/ISS064-E-1/footprints").content)["features"]) == 2
    assert ids(client.get("/api/v1/footprints?photo_id=ISS064-E-1")) == ["ISS064-E-1"]
    assert ids(client.get("/api/v1/footprints?photo_id=ISS064-E-1&history=true")) == ["ISS064-E-1"] * 2


def test_photo_list_includes_unlocalized_photos_with_null_geometry(archive, client_for):
    body = json.loads(client_for().get("/api/v1/photos").content)
    by_id = {f["id"]: f for f in body["features"]}
    assert by_id["ISS066-E-4"]["geometry"] is None
    assert by_id["ISS064-E-1"]["geometry"]["type"] == "Polygon"
    assert ids(client_for().get("/api/v1/photos?bbox=40,-11,41,-10")) == ["ISS064-E-1"]


def test_photo_detail_links_files_through_the_api(archive, client_for):
    body = client_for().get("/api/v1/photos/ISS064-E-1").json()
    assert body["current_footprint"]["geometry"]["type"] == "Polygon"
    assert body["files"]["original"].endswith("/api/v1/photos/ISS064-E-1/files/original")
    assert "/media/" not in json.dumps(body)
    response = client_for().get("/api/v1/photos/ISS064-E-1/files/original")
    assert response.status_code == 200 and b"fake image bytes" in b"".join(response.streaming_content)


@pytest.mark.parametrize(("query", "field"), [
    ("bbox=1,2,3", "bbox"), ("bbox=a,b,c,d", "bbox"), ("bbox=0,0,200,1", "bbox"),
    ("datetime=yesterday", "datetime"), ("datetime=2022-01-01/2021-01-01", "datetime"),
    ("point=1,2", "distance_km"), ("point=1,95&distance_km=3", "point"), ("limit=0", "limit"),
    ("limit=100000", "limit"), ("tilt=XX", "tilt"), ("cursor=garbage", "cursor"), ("ordering=owner", "ordering"),
    ("focal_min=5&focal_max=1", "focal_min"), ("intersects=%7B%22type%22%3A1%7D", "intersects"),
])
def test_bad_input_is_a_json_400_naming_the_field(archive, client_for, query, field):
    response = client_for().get(f"/api/v1/footprints?{query}")
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["description"] and field in body["fields"]


def test_invalid_polygon_is_rejected_not_a_500(archive, client_for):
    bowtie = {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}
    response = client_for().post("/api/v1/footprints/search", {"intersects": bowtie}, format="json")
    assert response.status_code == 400 and "intersects" in response.json()["fields"]


def test_manual_footprint_by_owner_only(archive, client_for):
    corners = [[40.0, -10.0], [40.2, -10.0], [40.2, -10.2], [40.0, -10.2]]
    url = "/api/v1/photos/ISS064-E-1/footprints"
    assert client_for().post(url, {"corners": corners}, format="json").status_code in (401, 403)
    assert client_for(archive["bob"]).post(url, {"corners": corners}, format="json").status_code == 403
    response = client_for(archive["alice"]).post(url, {"corners": corners}, format="json")
    assert response.status_code == 201 and response.json()["properties"]["source"] == "manual"


def test_reject_footprint_by_owner_or_staff_records_the_reviewer(archive, client_for):
    fp = archive["fp_public"]
    url = f"/api/v1/footprints/{fp.pk}/reject"
    assert client_for().post(url, {"note": "x"}, format="json").status_code in (401, 403)
    assert client_for(archive["bob"]).post(url, {"note": "x"}, format="json").status_code == 403
    assert client_for(archive["bob"]).post(f"/api/v1/footprints/{archive['fp_private'].pk}/reject",
                                           format="json").status_code == 404  # not visible to Bob

    response = client_for(archive["staff"]).post(url, {"note": "wrong coast"}, format="json")

    assert response.status_code == 200, response.json()
    props = response.json()["properties"]
    assert props["is_current"] is False and props["rejection_note"] == "wrong coast" and props["rejected_at"]
    history = client_for().get("/api/v1/photos/ISS064-E-1/footprints").json()["features"]
    assert [f["properties"]["rejection_note"] for f in history] == ["wrong coast"]
    assert client_for().get("/api/v1/footprints", {"photo_id": "ISS064-E-1"}).json()["features"] == []
    again = client_for(archive["staff"]).post(url, {"note": "twice"}, format="json")
    assert again.status_code == 409 and "not the current footprint" in again.json()["description"]
