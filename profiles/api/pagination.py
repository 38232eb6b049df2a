"""Paging for every list: `limit` (1..MAX_LIMIT, default PAGE_SIZE) and `offset` (0..2^63-1).

DRF's LimitOffsetPagination reads a bad value as the default and accepts any size, which let
`limit=2^63` reach the database (a 500 on SQLite) and `limit=2^63-1` return every row. Here
a value that is not a plain decimal number in range is a 400 naming the parameter, and the
limits are in the OpenAPI document.
"""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from rest_framework.exceptions import ErrorDetail, ValidationError
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request

MAX_LIMIT = 1000
MAX_OFFSET = 2**63 - 1
_DECIMAL = re.compile(r"[0-9]{1,19}\Z", re.ASCII)


def query_integer(request: Request, name: str, *, low: int, high: int, default: int) -> tuple[int, list[ErrorDetail]]:
    """A query parameter that must be a plain decimal integer in low..high when present."""
    if name not in request.query_params:
        return default, []
    text = request.query_params[name]
    if not _DECIMAL.match(text):
        return default, [ErrorDetail(f"{name} must be a whole number in {low}..{high}", code="invalid")]
    value = int(text)
    if not low <= value <= high:
        return default, [ErrorDetail(f"{name} must be within {low}..{high}", code="out_of_range")]
    return value, []


class LimitOffsetPagination(LimitOffsetPagination):
    max_limit = MAX_LIMIT

    def paginate_queryset(self, queryset: Any, request: Request, view: Any = None) -> list[Any] | None:
        default = self.default_limit or settings.REST_FRAMEWORK["PAGE_SIZE"]
        limit, limit_problems = query_integer(request, self.limit_query_param, low=1, high=MAX_LIMIT, default=default)
        offset, offset_problems = query_integer(request, self.offset_query_param, low=0, high=MAX_OFFSET, default=0)
        problems = {self.limit_query_param: limit_problems, self.offset_query_param: offset_problems}
        if limit_problems or offset_problems:
            raise ValidationError({name: details for name, details in problems.items() if details})
        self.request = request
        self.limit, self.offset = limit, offset
        self.count = self.get_count(queryset)
        if self.count == 0 or self.offset > self.count:
            return []
        return list(queryset[self.offset : self.offset + self.limit])

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        default = self.default_limit or settings.REST_FRAMEWORK["PAGE_SIZE"]
        return [
            {
                "name": self.limit_query_param,
                "required": False,
                "in": "query",
                "description": f"Number of results to return per page (1..{MAX_LIMIT}, default {default}).",
                "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": default},
            },
            {
                "name": self.offset_query_param,
                "required": False,
                "in": "query",
                "description": "The index of the first result to return.",
                "schema": {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET, "default": 0},
            },
        ]
