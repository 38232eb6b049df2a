"""Unknown URLs answer with the same JSON error as everything else.

Django resolves the URL inside its innermost handler and, with DEBUG on, turns a miss into
its HTML technical page before any view or exception handler of ours runs; replacing the
finished response here is the one place that sees every such 404.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from profiles.api.errors import page_not_found


class JsonNotFoundMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code == 404 and not response.get("Content-Type", "").startswith("application/"):
            return page_not_found(request)
        return response
