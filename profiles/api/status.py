"""Readiness: 200 when the database, the cache and (if configured) the broker answer; 503 naming what failed."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.cache import cache, caches
from django.db import connection
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from profiles.api.responses import StatusSerializer
from profiles.models import WorkerHeartbeat


def _check_database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    # Reading a table of ours also proves the migrations ran.
    beat = WorkerHeartbeat.objects.order_by("-seen_at").values_list("seen_at", flat=True).first()
    return f"{connection.vendor}; worker last seen {beat.isoformat() if beat else 'never'}"


def _check_cache() -> str:
    key, value = f"status:{uuid.uuid4().hex}", uuid.uuid4().hex
    cache.set(key, value, 10)
    if cache.get(key) != value:
        raise RuntimeError("the value written was not read back")
    cache.delete(key)
    return type(caches["default"]).__name__


def _check_broker() -> str:
    from aggregator.celery import app

    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)
        return conn.transport_cls if isinstance(conn.transport_cls, str) else str(conn.transport_cls)


def _run(check: Callable[[], str]) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        detail = check()
        ok = True
    except Exception as exc:  # a readiness probe reports every failure, whatever its type
        detail, ok = f"{exc.__class__.__name__}: {exc}", False
    return {"ok": ok, "detail": detail, "ms": round((time.perf_counter() - started) * 1000, 1)}


class StatusView(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list[type] = []
    throttle_classes: list[type] = []

    @extend_schema(responses={200: StatusSerializer, 503: StatusSerializer})
    def get(self, request: Request) -> Response:
        checks = {"database": _run(_check_database), "cache": _run(_check_cache)}
        if settings.CELERY_TASK_ALWAYS_EAGER:
            checks["broker"] = {"ok": True, "detail": "tasks run inline (no broker configured)", "ms": 0.0}
        else:
            checks["broker"] = _run(_check_broker)
        failed = sorted(name for name, result in checks.items() if not result["ok"])
        body: dict[str, Any] = {
            "status": "ok" if not failed else "unavailable",
            "failed": failed,
            "checks": checks,
            "time": timezone.now(),
        }
        return Response(body, status=503 if failed else 200)
