"""STAC item search over one or more collections: parameters, filter, sort, fields and paging tokens.

Collections are searched in order; the paging token records which collection and where in it (keyset
values of the sort), so deep pages cost the same as the first.
"""

import json
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q

from apps.api.errors import ApiError
from apps.api.filters import parse_bbox, parse_datetime_interval
from apps.api.pagination import OrderKey, cursor_decode, cursor_encode, keyset_page
from apps.api.stac.collections import StacCollection
from apps.api.stac.cql2 import CollectionQueryables, cql2_parse, cql2_to_q
from apps.core.geo import bbox_geometry, geometry_from_geojson

__all__ = ["SearchParams", "search_params_from_get", "search_params_from_post", "search_run"]

MAX_LIMIT = 1000
DEFAULT_LIMIT = 10


@dataclass
class SearchParams:
    collections: list[str] | None = None
    ids: list[str] | None = None
    bbox: tuple[float, float, float, float] | None = None
    intersects: Any = None
    datetime: tuple | None = None
    filter: Any = None
    filter_lang: str | None = None
    sortby: list[tuple[str, bool]] = field(default_factory=list)
    fields_include: list[str] = field(default_factory=list)
    fields_exclude: list[str] = field(default_factory=list)
    limit: int = DEFAULT_LIMIT
    token: str | None = None


def _field_error(name: str, message: str) -> ApiError:
    return ApiError(f"Invalid parameter {name}: {message}", fields={name: [message]})


def _str_list(value: Any, name: str) -> list[str]:
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    raise _field_error(name, "a list of strings (GET: comma-separated)")


def _sortby(value: Any) -> list[tuple[str, bool]]:
    out = []
    if isinstance(value, str):
        for part in [p.strip() for p in value.split(",") if p.strip()]:
            descending = part.startswith("-")
            out.append((part.lstrip("+-"), descending))
    elif isinstance(value, list):
        for entry in value:
            if not isinstance(entry, dict) or not isinstance(entry.get("field"), str) or \
                    entry.get("direction", "asc") not in ("asc", "desc"):
                raise _field_error("sortby", 'a list of {"field": name, "direction": "asc"|"desc"}')
            out.append((entry["field"], entry.get("direction") == "desc"))
    else:
        raise _field_error("sortby", "'-datetime,id' (GET) or a list of objects (POST)")
    return [(name.removeprefix("properties."), desc) for name, desc in out]


def _limit(value: Any) -> int:
    try:
        limit = int(value)
    except (TypeError, ValueError) as exc:
        raise _field_error("limit", "an integer from 1 to 1000") from exc
    if limit < 1:
        raise _field_error("limit", "an integer from 1 to 1000")
    return min(limit, MAX_LIMIT)


def _common(params: SearchParams, raw: dict, *, from_post: bool) -> SearchParams:
    if raw.get("collections") not in (None, "", []):
        params.collections = _str_list(raw["collections"], "collections")
    if raw.get("ids") not in (None, "", []):
        params.ids = _str_list(raw["ids"], "ids")
    if raw.get("bbox") not in (None, ""):
        bbox = raw["bbox"]
        if from_post and not isinstance(bbox, list):
            raise _field_error("bbox", "a JSON array of 4 (or 6) numbers in a POST body")
        if isinstance(bbox, list):
            bbox = ",".join(str(v) for v in bbox)
        if not isinstance(bbox, str):
            raise _field_error("bbox", "4 numbers")
        try:
            params.bbox = parse_bbox(bbox)
        except Exception as exc:
            raise _field_error("bbox", str(getattr(exc, "detail", [exc])[0])) from exc
    if raw.get("intersects") is not None:
        if params.bbox is not None:
            raise _field_error("intersects", "bbox and intersects are mutually exclusive")
        value = raw["intersects"]
        try:
            params.intersects = geometry_from_geojson(json.loads(value) if isinstance(value, str) else value)
        except ValueError as exc:
            raise _field_error("intersects", str(exc)) from exc
    if raw.get("datetime") not in (None, ""):
        if not isinstance(raw["datetime"], str):
            raise _field_error("datetime", "an RFC 3339 instant or interval")
        try:
            params.datetime = parse_datetime_interval(raw["datetime"], strict=True)
        except Exception as exc:
            raise _field_error("datetime", str(getattr(exc, "detail", [exc])[0])) from exc
    if raw.get("filter") not in (None, ""):
        params.filter = raw["filter"]
        params.filter_lang = raw.get("filter-lang") or raw.get("filter_lang")
        if params.filter_lang is not None and not isinstance(params.filter_lang, str):
            raise _field_error("filter-lang", "cql2-text or cql2-json")
    if raw.get("sortby") not in (None, "", []):
        params.sortby = _sortby(raw["sortby"])
    if raw.get("limit") not in (None, ""):
        params.limit = _limit(raw["limit"])
    if raw.get("token") not in (None, ""):
        if not isinstance(raw["token"], str):
            raise _field_error("token", "the token of a 'next' link")
        params.token = raw["token"]
    return params


