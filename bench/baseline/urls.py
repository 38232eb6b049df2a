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
from typing import Any

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


# An experiment, off unless MUDHUB_BENCH_LOCAL_CACHE_SECONDS is set (bench/download.py
# --local-cache): each worker keeps the files it served for that many seconds in its own
# memory, in front of Redis, so a hit costs no round trip.
_LOCAL_SECONDS = float(os.environ.get("MUDHUB_BENCH_LOCAL_CACHE_SECONDS") or 0)
if _LOCAL_SECONDS > 0:
    import time

    from profiles import gateway

    _redis_served_file_get = gateway.served_file_get
    _local: dict[tuple[str, str, str], tuple[float, Any]] = {}

    def _served_file_get(*, manufacturer_slug: str, model_slug: str, scope: str = "latest") -> Any:
        key = (manufacturer_slug, model_slug, scope)
        now = time.monotonic()
        hit = _local.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        served = _redis_served_file_get(manufacturer_slug=manufacturer_slug, model_slug=model_slug, scope=scope)
        if served is not None:
            _local[key] = (now + _LOCAL_SECONDS, served)
        return served

    gateway.served_file_get = _served_file_get  # type: ignore[assignment]

urlpatterns = [
    path("bare/", bare),
    path("", include("aggregator.urls")),
]

__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]
