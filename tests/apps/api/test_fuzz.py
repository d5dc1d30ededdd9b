"""Property-based fuzzing of every REST and STAC operation from the published OpenAPI schema: no 5xx.

Runs in-process (WSGI) as a staff user with a token so that writes and operator paths are reached too; the
number of examples per operation is bounded so the whole run stays around a minute.
"""

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from apps.api.services import token_create
from astroloc_platform.wsgi import application
from tests.factories import footprint_create, photo_create, user_create

MAX_EXAMPLES = 10

schema = schemathesis.openapi.from_dict(SchemaGenerator().get_schema(request=None, public=True))
schema.app = application


@pytest.fixture
def staff_token(db, monkeypatch) -> str:
    from django.core.cache import cache
    from rest_framework.throttling import SimpleRateThrottle

    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"anon": None, "user": None, "upload": None})
    cache.clear()
    # In-process WSGI calls would otherwise close the test transaction's connection after each request
    # (Django's test client disconnects the same receivers).
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    staff = user_create("fuzz-staff", is_staff=True)
    photo = photo_create("ISS064-E-77", owner=staff)
    footprint_create(photo)
    yield token_create(user=staff, name="fuzz").key
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@schema.exclude(path_regex=r"/(docs|redoc)$").parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_errors(case, staff_token):
    response = case.call(headers={"Authorization": f"Token {staff_token}"})
    case.validate_response(response, checks=[not_a_server_error])
