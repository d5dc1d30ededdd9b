"""Settings come from the environment and fail fast with a message naming the variable."""

import os
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]

PRODUCTION_ENV = {
    "ASTROLOC_ENV": "production",
    "DJANGO_SECRET_KEY": "x" * 64 + "-a-long-random-production-secret-for-the-check",
    "DJANGO_ALLOWED_HOSTS": "astroloc.example.org",
    "DJANGO_SETTINGS_MODULE": "astroloc_platform.settings",
}


def _manage(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "ASTROLOC_"))}
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=REPO_ROOT, env={**clean, **env},
        capture_output=True, text=True, timeout=120,
    )


def test_check_deploy_passes_with_production_settings():
    result = _manage(["check", "--deploy", "--fail-level", "WARNING"], PRODUCTION_ENV)
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_production_without_secret_key_fails_fast_naming_it():
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "DJANGO_SECRET_KEY"}
    result = _manage(["check"], env)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set when ASTROLOC_ENV=production" in result.stderr


def test_non_postgis_database_url_is_refused_with_the_scheme_to_use():
    result = _manage(["check"], {"DATABASE_URL": "sqlite:///tmp/x.db"})
    assert result.returncode != 0
    assert "DATABASE_URL must use the postgis:// scheme" in result.stderr


def test_unknown_environment_name_is_refused():
    result = _manage(["check"], {"ASTROLOC_ENV": "staging"})
    assert result.returncode != 0
    assert "ASTROLOC_ENV='staging' is not valid" in result.stderr
