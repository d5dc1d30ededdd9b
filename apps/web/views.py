"""Page views: thin, they render templates; data reaches the map through the API."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def map_view(request: HttpRequest) -> HttpResponse:
    """The home page: a Leaflet map of localized photo footprints."""
    return render(request, "web/map.html")