def search_params_from_get(query) -> SearchParams:
    raw = {key: query.get(key) for key in query}
    params = _common(SearchParams(), raw, from_post=False)
    if raw.get("fields"):
        for name in _str_list(raw["fields"], "fields"):
            (params.fields_exclude if name.startswith("-") else params.fields_include).append(name.lstrip("+-"))
    return params


def search_params_from_post(body: Any) -> SearchParams:
    if not isinstance(body, dict):
        raise ApiError("The search body must be a JSON object.")
    params = _common(SearchParams(), body, from_post=True)
    fields = body.get("fields")
    if fields not in (None, {}):
        if not isinstance(fields, dict):
            raise _field_error("fields", '{"include": [...], "exclude": [...]}')
        params.fields_include = _str_list(fields.get("include") or [], "fields.include")
        params.fields_exclude = _str_list(fields.get("exclude") or [], "fields.exclude")
    return params


def _known_queryables(collections: list[StacCollection]) -> frozenset[str]:
    return frozenset(name for c in collections for name in c.queryables) | {"collection"}


def _collection_q(collection: StacCollection, params: SearchParams, ast, known: frozenset[str]) -> Q:
    fields = collection.q_fields()
    q = Q()
    if params.ids:
        q &= Q(**{f"{fields['id']}__in": params.ids})
    if params.bbox is not None:
        q &= Q(**{f"{fields['geometry']}__intersects": bbox_geometry(params.bbox)})
    if params.intersects is not None:
        q &= Q(**{f"{fields['geometry']}__intersects": params.intersects})
    if params.datetime is not None:
        start, end = params.datetime
        if collection.year is not None:  # a mosaic covers its whole year
            year_start, year_end = collection.year, collection.year
            if (start and start.year > year_end) or (end and end.year < year_start):
                return Q(pk__in=[])
        else:
            if start:
                q &= Q(**{f"{fields['datetime']}__gte": start})
            if end:
                q &= Q(**{f"{fields['datetime']}__lte": end})
    if ast is not None:
        q &= cql2_to_q(ast, CollectionQueryables(collection.id, fields, known))
    return q


def _order(collection: StacCollection, sortby: list[tuple[str, bool]]) -> list[OrderKey]:
    keys = []
    for name, descending in sortby or collection.default_sort:
        queryable = collection.queryables.get(name)
        if queryable is None or not queryable.sortable:
            if name in ("collection",):
                continue
            raise _field_error("sortby", f"cannot sort by {name!r}; sortable: "
                               f"{', '.join(n for n, q in collection.queryables.items() if q.sortable)}")
        keys.append(OrderKey(queryable.path, descending))
    keys.append(OrderKey("pk", bool(keys and keys[-1].descending)))
    return keys


@dataclass
class SearchPage:
    items: list[dict]
    next_token: str | None


def search_run(*, collections: list[StacCollection], params: SearchParams, user, request) -> SearchPage:
    """One page of items over ``collections`` (in order), with the token of the next page."""
    ast = cql2_parse(params.filter, params.filter_lang) if params.filter is not None else None
    known = _known_queryables(collections)
    sort_tag = ",".join(f"{'-' if d else ''}{n}" for n, d in params.sortby) + "|" + ",".join(c.id for c in collections)
    start_index, start_values = 0, None
    if params.token:
        raw = cursor_decode(params.token, keys=2, tag=sort_tag, param="token")
        if not isinstance(raw[0], int) or not 0 <= raw[0] < len(collections) or not (
                raw[1] is None or isinstance(raw[1], str)):
            raise _field_error("token", "not a token of this search")
        start_index = raw[0]
        if raw[1] is not None:
            start_values = cursor_decode(raw[1], keys=len(_order(collections[start_index], params.sortby)),
                                         tag="v", param="token")
    items: list[dict] = []
    remaining = params.limit
    for index in range(start_index, len(collections)):
        collection = collections[index]
        order = _order(collection, params.sortby)
        qs = collection.items(user).filter(_collection_q(collection, params, ast, known))
        rows, next_values = keyset_page(qs, order=order, limit=remaining,
                                        cursor_values=start_values if index == start_index else None,
                                        columns=collection.columns)
        for row in rows:
            item = collection.to_item(dict(zip(collection.columns, row, strict=False)), request)
            item["collection"] = collection.id
            items.append(item)
        remaining -= len(rows)
        if next_values is not None:
            return SearchPage(items, cursor_encode([index, cursor_encode(next_values, tag="v")], tag=sort_tag))
        if remaining == 0:
            more = index + 1 < len(collections)
            return SearchPage(items, cursor_encode([index + 1, None], tag=sort_tag) if more else None)
    return SearchPage(items, None)
