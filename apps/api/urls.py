"""REST API v1 routes (namespace ``api``), mounted at /api/v1/."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from apps.api import views

app_name = "api"

urlpatterns = [
    path("schema", SpectacularAPIView.as_view(), name="schema"),
    path("docs", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    path("redoc", SpectacularRedocView.as_view(url_name="api:schema"), name="redoc"),
    path("auth/login", views.LoginView.as_view(), name="login"),
    path("auth/logout", views.LogoutView.as_view(), name="logout"),
    path("auth/tokens", views.TokenListView.as_view(), name="token-list"),
    path("auth/tokens/<int:pk>", views.TokenDetailView.as_view(), name="token-detail"),
    path("footprints", views.FootprintListView.as_view(), name="footprint-list"),
    path("footprints/search", views.FootprintSearchView.as_view(), name="footprint-search"),
    path("footprints/export.<str:fmt>", views.FootprintExportView.as_view(), name="footprint-export"),
    path("footprints/<int:pk>", views.FootprintDetailView.as_view(), name="footprint-detail"),
    path("footprints/<int:pk>/reject", views.FootprintRejectView.as_view(), name="footprint-reject"),
    path("photos", views.PhotoListView.as_view(), name="photo-list"),
    path("photos/search", views.PhotoSearchView.as_view(), name="photo-search"),
    path("photos/<str:photo_id>", views.PhotoDetailView.as_view(), name="photo-detail"),
    path("photos/<str:photo_id>/footprints", views.PhotoFootprintsView.as_view(), name="photo-footprints"),
    path("photos/<str:photo_id>/files/<str:kind>", views.PhotoFileView.as_view(), name="photo-file"),
    path("photos/<str:photo_id>/georeferenced.<str:fmt>", views.PhotoGeoreferencedView.as_view(),
         name="photo-georeferenced"),
    path("batches", views.BatchListView.as_view(), name="batch-list"),
    path("batches/<int:pk>", views.BatchDetailView.as_view(), name="batch-detail"),
    path("jobs", views.JobListView.as_view(), name="job-list"),
    path("jobs/<int:pk>", views.JobDetailView.as_view(), name="job-detail"),
    path("jobs/<int:pk>/cancel", views.JobCancelView.as_view(), name="job-cancel"),
    path("tiles", views.TileListView.as_view(), name="tile-list"),
    path("mosaics", views.MosaicListView.as_view(), name="mosaic-list"),
    path("model-versions", views.ModelVersionListView.as_view(), name="model-version-list"),
    path("model-versions/<int:pk>", views.ModelVersionDetailView.as_view(), name="model-version-detail"),
]
