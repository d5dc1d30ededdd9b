"""Tokens (hashed, revocable), session login with brute-force limits, throttling, jobs and batch upload."""

import pytest
from django.core.cache import cache
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from apps.api.models import ApiToken
from apps.core.constants import JobStatus
from apps.core.models import Job
from apps.photos.models import Batch

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


def test_token_is_stored_hashed_works_and_revokes(archive):
    client = APIClient()
    response = client.post("/api/v1/auth/tokens", {"name": "script", "username": "alice",
                                                   "password": "pw-for-tests-1"}, format="json")
    assert response.status_code == 201, response.content
    key = response.json()["key"]
    token = ApiToken.objects.get()
    assert key not in (token.key_hash, token.prefix) and len(token.key_hash) == 64
    script = APIClient()
    script.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert script.get("/api/v1/photos/ISS064-E-2").status_code == 200  # alice's private photo
    assert script.delete(f"/api/v1/auth/tokens/{token.pk}").status_code == 204
    response = script.get("/api/v1/photos/ISS064-E-2")
    assert response.status_code == 401 and "revoked" in response.json()["description"]
    script.credentials(HTTP_AUTHORIZATION="Token al_nope_nope")
    assert script.get("/api/v1/footprints").status_code == 401


def test_login_is_locked_after_repeated_failures(archive, settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    client = APIClient()
    for _ in range(3):
        assert client.post("/api/v1/auth/login", {"username": "alice", "password": "wrong"},
                           format="json").status_code == 400
    response = client.post("/api/v1/auth/login", {"username": "alice", "password": "pw-for-tests-1"}, format="json")
    assert response.status_code == 429
    cache.clear()
    response = client.post("/api/v1/auth/login", {"username": "alice", "password": "pw-for-tests-1"}, format="json")
    assert response.status_code == 200
    assert client.get("/api/v1/photos/ISS064-E-2").status_code == 200  # the session works


def test_anonymous_throttle_is_counted_in_redis(archive, monkeypatch):
    from rest_framework.throttling import AnonRateThrottle

    monkeypatch.setattr(AnonRateThrottle, "THROTTLE_RATES", {"anon": "3/min", "user": "1000/min"})
    client = APIClient()
    codes = [client.get("/api/v1/footprints").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    assert any(key.startswith(b"test-") for key in cache._cache.get_client().keys("*throttle*"))


def test_operator_jobs_are_staff_only_and_cancel(archive, client_for):
    body = {"kind": "embed", "parameters": {"model_version_id": 1}}
    assert client_for(archive["alice"]).post("/api/v1/jobs", body, format="json").status_code == 403
    assert client_for().post("/api/v1/jobs", body, format="json").status_code in (401, 403)
    response = client_for(archive["staff"]).post("/api/v1/jobs", body, format="json")
    assert response.status_code == 201 and response.json()["status"] == "queued"
    job_id = response.json()["id"]
    response = client_for(archive["staff"]).post(f"/api/v1/jobs/{job_id}/cancel")
    assert response.json()["status"] == JobStatus.CANCELLED


def test_job_parameters_with_a_nul_character_are_a_400_and_store_nothing(archive, client_for):
    # jsonb cannot hold U+0000; found by the fuzz test as a 500 from the INSERT.
    before = Job.objects.count()
    for parameters in ({"model_version_id": 1, "note": "a\x00b"}, {"k\x00": 1}, {"ids": [["x\x00"]]}):
        response = client_for(archive["staff"]).post("/api/v1/jobs", {"kind": "embed", "parameters": parameters},
                                                     format="json")
        assert response.status_code == 400, response.content
        assert "parameters" in response.json()["fields"]
    assert Job.objects.count() == before


def test_job_list_filters_are_validated(archive, client_for):
    client = client_for(archive["staff"])
    assert client.post("/api/v1/jobs", {"kind": "embed", "parameters": {"model_version_id": 1}},
                       format="json").status_code == 201
    assert [j["kind"] for j in client.get("/api/v1/jobs?kind=embed&status=queued").json()] == ["embed"]
    assert client.get("/api/v1/jobs?kind=train").json() == []
    for query, field in (("kind=thumbnail", "kind"), ("status=a%00b", "status"), ("kind=embed%00", "kind")):
        response = client.get(f"/api/v1/jobs?{query}")  # a NUL reached PostgreSQL as a 500 (fuzz test)
        assert response.status_code == 400, response.content
        assert field in response.json()["fields"]


def test_user_may_localize_only_own_photos(archive, client_for):
    client = client_for(archive["alice"])
    ok = client.post("/api/v1/jobs", {"kind": "localize", "parameters": {"photo_ids": ["ISS064-E-1"]}}, format="json")
    assert ok.status_code == 201
    not_hers = {"kind": "localize", "parameters": {"photo_ids": ["ISS065-E-3"]}}
    assert client.post("/api/v1/jobs", not_hers, format="json").status_code == 403
    bad = client.post("/api/v1/jobs", {"kind": "localize", "parameters": {}}, format="json")
    assert bad.status_code == 400 and "parameters.photo_ids" in bad.json()["fields"]


def test_batch_upload_stores_files_and_enqueues_import(archive, client_for):
    files = [SimpleUploadedFile("ISS064-E-9.JPG", b"jpeg bytes"), SimpleUploadedFile("../meta data.csv", b"a,b\n")]
    response = client_for(archive["alice"]).post("/api/v1/batches", {"files": files, "name": "roll 9",
                                                                     "visibility": "private"}, format="multipart")
    assert response.status_code == 201, response.content
    batch = Batch.objects.get(pk=response.json()["batch"]["id"])
    job = Job.objects.get(pk=response.json()["job"]["id"])
    assert job.kind == "import" and job.parameters["batch_id"] == batch.pk and batch.job_id == job.pk
    photo_source, = job.parameters["sources"]
    assert default_storage.exists(photo_source["storage"]) and photo_source["name"] == "ISS064-E-9.JPG"
    assert default_storage.exists(job.parameters["csv"]["storage"])
    assert job.parameters["csv"]["storage"].startswith(f"batches/{batch.pk}/") and "/../" not in str(job.parameters)
    assert client_for(archive["bob"]).get(f"/api/v1/batches/{batch.pk}").status_code == 404


def test_batch_upload_rejects_what_cannot_be_imported(archive, client_for):
    client = client_for(archive["alice"])
    response = client.post("/api/v1/batches", {"files": [SimpleUploadedFile("x.exe", b"MZ")]}, format="multipart")
    assert response.status_code == 400 and "x.exe" in response.json()["description"]
    assert client.post("/api/v1/batches", {}, format="multipart").status_code == 400
    assert Batch.objects.count() == 0


def test_openapi_schema_and_offline_docs(client_for):
    schema = client_for().get("/api/v1/schema?format=json")
    assert schema.status_code == 200 and "/api/v1/footprints" in schema.json()["paths"]
    docs = client_for().get("/api/v1/docs")
    assert docs.status_code == 200 and b"drf_spectacular_sidecar" in docs.content and b"cdn" not in docs.content
