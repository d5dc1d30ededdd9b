"""Fixtures of the API tests: users A (owner), B (stranger), staff; public and private localized photos."""

from datetime import UTC, datetime

import pytest
from rest_framework.test import APIClient

from apps.photos.constants import Visibility
from tests.factories import footprint_create, photo_create, user_create


@pytest.fixture
def client_for():
    def make(user=None) -> APIClient:
        client = APIClient()
        if user is not None:
            client.force_authenticate(user)
        return client
    return make


@pytest.fixture
def archive(db):
    """Alice owns a public and a private photo (both localized); Bob owns nothing; Sam is staff."""
    alice, bob = user_create("alice"), user_create("bob")
    staff = user_create("sam", is_staff=True)
    public = photo_create("ISS064-E-1", owner=alice, captured_at=datetime(2021, 4, 8, 5, tzinfo=UTC),
                          cloud_pct=5.0, tilt_class="NV", tilt_deg=3.0, focal_length_mm=400.0)
    private = photo_create("ISS064-E-2", owner=alice, visibility=Visibility.PRIVATE,
                           captured_at=datetime(2021, 4, 9, 5, tzinfo=UTC), cloud_pct=5.0, focal_length_mm=400.0)
    other = photo_create("ISS065-E-3", captured_at=datetime(2022, 1, 1, tzinfo=UTC), cloud_pct=60.0,
                         focal_length_mm=50.0, tilt_class="HO")
    fp_public = footprint_create(public, center=(40.4, -10.3), confidence=0.9)
    fp_private = footprint_create(private, center=(40.5, -10.2), confidence=0.8)
    fp_other = footprint_create(other, center=(-100.0, 35.0), confidence=0.5)
    unlocalized = photo_create("ISS066-E-4", captured_at=datetime(2022, 6, 1, tzinfo=UTC))
    return {"alice": alice, "bob": bob, "staff": staff, "public": public, "private": private, "other": other,
            "unlocalized": unlocalized, "fp_public": fp_public, "fp_private": fp_private, "fp_other": fp_other}
