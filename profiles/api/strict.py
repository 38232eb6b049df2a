"""What every input serializer and list filter of the API holds to.

- A member a serializer does not define is a 400 (`unknown_member`), at any depth: a typo
  must not be dropped silently while the raw bytes keep it.
- A string field takes only a JSON string: DRF would store `0` as "0" and `true` as "True".
- Names (manufacturer, model, firmware, ...) hold no control character, not even a tab or a
  line break (the JSON parser already refuses the others everywhere).
- A filter or `ordering` parameter that is present has a value; an unknown `ordering` field
  is a 400 (DRF ignores it, so a typo looked like the default order); a date-time filter out
  of range once in UTC is a 400, not a 500.

Input serializers inherit StrictInputMixin; the filter backends are the defaults in settings.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from django.db.models import QuerySet
from django_filters.rest_framework import DjangoFilterBackend
from django_filters.utils import translate_validation
from rest_framework import filters, serializers
from rest_framework.exceptions import ErrorDetail, ValidationError
from rest_framework.fields import empty
from rest_framework.request import Request

_CONTROL = re.compile("[\\x00-\\x1f\\x7f-\\x9f]")


def no_control_characters(value: str) -> None:
    """A validator for names: no control character at all (tab and line breaks included)."""
    if _CONTROL.search(value):
        raise serializers.ValidationError("contains a control character", code="control_character")


class StrictInputMixin:
    fields: Any

    def to_internal_value(self, data: Any) -> Any:
        errors: dict[str, list[ErrorDetail]] = {}
        if isinstance(data, dict):
            for name in sorted(set(data) - set(self.fields)):
                errors[name] = [ErrorDetail("unknown member", code="unknown_member")]
            for name, field in self.fields.items():
                value = data.get(name, empty)
                if (
                    isinstance(field, serializers.CharField)
                    and not field.read_only
                    and value is not empty
                    and value is not None
                    and not isinstance(value, str)
                ):
                    errors[name] = [ErrorDetail("expected a string", code="wrong_type")]
        try:
            value = super().to_internal_value(data)  # type: ignore[misc]
        except serializers.ValidationError as exc:
            detail = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
            raise serializers.ValidationError({**detail, **errors}) from None
        if errors:
            raise serializers.ValidationError(errors)
        return value


class FilterBackend(DjangoFilterBackend):
    def filter_queryset(self, request: Request, queryset: QuerySet, view: Any) -> QuerySet:
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is not None:
            names = set(filterset_class.base_filters)
            blank = sorted(
                name for name, values in request.query_params.lists() if name in names and "" in values
            )  # fmt: skip
            if blank:
                raise ValidationError({name: [ErrorDetail("must not be empty", code="blank")] for name in blank})
        filterset = self.get_filterset(request, queryset, view)
        if filterset is None:
            return queryset
        if not filterset.is_valid():
            raise translate_validation(filterset.errors)
        # A date-time near year 1 or 9999 with an offset parses, then overflows when the
        # database adapter converts it to UTC (an OverflowError, a 500).
        overflow = {}
        for name, value in filterset.form.cleaned_data.items():
            if isinstance(value, datetime):
                try:
                    value.astimezone(UTC)
                except OverflowError:
                    overflow[name] = [ErrorDetail("the date-time is out of range in UTC", code="overflow")]
        if overflow:
            raise ValidationError(overflow)
        return filterset.qs


class OrderingFilter(filters.OrderingFilter):
    def get_ordering(self, request: Request, queryset: QuerySet, view: Any) -> Any:
        if self.ordering_param in request.query_params:
            params = request.query_params[self.ordering_param]
            fields = [param.strip() for param in params.split(",")]
            valid = {item[0] for item in self.get_valid_fields(queryset, view, {"request": request})}
            unknown = [field for field in fields if field.removeprefix("-") not in valid]
            if unknown:
                named = ", ".join(map(repr, unknown))
                message = f"unknown ordering field(s) {named}; one of {', '.join(sorted(valid))} (- for descending)"
                raise ValidationError({self.ordering_param: [ErrorDetail(message, code="invalid_choice")]})
        return super().get_ordering(request, queryset, view)
