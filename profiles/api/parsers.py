"""A JSON parser that keeps the exact bytes received, enforces the body-size limit and reads
the JSON as strictly as the MUD codec does.

Submissions must be stored byte for byte, and DRF's own parser hands only the decoded data
on; this one reads the body once, keeps it on the request as `raw_body`, then decodes it with
the codec's reader: a member twice in one object, or a lone surrogate escape anywhere, is a
400 that lists every one with its JSON pointer. Every endpoint gets this, so the bytes kept
are always the document that was validated, and nothing downstream (the database, the JSON
renderer) meets a string it cannot encode.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework import exceptions, status
from rest_framework.parsers import BaseParser

from profiles import mud
from profiles.errors import DomainError, problem


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is larger than this server accepts."
    default_code = "payload_too_large"


class RawJSONParser(BaseParser):
    media_type = "application/json"

    def parse(self, stream: Any, media_type: str | None = None, parser_context: dict[str, Any] | None = None) -> Any:
        limit = settings.MUDHUB_MAX_BODY_BYTES
        request = (parser_context or {}).get("request")
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0) if request is not None else 0
        except ValueError:
            declared = 0  # as Django reads a malformed Content-Length: none declared
        if declared > limit:
            raise PayloadTooLarge(f"The body is {declared} bytes; the limit is {limit}.")
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise PayloadTooLarge(f"The body is over the limit of {limit} bytes.")
        if request is not None:
            request.raw_body = raw
        try:
            return mud.load_json(raw, mud.Limits(max_bytes=limit))
        except mud.MudValidationError as exc:
            problems = [problem(p.code, p.path or "/", p.message) for p in exc.problems]
            message = f"The body is not JSON that mudhub accepts: {problems[0]['message']}"
            raise DomainError("malformed_json", message, problems=problems) from None
