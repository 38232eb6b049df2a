"""Every error mudhub answers is JSON: {"code", "message", "errors": [{"code", "path", "message"}]}.

`code` is stable (clients branch on it); `errors` lists every problem, each with the JSON
pointer of the member it concerns, so a client sees all that is wrong in one round trip.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.csrf import csrf_failure as django_csrf_failure
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from profiles.errors import DomainError

# DRF's default codes are already stable identifiers; a few get names that say more.
_CODES = {
    "parse_error": "malformed_json",
    "invalid": "invalid_input",
}


def error_body(code: str, message: str, problems: list[dict[str, str]] | None = None) -> dict[str, Any]:
    return {"code": code, "message": message, "errors": problems or []}


def flatten_detail(detail: Any, path: str = "") -> list[dict[str, str]]:
    """Turn DRF's nested ValidationError detail into a flat list with JSON pointers."""
    if isinstance(detail, dict):
        out: list[dict[str, str]] = []
        for key, value in detail.items():
            sub = "" if key == "non_field_errors" else f"{path}/{key}"
            out.extend(flatten_detail(value, sub if key != "non_field_errors" else path))
        return out
    if isinstance(detail, list):
        if all(isinstance(item, exceptions.ErrorDetail) for item in detail):
            return [p for item in detail for p in flatten_detail(item, path)]
        out = []
        for index, item in enumerate(detail):
            out.extend(flatten_detail(item, f"{path}/{index}"))
        return out
    code = getattr(detail, "code", None) or "invalid"
    return [{"code": str(code), "path": path or "/", "message": str(detail)}]


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DomainError):
        body = error_body(exc.code, exc.message, exc.problems)
        if exc.retry_after is None:
            return Response(body, status=exc.status)
        body["retry_after"] = exc.retry_after
        return Response(body, status=exc.status, headers={"Retry-After": str(exc.retry_after)})
    if isinstance(exc, RequestDataTooBig):
        return Response(
            error_body("payload_too_large", "The request body is larger than this server accepts."),
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    if isinstance(exc, SuspiciousOperation):
        return Response(error_body("bad_request", str(exc) or "Bad request."), status=400)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None or not isinstance(exc, exceptions.APIException):
        return response
    if isinstance(exc, exceptions.ValidationError):
        problems = flatten_detail(exc.detail)
        response.data = error_body("invalid_input", f"{len(problems)} problem(s) in the request.", problems)
        return response
    raw_code = exc.get_codes()
    code = raw_code if isinstance(raw_code, str) else exc.default_code
    code = _CODES.get(code, code)
    message = str(exc.detail) if not isinstance(exc.detail, (dict, list)) else str(exc.default_detail)
    response.data = error_body(code, message)
    if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
        response.data["retry_after"] = int(exc.wait + 0.999)
    return response


# Django-level handlers, for URLs no DRF view answers.
def bad_request(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return JsonResponse(error_body("bad_request", "Bad request."), status=400)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return JsonResponse(error_body("permission_denied", "You do not have permission to do this."), status=403)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return JsonResponse(error_body("not_found", f"Nothing is at {request.path}."), status=404)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW: JSON for API clients and gateways, Django's page for browsers."""
    if "text/html" in request.META.get("HTTP_ACCEPT", ""):
        return django_csrf_failure(request, reason)
    message = f"CSRF verification failed: {reason}" if reason else "CSRF verification failed."
    return JsonResponse(error_body("csrf_failed", message), status=403)


def server_error(request: HttpRequest) -> JsonResponse:
    return JsonResponse(error_body("server_error", "The server failed; the error was logged."), status=500)
