"""The app's URLs plus /bare/: a view that returns the served MUD file's bytes from memory.

The baseline of bench/download.py. The bytes are read once, at import, from the file named
by MUDHUB_BENCH_BARE_FILE (the bench writes the published file there), and sent with the
same content type, ETag and Cache-Control as the gateway view, so both responses are the
same size on the wire.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from django.http import HttpRequest, HttpResponse
from django.urls import include, path

from aggregator.urls import handler400, handler403, handler404, handler500

BODY = Path(os.environ["MUDHUB_BENCH_BARE_FILE"]).read_bytes()
ETAG = f'"{hashlib.sha256(BODY).hexdigest()}"'
CACHE_CONTROL = f"public, max-age={int(os.environ.get('MUDHUB_CACHE_VALIDITY_HOURS', '24')) * 3600}"


def bare(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(BODY, content_type="application/mud+json")
    response["ETag"] = ETAG
    response["Cache-Control"] = CACHE_CONTROL
    return response


urlpatterns = [
    path("bare/", bare),
    path("", include("aggregator.urls")),
]

__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]
