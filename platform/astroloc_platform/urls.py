"""Top-level URL map: web pages, admin, health, the XYZ basemap tiles, the REST API v1 and the STAC API."""

from django.conf import settings
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

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
