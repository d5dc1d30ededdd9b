"""The health endpoint reports database, extensions, broker and workers."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]

@pytest.mark.django_db(transaction=True)
def test_health_reports_every_dependency_and_the_live_worker(client, celery_worker):
    response = client.get("/health")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"] == "ok"
    assert body["extensions"]["postgis"].startswith("3.")
    assert body["extensions"]["vector"].startswith("0.8")
    assert body["broker"] == "ok"
    assert body["workers"][celery_worker.name] == ["cpu", "gpu"]
    assert body["queues_without_workers"] == []


def test_health_is_503_when_the_broker_is_unreachable():
    """A real process whose broker address has nothing listening (port 1)."""
    probe = (
        "from django.test import Client; r = Client().get('/health'); "
        "import json; print(r.status_code, json.dumps(r.json()))"
    )
    unreachable = "redis://127.0.0.1:1/0"
    env = {**os.environ, "CELERY_BROKER_URL": unreachable, "TEST_CELERY_BROKER_URL": unreachable}
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", probe],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120, check=True,
    )
    status, body = result.stdout.strip().splitlines()[-1].split(" ", 1)
    assert status == "503"
    report = json.loads(body)
    assert report["status"] == "error"
    assert report["broker"].startswith("error")
    assert report["database"] == "ok"
