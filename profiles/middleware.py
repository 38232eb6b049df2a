"""Every error a gateway or an API client can meet is JSON in the documented shape.

Some errors are answered before any view or exception handler of ours runs: Django turns an
unknown URL into its HTML technical page when DEBUG is on, `require_safe` answers a POST with
an empty text/html 405, the CSRF check answers with its HTML page. Replacing the finished
response here is the one place that sees them all, for every URL, present or future.

Browsers asking for HTML (`Accept: text/html`) keep Django's HTML error pages, except a 404,
which is JSON for everyone as before. An error page a web view wrote itself for people (the
response carries `is_page`, see profiles/web/pages.py) stays as it is, 404 included.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware import common

from profiles.api.errors import error_body, page_not_found
from profiles.errors import problem

log = logging.getLogger(__name__)

# The status a response had, the code and message its JSON body gets.
_ERRORS: dict[int, tuple[str, str]] = {
    400: ("bad_request", "Bad request."),
    401: ("not_authenticated", "Authentication credentials were not provided."),
    403: ("permission_denied", "You do not have permission to do this."),
    405: ("method_not_allowed", "Method {method} is not allowed here."),
    406: ("not_acceptable", "No representation of this resource matches the Accept header."),
    408: ("request_timeout", "The request took too long."),
    413: ("payload_too_large", "The request body is larger than this server accepts."),
    415: ("unsupported_media_type", "Unsupported media type."),
    429: ("throttled", "Too many requests."),
    500: ("server_error", "The server failed; the error was logged."),
    503: ("unavailable", "The service is unavailable; try again later."),
}
# Headers that tell the client what to do next; they survive the replacement.
_KEPT_HEADERS = ("Allow", "Retry-After", "WWW-Authenticate", "Vary")


def wants_html(request: HttpRequest) -> bool:
    return "text/html" in request.META.get("HTTP_ACCEPT", "")


def json_error_for(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """The JSON error that replaces a non-JSON error `response`."""
    if response.status_code == 404:
        return page_not_found(request)
    code, message = _ERRORS.get(response.status_code, (f"http_{response.status_code}", response.reason_phrase))
    replacement = JsonResponse(error_body(code, message.format(method=request.method)), status=response.status_code)
    for header in _KEPT_HEADERS:
        if header in response:
            replacement[header] = response[header]
    return replacement


class JsonErrorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code < 400 or response.get("Content-Type", "").startswith("application/"):
            return response
        if getattr(response, "is_page", False):  # a web page's own error page, written for people
            return response
        if response.status_code != 404 and wants_html(request):
            return response
        return json_error_for(request, response)


_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


class ControlCharacterMiddleware:
    """No URL carries a control character into a view: none can be part of a name (PostgreSQL
    text cannot even hold NUL, so a lookup by it failed with a 500). One in the path is a 404,
    since nothing has such a name; one in the query string is a 400 naming each parameter."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if _CONTROL.search(request.path):
            return page_not_found(request)
        query = request.META.get("QUERY_STRING", "")
        if query:
            problems = [
                problem("control_character", f"/{_CONTROL.sub('?', name)}", "contains a control character")
                for name, values in request.GET.lists()
                if _CONTROL.search(name) or any(_CONTROL.search(value) for value in values)
            ]
            if problems:
                body = error_body("invalid_input", f"{len(problems)} problem(s) in the request.", problems)
                return JsonResponse(body, status=400)
        return self.get_response(request)


class CommonMiddleware(common.CommonMiddleware):
    """Django's, except that only GET and HEAD are redirected to the URL with a slash: a
    redirect cannot carry a body, and with DEBUG on Django raised a RuntimeError (a 500) for a
    POST without the slash. A write to a URL without its slash is a 404 like any unknown URL."""

    def should_redirect_with_slash(self, request: HttpRequest) -> bool:
        return request.method in ("GET", "HEAD") and super().should_redirect_with_slash(request)


class ServiceUnavailableMiddleware:
    """A request the database cannot serve (PostgreSQL restarting, the connection lost) is
    answered 503 in the JSON error shape with Retry-After, not 500: the client may retry, and
    nothing was stored (every write is one transaction, rolled back with the connection).
    Django closes the broken connection at the end of the request; the next request opens a
    new one, so the service recovers by itself once the database is back."""

    RETRY_AFTER_SECONDS = 5

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, (OperationalError, InterfaceError)):
            return None
        log.warning("database unavailable for %s %s: %s", request.method, request.path, exception)
        response = JsonResponse(
            error_body("service_unavailable", "The database is unavailable; nothing was stored. Retry later."),
            status=503,
        )
        response["Retry-After"] = str(self.RETRY_AFTER_SECONDS)
        return response
