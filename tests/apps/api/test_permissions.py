"""Private photos exist only for owner, group and staff: in detail, every list, search, STAC result and file."""

import json

import pytest
from django.contrib.auth.models import Group

pytestmark = pytest.mark.django_db

PRIVATE = "ISS064-E-2"

LIST_URLS = [
    "/api/v1/footprints", "/api/v1/footprints?history=true", "/api/v1/photos",
    "/api/v1/photos?bbox=40,-11,41,-10", "/api/v1/footprints?photo_id=ISS064-E-2",
    "/stac/search", "/stac/search?ids=ISS064-E-2", "/stac/collections/astronaut-photos/items",
    "/stac/search?filter=id%3D%27ISS064-E-2%27",
]
DETAIL_URLS = [
    f"/api/v1/photos/{PRIVATE}", f"/api/v1/photos/{PRIVATE}/footprints",
    f"/api/v1/photos/{PRIVATE}/files/original", f"/stac/collections/astronaut-photos/items/{PRIVATE}",
]


def _mentions_private(client, url) -> bool:
    response = client.get(url)
    assert response.status_code == 200, (url, response.content)
    return PRIVATE in json.dumps(json.loads(response.content)["features"])  # links echo the query


@pytest.mark.parametrize("who", ["anonymous", "bob"])
def test_stranger_never_sees_a_private_photo(archive, client_for, who):
    client = client_for(None if who == "anonymous" else archive["bob"])
    for url in LIST_URLS:
        assert not _mentions_private(client, url), url
    for url in DETAIL_URLS:
        assert client.get(url).status_code == 404, url
    assert client.get(f"/api/v1/footprints/{archive['fp_private'].pk}").status_code == 404
    post = client.post("/stac/search", {"ids": [PRIVATE]}, format="json")
    assert json.loads(post.content)["features"] == []
    post = client.post("/api/v1/footprints/search", {"photo_id": PRIVATE}, format="json")
    assert json.loads(post.content)["features"] == []


@pytest.mark.parametrize("who", ["alice", "staff", "group member"])
def test_owner_group_and_staff_see_it(archive, client_for, who):
    user = archive["bob"] if who == "group member" else archive[who]
    if who == "group member":
        group = Group.objects.create(name="analysts")
        user.groups.add(group)
        archive["private"].group = group
        archive["private"].save()
    client = client_for(user)
    assert _mentions_private(client, "/api/v1/footprints")
    assert _mentions_private(client, "/stac/search")
    assert client.get(f"/api/v1/photos/{PRIVATE}").status_code == 200
    assert client.get(f"/api/v1/photos/{PRIVATE}/files/original").status_code == 200


def test_jobs_and_batches_are_private_to_their_creator(archive, client_for):
    from apps.core.services import job_enqueue

    job = job_enqueue(kind="localize", parameters={"photo_ids": ["ISS064-E-1"]}, created_by=archive["alice"])
    assert client_for(archive["bob"]).get(f"/api/v1/jobs/{job.pk}").status_code == 404
    assert client_for(archive["bob"]).post(f"/api/v1/jobs/{job.pk}/cancel").status_code == 404
    assert client_for(archive["alice"]).get(f"/api/v1/jobs/{job.pk}").status_code == 200
    assert client_for(archive["staff"]).get(f"/api/v1/jobs/{job.pk}").status_code == 200


@pytest.mark.django_db
def test_media_files_are_not_served_by_path(client, settings):
    """A private original can't be fetched by guessing its storage path, not even with DEBUG on."""
    from tests.factories import photo_create, user_create

    owner = user_create()
    photo = photo_create(owner=owner, visibility="private")
    import importlib

    from django.urls import clear_url_caches

    import astroloc_platform.urls

    settings.DEBUG = True  # the URLconf is rebuilt under DEBUG, where a dev server would add /media/
    importlib.reload(astroloc_platform.urls)
    clear_url_caches()
    try:
        response = client.get(f"/{settings.MEDIA_URL.strip('/')}/{photo.image.name}")
    finally:
        settings.DEBUG = False
        importlib.reload(astroloc_platform.urls)
        clear_url_caches()
    assert response.status_code == 404
