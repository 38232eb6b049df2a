"""Domain errors: values with a stable code, raised by services, turned into 4xx at the edge.

A service never returns half-done work: it raises one DomainError that lists every problem
it found (each a dict with `code`, `path` (a JSON pointer into the request) and `message`),
and the API layer renders it as JSON with the same code.
"""

from __future__ import annotations

from typing import Any, Protocol


class ProblemLike(Protocol):
    code: str
    path: str
    message: str


def problem(code: str, path: str, message: str) -> dict[str, str]:
    return {"code": code, "path": path, "message": message}


def problems_from(items: list[Any], prefix: str = "") -> list[dict[str, str]]:
    """Problems of the MUD codec (or anything with code/path/message), re-rooted under `prefix`."""
    return [problem(p.code, prefix + p.path, p.message) for p in items]


class DomainError(Exception):
    def __init__(
        self,
        code: str,
        message: str,
        *,
        status: int = 400,
        problems: list[dict[str, str]] | None = None,
        retry_after: int | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.problems = problems or []
        # Seconds after which the same request may succeed (a 429 or 503): the Retry-After header.
        self.retry_after = retry_after


class NotFound(DomainError):
    def __init__(self, message: str, code: str = "not_found") -> None:
        super().__init__(code, message, status=404)
