"""Content negotiation for endpoints with one representation (GeoJSON, JSON Schema, STAC JSON).

Clients ask for ``application/geo+json`` or ``application/schema+json``; DRF's default negotiation would
answer 406 because no renderer declares those types. These views always answer with their one type.
"""

from rest_framework.negotiation import BaseContentNegotiation


class SingleRepresentationNegotiation(BaseContentNegotiation):
    def select_parser(self, request, parsers):
        for parser in parsers:
            if request.content_type and request.content_type.split(";")[0].strip() in (parser.media_type,):
                return parser
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type
