"""HTTP edge of the imagery app: the XYZ basemap endpoint ``/tiles/{year}/{z}/{x}/{y}.{png|jpg}``."""

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotModified
from django.utils.http import http_date
from django.views.decorators.http import require_GET

from apps.imagery.basemap import xyz_tile_render


@require_GET
def xyz_tile_view(request: HttpRequest, year: int, z: int, x: int, y: int, ext: str) -> HttpResponse:
    """A 256-px tile of the year's imagery; 404 outside coverage; cacheable (Cache-Control, ETag)."""
    tile = xyz_tile_render(year=year, z=z, x=x, y=y, fmt=ext)
    if tile is None:
        raise Http404(f"no imagery of {year} at z{z}/{x}/{y}")
    if request.headers.get("If-None-Match") == tile.etag:
        response: HttpResponse = HttpResponseNotModified()
    else:
        response = HttpResponse(tile.content, content_type=tile.media_type)
    response["ETag"] = tile.etag
    response["Last-Modified"] = http_date(tile.modified.timestamp())
    response["Cache-Control"] = f"public, max-age={settings.ASTROLOC_TILE_CACHE_SECONDS}"
    return response
