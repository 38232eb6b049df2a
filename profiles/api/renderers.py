"""The JSON renderer: DRF's, with one fallback so that rendering an answer can never fail.

DRF writes UTF-8 (`ensure_ascii=False`), which cannot encode a lone surrogate. The parser
refuses them in request bodies, but an error message may still echo a value from elsewhere
(a query string, a header); then the answer is written again with ASCII escapes.
"""

from __future__ import annotations

from typing import Any

from rest_framework import renderers


class _AsciiJSONRenderer(renderers.JSONRenderer):
    ensure_ascii = True


class JSONRenderer(renderers.JSONRenderer):
    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> bytes:
        try:
            return super().render(data, accepted_media_type, renderer_context)
        except UnicodeEncodeError:
            return _AsciiJSONRenderer().render(data, accepted_media_type, renderer_context)
