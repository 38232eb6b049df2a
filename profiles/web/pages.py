"""What every page view shares: domain errors rendered as pages, and the API's daily limits
applied to a plain Django request."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from rest_framework.request import Request

from profiles.errors import DomainError


def error_page(request: HttpRequest, error: DomainError) -> HttpResponse:
    response = render(request, "web/error.html", {"error": error}, status=error.status)
    response.is_page = True  # type: ignore[attr-defined]  # keep it HTML (JsonNotFoundMiddleware)
    return response


def page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A page view: a DomainError raised by a service or selector becomes an error page with
    its status, and every answer stays the HTML written for people (JsonErrorMiddleware turns
    other error responses into the API's JSON)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            response = view(request, *args, **kwargs)
        except DomainError as error:
            return error_page(request, error)
        response.is_page = True  # type: ignore[attr-defined]
        return response

    return wrapper


def throttle_allows(throttle: Any, request: HttpRequest) -> bool:
    """Count this request against one of the API's throttles (the same cache keys, so a
    person's day is one budget whether they use the API or the pages)."""
    wrapped = Request(request)
    wrapped.user = request.user
    return bool(throttle.allow_request(wrapped, None))


def problems_by_path(problems: list[dict[str, str]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for item in problems:
        out.setdefault(item["path"], []).append(item["message"])
    return out
