"""CQL2 (basic CQL2 + basic spatial operators) to Django Q, over one collection's queryables.

pygeofilter parses cql2-text and cql2-json into one AST; this walks it. Each collection maps queryable
names to ORM paths; ``collection`` is a constant per collection (evaluated here, not in SQL). A queryable
the collection lacks makes comparisons false and ``IS NULL`` true, as for an absent property.
"""

import json
import operator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.db.models import Q
from pygeofilter import ast, values
from pygeofilter.parsers.cql2_json import parse as parse_cql2_json
from pygeofilter.parsers.cql2_text import parse as parse_cql2_text

from apps.api.errors import ApiError
from apps.core.geo import geometry_from_geojson

__all__ = ["CollectionQueryables", "cql2_parse", "cql2_to_q"]

NOTHING = Q(pk__in=[])
EVERYTHING = Q()

_COMPARISONS = {
    ast.Equal: ("exact", operator.eq),
    ast.NotEqual: (None, operator.ne),
    ast.LessThan: ("lt", operator.lt),
    ast.LessEqual: ("lte", operator.le),
    ast.GreaterThan: ("gt", operator.gt),
    ast.GreaterEqual: ("gte", operator.ge),
}


@dataclass(frozen=True)
class CollectionQueryables:
    collection_id: str
    fields: dict[str, str]  # queryable name -> ORM path
    known: frozenset[str] = field(default_factory=frozenset)  # names valid in some collection


def cql2_parse(expression: Any, lang: str | None) -> ast.Node:
    """Parse ``filter`` in ``filter-lang`` (cql2-text for strings, cql2-json for objects by default)."""
    lang = lang or ("cql2-json" if isinstance(expression, dict) else "cql2-text")
    try:
        if lang == "cql2-text":
            if not isinstance(expression, str):
                raise ValueError("a cql2-text filter must be a string")
            return parse_cql2_text(expression)
        if lang == "cql2-json":
            if isinstance(expression, str):
                expression = json.loads(expression)
            if not isinstance(expression, dict):
                raise ValueError("a cql2-json filter must be a JSON object")
            return parse_cql2_json(expression)
    except ApiError:
        raise
    except Exception as exc:  # lark / pygeofilter raise many types for malformed input
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ApiError(f"Invalid {lang} filter: {message[:300]}", fields={"filter": [message[:300]]}) from exc
    raise ApiError(f"Unsupported filter-lang {lang!r}; use cql2-text or cql2-json.",
                   fields={"filter-lang": ["use cql2-text or cql2-json"]})


def _bad(message: str) -> ApiError:
    return ApiError(f"Unsupported filter: {message}", fields={"filter": [message]})


def _literal(value: Any) -> Any:
    if isinstance(value, values.Geometry):
        try:
            return geometry_from_geojson(value.geometry)
        except ValueError as exc:
            raise _bad(str(exc)) from exc
    if isinstance(value, ast.Attribute | ast.Node):
        raise _bad("comparisons must be between a property and a literal")
    if isinstance(value, str | int | float | bool | datetime | date) or value is None:
        return value
    raise _bad(f"literal {value!r:.60} is not supported (basic CQL2 + basic spatial)")


def cql2_to_q(node: ast.Node, queryables: CollectionQueryables) -> Q:
    """Q for ``node`` over one collection; ApiError for unknown queryables or unsupported operators."""

    def prop(attribute: Any) -> tuple[str, str | None]:
        if not isinstance(attribute, ast.Attribute):
            raise _bad("the left side of a predicate must be a property")
        name = attribute.name
        if name == "collection":
            return name, None
        if name not in queryables.fields and name not in queryables.known:
            raise ApiError(f"Unknown queryable {name!r}: see /stac/queryables.", fields={"filter": [name]})
        return name, queryables.fields.get(name)

    def walk(n: ast.Node) -> Q:
        if isinstance(n, ast.And):
            return walk(n.lhs) & walk(n.rhs)
        if isinstance(n, ast.Or):
            return walk(n.lhs) | walk(n.rhs)
        if isinstance(n, ast.Not):
            return ~walk(n.sub_node)
        if type(n) in _COMPARISONS:
            name, path = prop(n.lhs)
            value = _literal(n.rhs)
            lookup, py_op = _COMPARISONS[type(n)]
            if name == "collection":
                try:
                    return EVERYTHING if py_op(queryables.collection_id, value) else NOTHING
                except TypeError as exc:
                    raise _bad("collection compares with strings") from exc
            if path is None:
                return NOTHING
            if lookup is None:  # <>: true only where the property exists and differs
                return ~Q(**{path: value}) & Q(**{f"{path}__isnull": False})
            return Q(**{f"{path}__{lookup}": value})
        if isinstance(n, ast.IsNull):
            name, path = prop(n.lhs)
            if name == "collection":
                result = EVERYTHING if n.not_ else NOTHING
            else:
                result = Q(**{f"{path}__isnull": not n.not_}) if path else (NOTHING if n.not_ else EVERYTHING)
            return result
        if isinstance(n, ast.In):
            name, path = prop(n.lhs)
            options = [_literal(v) for v in n.sub_nodes]
            if name == "collection":
                hit = queryables.collection_id in options
                return EVERYTHING if hit != n.not_ else NOTHING
            if path is None:
                return NOTHING
            q = Q(**{f"{path}__in": options})
            return ~q & Q(**{f"{path}__isnull": False}) if n.not_ else q
        if isinstance(n, ast.GeometryIntersects):
            name, path = prop(n.lhs)
            geometry = _literal(n.rhs)
            if name != "geometry" or not hasattr(geometry, "geom_type"):
                raise _bad("S_INTERSECTS takes the geometry property and a geometry literal")
            return Q(**{f"{path}__intersects": geometry}) if path else NOTHING
        if isinstance(n, ast.Include):
            return NOTHING if n.not_ else EVERYTHING
        raise _bad(f"operator {type(n).__name__} is not supported (basic CQL2 + S_INTERSECTS)")

    return walk(node)
