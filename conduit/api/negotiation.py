"""DRF's content negotiation, with the answer for what almost every client sends taken first.

The API renders JSON only. DRF parses the ``Accept`` header on every request to find that out
(~35 µs: a twentieth of a warm feed's CPU; docs/performance.md). No header, ``*/*`` and the
renderer's own media type can only get the one renderer with its own media type, so they do
without the parse; anything else (and a ``?format=``) is DRF's, with its 406 or 404.
"""

from collections.abc import Iterable
from typing import Any

from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request


class ConduitContentNegotiation(DefaultContentNegotiation):
    def select_renderer(
        self, request: Request, renderers: Iterable[BaseRenderer], format_suffix: str | None = None
    ) -> Any:
        renderers = list(renderers)
        if len(renderers) == 1 and not format_suffix:
            renderer = renderers[0]
            accept = request.META.get("HTTP_ACCEPT")
            plain = accept is None or accept == "*/*" or accept == renderer.media_type
            if plain and self.settings.URL_FORMAT_OVERRIDE not in request.query_params:
                return renderer, renderer.media_type
        return super().select_renderer(request, renderers, format_suffix)
