"""Test settings: the real PostgreSQL/PostGIS/pgvector and Redis, isolated from the development data.

Only what tests need differs: a separate Redis database for the broker (so a developer's worker never
picks up test tasks), media in a temporary folder, and fast password hashing.
"""

import os
import tempfile
from pathlib import Path

os.environ.setdefault("ASTROLOC_ENV", "test")

from astroloc_platform.settings import *  # noqa: F403
from astroloc_platform.settings import env

CELERY_BROKER_URL = env.str("TEST_CELERY_BROKER_URL", default="redis://127.0.0.1:6379/15")
CELERY_RESULT_BACKEND = CELERY_BROKER_URL
# Celery prefers these variables over its config: pin them to the test broker in this process and its children.
os.environ["CELERY_BROKER_URL"] = CELERY_BROKER_URL
os.environ["CELERY_RESULT_BACKEND"] = CELERY_RESULT_BACKEND
MEDIA_ROOT = Path(env.str("TEST_MEDIA_ROOT", default=tempfile.mkdtemp(prefix="astroloc-test-media-")))
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405
DATABASES["default"]["TEST"] = {"NAME": env.str("TEST_DATABASE_NAME", default="test_astroloc")}  # noqa: F405
# Throttle and lockout counters of concurrent test runs must not meet in the shared Redis.
CACHES["default"]["LOCATION"] = env.str("TEST_CACHE_URL", default=CELERY_BROKER_URL)  # noqa: F405
CACHES["default"]["KEY_PREFIX"] = f"test-{DATABASES['default']['TEST']['NAME']}"  # noqa: F405
