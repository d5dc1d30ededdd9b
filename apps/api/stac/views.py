"""STAC API 1.0 endpoints: landing page, conformance, collections, items, search, queryables."""

import copy
import json
from typing import Any

from django.http import HttpResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import permissions
from rest_framework.exceptions import NotFound
from rest_framework.views import APIView

from apps.api.geojson import GEOJSON
from apps.api.negotiation import SingleRepresentationNegotiation
from apps.api.stac.collections import (
    STAC_VERSION,
    StacCollection,
    collection_extent,
    collection_get,
    collections_all,
)
from apps.api.stac.search import (
    SearchParams,
    search_params_from_get,
    search_params_from_post,
    search_run,
)

QUERYABLES_REL = "http://www.opengis.net/def/rel/ogc/1.0/queryables"
CONFORMANCE = [
    "https://api.stacspec.org/v1.0.0/core",
    "https://api.stacspec.org/v1.0.0/collections",
    "https://api.stacspec.org/v1.0.0/ogcapi-features",
    "https://api.stacspec.org/v1.0.0/item-search",
    "https://api.stacspec.org/v1.0.0/item-search#sort",
    "https://api.stacspec.org/v1.0.0/item-search#fields",
    "https://api.stacspec.org/v1.0.0-rc.2/item-search#filter",
    "https://api.stacspec.org/v1.0.0-rc.2/ogcapi-features#filter",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-operators",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
]
SEARCH_PARAMETERS = [
    OpenApiParameter(name, str, required=False, description=text) for name, text in (
        ("collections", "Comma-separated collection IDs."),
        ("ids", "Comma-separated item IDs."),
        ("bbox", "lon_min,lat_min,lon_max,lat_max."),
        ("intersects", "GeoJSON geometry (URL-encoded JSON)."),
        ("datetime", "RFC 3339 instant or interval start/end ('..' open)."),
        ("filter", "CQL2 expression (basic CQL2 + S_INTERSECTS)."),
        ("filter-lang", "cql2-text (default in GET) or cql2-json."),
        ("sortby", "e.g. -datetime,id"),
        ("fields", "e.g. properties.eo:cloud_cover,-links"),
        ("limit", "1 to 1000 (default 10)."),
        ("token", "From a 'next' link."),
    )
]
ALWAYS_FIELDS = {"type", "stac_version", "id", "geometry", "bbox", "links", "assets", "properties.datetime",
                 "collection", "stac_extensions"}


def _json(data: Any, *, content_type: str = "application/json", status: int = 200) -> HttpResponse:
    return HttpResponse(json.dumps(data, separators=(",", ":")), content_type=content_type, status=status)


def _url(request, name: str, **kwargs) -> str:
    return request.build_absolute_uri(reverse(name, kwargs=kwargs or None))


def _root_links(request) -> list[dict]:
    root = _url(request, "stac:landing")
    return [{"rel": "root", "href": root, "type": "application/json", "title": "AstroLoc STAC API"}]


def _finish_item(item: dict, collection_id: str, request, extensions: list[str]) -> dict:
    self_href = _url(request, "stac:item", collection_id=collection_id, item_id=item["id"])
    collection_href = _url(request, "stac:collection", collection_id=collection_id)
    return {
        "type": "Feature", "stac_version": STAC_VERSION, "stac_extensions": extensions, **item,
        "collection": collection_id,
        "links": [{"rel": "self", "href": self_href, "type": GEOJSON},
                  {"rel": "parent", "href": collection_href, "type": "application/json"},
                  {"rel": "collection", "href": collection_href, "type": "application/json"},
                  *_root_links(request)],
    }


def _apply_fields(item: dict, include: list[str], exclude: list[str]) -> dict:
    """Fields extension: keep ``include`` (and what STAC needs), then drop ``exclude`` (dotted paths)."""
    if not include and not exclude:
        return item
    out = item
    if include:
        out = {}
        for path in {*include, *ALWAYS_FIELDS}:
            src, dst, parts = item, out, path.split(".")
            for i, part in enumerate(parts):
                if not isinstance(src, dict) or part not in src:
                    break
                if i == len(parts) - 1:
                    dst[part] = copy.deepcopy(src[part])
                else:
                    src = src[part]
                    dst = dst.setdefault(part, {})
    for path in exclude:
        if path in ALWAYS_FIELDS and path not in include:
            continue
        parts, target = path.split("."), out
        for part in parts[:-1]:
            target = target.get(part) if isinstance(target, dict) else None
        if isinstance(target, dict):
            target.pop(parts[-1], None)
    return out


