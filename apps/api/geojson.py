"""GeoJSON FeatureCollection responses assembled from feature texts the database generated."""

import json
from collections.abc import Sequence
from urllib.parse import urlencode

from django.http import HttpResponse

__all__ = ["GEOJSON", "feature_collection_response", "url_with"]

GEOJSON = "application/geo+json"


def url_with(request, **params) -> str:
    """The request's absolute URL with ``params`` replaced (None removes one)."""
    query = request.GET.copy()
    for key, value in params.items():
        if value is None:
            query.pop(key, None)
        else:
            query[key] = value
    base = request.build_absolute_uri(request.path)
    return f"{base}?{query.urlencode()}" if query else base


def feature_collection_response(
    features: Sequence[str], *, links: list[dict] | None = None, extra: dict | None = None, status: int = 200
) -> HttpResponse:
    """``features`` are JSON texts (one Feature each): joined, not parsed."""
    head = {"type": "FeatureCollection", **(extra or {})}
    if links is not None:
        head["links"] = links
    head_text = json.dumps(head, separators=(",", ":"), default=str)[:-1]
    body = f'{head_text},"features":[{",".join(features)}]}}'
    return HttpResponse(body, content_type=GEOJSON, status=status)


def encode_query(params: dict) -> str:
    return urlencode(params, doseq=True)
