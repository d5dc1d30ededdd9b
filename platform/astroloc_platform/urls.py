"""Top-level URL map: web pages, admin, health, the XYZ basemap tiles, the REST API v1 and the STAC API."""

from django.contrib import admin
from django.urls import include, path

from apps.core.views import health_view

urlpatterns = [
    path("admin/", admin.site.urls),
    path("health", health_view, name="health"),
    path("api/v1/", include("apps.api.urls")),
    path("stac/", include("apps.api.stac.urls")),
    path("", include("apps.imagery.urls")),
    path("", include("apps.web.urls")),
]
# Media (photos, tiles, checkpoints) is never served as plain files, not even in DEBUG: photo files go
# through /api/v1/photos/<id>/files/..., which checks visibility, and tiles through /tiles/.