class StacView(APIView):
    permission_classes = [permissions.AllowAny]
    content_negotiation_class = SingleRepresentationNegotiation


class LandingView(StacView):
    @extend_schema(responses={200: OpenApiTypes.OBJECT}, tags=["stac"])
    def get(self, request):
        links = [
            {"rel": "self", "href": _url(request, "stac:landing"), "type": "application/json"},
            *_root_links(request),
            {"rel": "conformance", "href": _url(request, "stac:conformance"), "type": "application/json"},
            {"rel": "data", "href": _url(request, "stac:collections"), "type": "application/json"},
            {"rel": "search", "href": _url(request, "stac:search"), "type": GEOJSON, "method": "GET"},
            {"rel": "search", "href": _url(request, "stac:search"), "type": GEOJSON, "method": "POST"},
            {"rel": QUERYABLES_REL, "href": _url(request, "stac:queryables"), "type": "application/schema+json"},
            {"rel": "service-desc", "href": _url(request, "api:schema"),
             "type": "application/vnd.oai.openapi+json;version=3.0"},
            {"rel": "service-doc", "href": _url(request, "api:docs"), "type": "text/html"},
        ]
        for collection in collections_all():
            links.append({"rel": "child", "href": _url(request, "stac:collection", collection_id=collection.id),
                          "type": "application/json", "title": collection.title})
        return _json({
            "type": "Catalog", "stac_version": STAC_VERSION, "id": "astroloc", "title": "AstroLoc",
            "description": "Footprints of ISS astronaut photographs, and the satellite mosaics they are matched to.",
            "conformsTo": CONFORMANCE, "links": links,
        })


class ConformanceView(StacView):
    @extend_schema(responses={200: OpenApiTypes.OBJECT}, tags=["stac"])
    def get(self, request):
        return _json({"conformsTo": CONFORMANCE})


def _collection_body(collection: StacCollection, request) -> dict:
    href = _url(request, "stac:collection", collection_id=collection.id)
    return {
        "type": "Collection", "stac_version": STAC_VERSION, "stac_extensions": [], "id": collection.id,
        "title": collection.title, "description": collection.description, "license": "various",
        "extent": collection_extent(collection, request.user),
        "links": [
            {"rel": "self", "href": href, "type": "application/json"},
            {"rel": "parent", "href": _url(request, "stac:landing"), "type": "application/json"},
            *_root_links(request),
            {"rel": "items", "href": _url(request, "stac:items", collection_id=collection.id), "type": GEOJSON},
            {"rel": QUERYABLES_REL, "href": _url(request, "stac:collection-queryables", collection_id=collection.id),
             "type": "application/schema+json"},
        ],
    }


def _collection_or_404(collection_id: str) -> StacCollection:
    collection = collection_get(collection_id)
    if collection is None:
        raise NotFound(f"No collection {collection_id!r}.")
    return collection


class CollectionsView(StacView):
    @extend_schema(responses={200: OpenApiTypes.OBJECT}, tags=["stac"], operation_id="stac_collections_list")
    def get(self, request):
        return _json({
            "collections": [_collection_body(c, request) for c in collections_all()],
            "links": [{"rel": "self", "href": _url(request, "stac:collections"), "type": "application/json"},
                      *_root_links(request),
                      {"rel": "parent", "href": _url(request, "stac:landing"), "type": "application/json"}],
        })


class CollectionView(StacView):
    @extend_schema(responses={200: OpenApiTypes.OBJECT}, tags=["stac"])
    def get(self, request, collection_id: str):
        return _json(_collection_body(_collection_or_404(collection_id), request))


