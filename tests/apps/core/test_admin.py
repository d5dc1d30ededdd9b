"""Every model has a working admin (list, add and change pages render, geometry widgets included)."""

import pytest
from django.contrib import admin
from django.urls import reverse

from apps.core.geo import bbox_polygon
from apps.footprints.services import footprint_add
from tests.factories import mosaic_create, photo_create, tile_create

pytestmark = pytest.mark.django_db

MODELS = ["core.job", "imagery.mosaic", "imagery.satellitetile", "photos.photo", "photos.batch",
          "footprints.footprint", "models_registry.modelversion", "models_registry.tileembedding"]


def test_every_domain_model_is_registered():
    registered = {f"{m._meta.app_label}.{m._meta.model_name}" for m in admin.site._registry}
    assert set(MODELS) <= registered


@pytest.mark.parametrize("model", MODELS)
def test_changelist_and_add_pages_render(admin_client, model):
    app_label, model_name = model.split(".")
    assert admin_client.get(reverse(f"admin:{app_label}_{model_name}_changelist")).status_code == 200
    assert admin_client.get(reverse(f"admin:{app_label}_{model_name}_add")).status_code == 200


def test_change_pages_show_leaflet_map_widgets(admin_client):
    photo = photo_create()
    footprint = footprint_add(photo=photo, corners=[(40, -10), (41, -10), (41, -11), (40, -11)], source="manual")
    tile = tile_create(mosaic=mosaic_create(), zoom=9, x=1, y=2, bounds=bbox_polygon(1, 2, 3, 4))
    for url in (
        reverse("admin:photos_photo_change", args=[photo.pk]),
        reverse("admin:footprints_footprint_change", args=[footprint.pk]),
        reverse("admin:imagery_satellitetile_change", args=[tile.pk]),
    ):
        response = admin_client.get(url)
        assert response.status_code == 200
        assert b"leaflet" in response.content.lower()
