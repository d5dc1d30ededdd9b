"""HTTP edge of the core app: the health endpoint."""

from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from apps.core.health import health_report


@never_cache
@require_GET
def health_view(request: HttpRequest) -> JsonResponse:
    """200 when the platform can serve (database + extensions + broker), 503 otherwise; workers listed."""
    report = health_report()
    return JsonResponse(report.as_dict(), status=200 if report.ok else 503)
