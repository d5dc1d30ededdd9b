"""Keyset ("cursor") pagination over any ordering, with nulls last and the primary key as tie-breaker.

A cursor is the ordering values of the last row of a page, base64url-encoded JSON: the next page is the rows
strictly after it in the ordering, so pages stay stable while rows are added and deep pages cost the same
as the first (no OFFSET). Used by the REST lists and the STAC search (``token``).
"""

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import F, Q, QuerySet
from django.utils.dateparse import parse_datetime

from apps.api.errors import ApiError

__all__ = ["OrderKey", "cursor_decode", "cursor_encode", "keyset_after", "keyset_order_by"]


@dataclass(frozen=True)
class OrderKey:
    field: str  # ORM path, e.g. "photo__captured_at"
    descending: bool = False


def _encode_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"t": value.isoformat()}
    return value


def _decode_value(value: Any) -> Any:
    if isinstance(value, dict) and set(value) == {"t"} and isinstance(value["t"], str):
        parsed = parse_datetime(value["t"])
        if parsed is None:
            raise ValueError("bad datetime")
        return parsed
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise ValueError("bad value")


def cursor_encode(values: Sequence[Any], *, tag: str = "") -> str:
    raw = json.dumps({"v": [_encode_value(v) for v in values], "s": tag}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def cursor_decode(cursor: str, *, keys: int, tag: str = "", param: str = "cursor") -> list[Any]:
    """The ordering values in ``cursor``; ApiError if it is not one of ours or was made for another ordering."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = json.loads(raw)
        values = [_decode_value(v) for v in data["v"]]
        if data.get("s", "") != tag or len(values) != keys:
            raise ValueError("cursor made for another ordering")
        return values
    except (ValueError, KeyError, TypeError, binascii.Error, UnicodeDecodeError) as exc:
        raise ApiError("Invalid cursor: use the 'next' link of a previous page unchanged.",
                       fields={param: [str(exc) or "not a cursor"]}) from exc


def keyset_order_by(order: Sequence[OrderKey]) -> list:
    return [
        F(k.field).desc(nulls_last=True) if k.descending else F(k.field).asc(nulls_last=True) for k in order
    ]


def _after(key: OrderKey, value: Any) -> Q:
    """Rows strictly after ``value`` in one key's order (nulls last)."""
    if value is None:
        return Q(pk__in=[])
    op = "lt" if key.descending else "gt"
    return Q(**{f"{key.field}__{op}": value}) | Q(**{f"{key.field}__isnull": True})


def _equal(key: OrderKey, value: Any) -> Q:
    return Q(**{f"{key.field}__isnull": True}) if value is None else Q(**{key.field: value})


def keyset_after(order: Sequence[OrderKey], values: Sequence[Any]) -> Q:
    """Lexicographic "after" over all keys: OR_i (k_1 = v_1 AND ... AND k_{i-1} = v_{i-1} AND k_i after v_i)."""
    condition = Q(pk__in=[])
    prefix = Q()
    for key, value in zip(order, values, strict=True):
        condition |= prefix & _after(key, value)
        prefix &= _equal(key, value)
    return condition


def keyset_page(
    qs: QuerySet, *, order: Sequence[OrderKey], limit: int, cursor_values: Sequence[Any] | None,
    columns: Sequence[str],
) -> tuple[list[tuple], list[Any] | None]:
    """Rows (``columns`` then the order keys) of one page and the next page's cursor values (None at the end)."""
    if cursor_values is not None:
        qs = qs.filter(keyset_after(order, cursor_values))
    fields = [k.field for k in order]
    rows = list(qs.order_by(*keyset_order_by(order)).values_list(*columns, *fields)[: limit + 1])
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    return rows, list(rows[-1][len(columns):])