def _item_collection(request, collections: list[StacCollection], params: SearchParams, *, next_link) -> HttpResponse:
    page = search_run(collections=collections, params=params, user=request.user, request=request)
    by_id = {c.id: c for c in collections}
    features = [
        _apply_fields(_finish_item(item, item["collection"], request, by_id[item["collection"]].extensions),
                      params.fields_include, params.fields_exclude)
        for item in page.items
    ]
    links = [{"rel": "self", "href": request.build_absolute_uri(), "type": GEOJSON}, *_root_links(request)]
    if page.next_token:
        links.append(next_link(page.next_token))
    return _json({"type": "FeatureCollection", "features": features, "links": links,
                  "numberReturned": len(features)}, content_type=GEOJSON)


def _get_next_link(request):
    def link(token: str) -> dict:
        query = request.GET.copy()
        query["token"] = token
        return {"rel": "next", "href": f"{request.build_absolute_uri(request.path)}?{query.urlencode()}",
                "type": GEOJSON, "method": "GET"}
    return link


class ItemsView(StacView):
    @extend_schema(parameters=[p for p in SEARCH_PARAMETERS if p.name not in ("collections",)],
                   responses={200: OpenApiTypes.OBJECT}, tags=["stac"], operation_id="stac_items_list")
    def get(self, request, collection_id: str):
        collection = _collection_or_404(collection_id)
        params = search_params_from_get(request.query_params)
        params.collections = [collection.id]
        return _item_collection(request, [collection], params, next_link=_get_next_link(request))


class ItemView(StacView):
    @extend_schema(responses={200: OpenApiTypes.OBJECT}, tags=["stac"])
    def get(self, request, collection_id: str, item_id: str):
        collection = _collection_or_404(collection_id)
        page = search_run(collections=[collection], params=SearchParams(ids=[item_id], limit=1),
                          user=request.user, request=request)
        if not page.items:
            raise NotFound(f"No item {item_id!r} in {collection_id!r}.")
        return _json(_finish_item(page.items[0], collection.id, request, collection.extensions), content_type=GEOJSON)


def _search_collections(params: SearchParams) -> list[StacCollection]:
    if not params.collections:
        return collections_all()
    found = [c for c in (collection_get(cid) for cid in params.collections) if c is not None]
    return found


class SearchView(StacView):
    @extend_schema(parameters=SEARCH_PARAMETERS, responses={200: OpenApiTypes.OBJECT}, tags=["stac"])
    def get(self, request):
        params = search_params_from_get(request.query_params)
        return _item_collection(request, _search_collections(params), params, next_link=_get_next_link(request))

    @extend_schema(request=OpenApiTypes.OBJECT, responses={200: OpenApiTypes.OBJECT}, tags=["stac"])
    def post(self, request):
        params = search_params_from_post(request.data)
        body = request.data

        def link(token: str) -> dict:
            return {"rel": "next", "href": request.build_absolute_uri(request.path), "type": GEOJSON,
                    "method": "POST", "body": {**body, "token": token}, "merge": False}
        return _item_collection(request, _search_collections(params), params, next_link=link)


def _queryables_body(request, url_name: str, collections: list[StacCollection], **kwargs) -> HttpResponse:
    properties: dict[str, Any] = {}
    for collection in collections:
        for name, queryable in collection.queryables.items():
            properties.setdefault(name, queryable.schema)
    properties["collection"] = {"type": "string", "enum": [c.id for c in collections]}
    return _json({
        "$schema": "https://json-schema.org/draft/2019-09/schema",
        "$id": _url(request, url_name, **kwargs),
        "type": "object", "title": "Queryables", "properties": properties, "additionalProperties": False,
    }, content_type="application/schema+json")


class QueryablesView(StacView):
    @extend_schema(responses={200: OpenApiTypes.OBJECT}, tags=["stac"])
    def get(self, request):
        return _queryables_body(request, "stac:queryables", collections_all())


class CollectionQueryablesView(StacView):
    @extend_schema(responses={200: OpenApiTypes.OBJECT}, tags=["stac"])
    def get(self, request, collection_id: str):
        collection = _collection_or_404(collection_id)
        return _queryables_body(request, "stac:collection-queryables", [collection], collection_id=collection_id)

