"""docker-compose.yml describes the same system: db (PostGIS + pgvector), redis, web and both workers."""

from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]


def _compose() -> dict:
    return yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text())


def test_services_and_their_commands():
    services = _compose()["services"]
    assert set(services) == {"db", "redis", "web", "worker-cpu", "worker-gpu", "beat"}
    assert services["beat"]["command"][:4] == ["celery", "-A", "astroloc_platform", "beat"]
    assert "gunicorn" in " ".join(services["web"]["command"]) and "migrate" in " ".join(services["web"]["command"])
    cpu = services["worker-cpu"]["command"]
    assert cpu[:4] == ["celery", "-A", "astroloc_platform", "worker"] and cpu[cpu.index("-Q") + 1] == "cpu"
    # The GPU service runs one solo worker per GPU (tests/workers/test_gpu_workers.py checks what it starts).
    assert services["worker-gpu"]["command"] == ["bash", "platform/scripts/gpu_workers.sh"]
    assert (REPO_ROOT / "platform/scripts/gpu_workers.sh").is_file()


def test_gpu_worker_reserves_the_nvidia_devices():
    devices = _compose()["services"]["worker-gpu"]["deploy"]["resources"]["reservations"]["devices"]
    assert devices == [{"driver": "nvidia", "count": "all", "capabilities": ["gpu"]}]


def test_database_image_is_built_from_platform_with_postgis_and_pgvector():
    db = _compose()["services"]["db"]
    build_dir = REPO_ROOT / db["build"]
    dockerfile = (build_dir / "Dockerfile").read_text()
    assert build_dir.relative_to(REPO_ROOT).parts[0] == "platform"
    assert "postgis/postgis:15" in dockerfile and "postgresql-15-pgvector" in dockerfile
    init_sql = (build_dir / "init-extensions.sql").read_text()
    assert "CREATE EXTENSION IF NOT EXISTS vector" in init_sql and "CREATE EXTENSION IF NOT EXISTS postgis" in init_sql


def test_every_app_service_reaches_the_same_database_broker_and_storage():
    services = _compose()["services"]
    envs = [services[name]["environment"] for name in ("web", "worker-cpu", "worker-gpu")]
    assert len({e["DATABASE_URL"] for e in envs}) == 1 and envs[0]["DATABASE_URL"].startswith("postgis://")
    assert len({e["CELERY_BROKER_URL"] for e in envs}) == 1
    assert all(services[name]["volumes"] == ["media:/data"] for name in ("web", "worker-cpu", "worker-gpu"))
