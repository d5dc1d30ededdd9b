"""gzip for data responses (JSON, GeoJSON, JavaScript, CSS, SVG), never for HTML pages.

The map's data and the API's GeoJSON are large, repetitive text (coordinates, property names): gzip shrinks
them several times over (``python -m tests.benchmarks.web_map`` prints both sizes). HTML pages are left alone
on purpose: they carry the CSRF token (every logged-in page has the log-out form) next to text an attacker
can put in the URL (the map's filter form echoes ``?q=``), which is what BREACH needs to read a secret from
compressed sizes. Django's length padding makes that harder, not impossible, and HTML is small here, so it is
not worth it. Data responses hold no secret beside reflected input, except the token endpoints, which are
skipped. Already-encoded responses (WhiteNoise's precompressed static files in production) pass through.
"""

from django.http import HttpRequest, HttpResponseBase
from django.middleware.gzip import GZipMiddleware

__all__ = ["COMPRESSED_TYPES", "DataGZipMiddleware"]

COMPRESSED_TYPES = frozenset({
    "application/json", "application/geo+json", "application/schema+json", "application/vnd.oai.openapi+json",
    "text/css", "text/javascript", "application/javascript", "image/svg+xml",
})
NEVER_COMPRESSED_PATHS = ("/api/v1/auth/",)  # API token keys: a secret in the body


class DataGZipMiddleware(GZipMiddleware):
    """Django's GZipMiddleware restricted to ``COMPRESSED_TYPES`` (see the module docstring for why)."""

    def process_response(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        content_type = response.get("Content-Type", "").split(";", 1)[0].strip().lower()
        if content_type not in COMPRESSED_TYPES or request.path.startswith(NEVER_COMPRESSED_PATHS):
            return response
        return super().process_response(request, response)
