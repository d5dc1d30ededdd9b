"""STAC API routes (namespace ``stac``), mounted at /stac/."""

from django.urls import path

from apps.api.stac import views

app_name = "stac"

urlpatterns = [
    path("", views.LandingView.as_view(), name="landing"),
    path("conformance", views.ConformanceView.as_view(), name="conformance"),
    path("queryables", views.QueryablesView.as_view(), name="queryables"),
    path("search", views.SearchView.as_view(), name="search"),
    path("collections", views.CollectionsView.as_view(), name="collections"),
    path("collections/<str:collection_id>", views.CollectionView.as_view(), name="collection"),
    path("collections/<str:collection_id>/queryables", views.CollectionQueryablesView.as_view(),
         name="collection-queryables"),
    path("collections/<str:collection_id>/items", views.ItemsView.as_view(), name="items"),
    path("collections/<str:collection_id>/items/<str:item_id>", views.ItemView.as_view(), name="item"),
]
