"""One JSON error shape for the REST and STAC APIs: ``{"code", "description", "fields"?}``.

STAC API asks for ``code`` and ``description``; ``fields`` maps each bad input field to its messages so a
script can say which parameter was wrong. Django's own errors (404, permission, validation) get the same shape.
"""

from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

__all__ = ["ApiConflict", "ApiError", "api_exception_handler"]


class ApiError(exceptions.APIException):
    """A bad request found outside a serializer (a filter, a CQL2 expression): 400 with field details."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "invalid"

    def __init__(self, description: str, *, fields: dict[str, list[str]] | None = None, code: str = "invalid"):
        super().__init__(description, code)
        self.fields = fields or {}


class ApiConflict(ApiError):
    """The request is valid but the resource changed under it (e.g. a footprint was replaced): 409."""

    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"


def _flatten(detail: Any) -> dict[str, list[str]]:
    if isinstance(detail, dict):
        out: dict[str, list[str]] = {}
        for key, value in detail.items():
            if isinstance(value, dict):
                for sub, messages in _flatten(value).items():
                    out[f"{key}.{sub}"] = messages
            elif isinstance(value, list):
                out[str(key)] = [str(v) for v in value]
            else:
                out[str(key)] = [str(value)]
        return out
    if isinstance(detail, list):
        return {"non_field_errors": [str(v) for v in detail]}
    return {}


def api_exception_handler(exc: Exception, context: dict) -> Response | None:
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) or "Not found.")
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    response = exception_handler(exc, context)
    if response is None:
        return None
    body: dict[str, Any]
    if isinstance(exc, ApiError):
        body = {"code": exc.get_codes(), "description": str(exc.detail)}
        if exc.fields:
            body["fields"] = exc.fields
    elif isinstance(exc, exceptions.ValidationError):
        fields = _flatten(exc.detail)
        first = next(iter(fields.items()), ("", ["invalid input"]))
        where = f"{first[0]}: " if first[0] and first[0] != "non_field_errors" else ""
        body = {"code": "invalid", "description": f"Invalid input. {where}{first[1][0]}", "fields": fields}
    else:
        detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
        code = exc.get_codes() if isinstance(exc, exceptions.APIException) else "error"
        body = {"code": code if isinstance(code, str) else "error", "description": str(detail)}
    response.data = body
    return response
