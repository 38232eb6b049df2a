"""FilterSets: unknown filter values are a 400 (a typo must not look like an empty result)."""

from __future__ import annotations

import django_filters
from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, Q, QuerySet
from drf_spectacular.utils import extend_schema_field

from profiles.models import DeviceModel, DeviceModelAlias, Manufacturer, SignedProfile, Submission, name_slug


class ManufacturerFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", help_text="name or slug contains")

    class Meta:
        model = Manufacturer
        fields = ["slug"]

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(Q(name__icontains=value) | Q(slug__icontains=value))


@extend_schema_field({"type": "string", "enum": ["true", "false"]})
class TrueFalseFilter(django_filters.TypedChoiceFilter):
    """`true` or `false`, and nothing else (a 400 otherwise): documented as those two strings."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(choices=[("true", "true"), ("false", "false")], coerce=lambda value: value == "true", **kwargs)


class DeviceModelFilter(django_filters.FilterSet):
    manufacturer = django_filters.ModelChoiceFilter(
        field_name="manufacturer", to_field_name="slug", queryset=Manufacturer.objects.all(), help_text="slug"
    )
    manufacturer_id = django_filters.ModelChoiceFilter(field_name="manufacturer", queryset=Manufacturer.objects.all())
    q = django_filters.CharFilter(
        method="search",
        help_text="model or manufacturer name contains, or one of the model's aliases (a merged "
        "duplicate's name among them)",
    )
    has_consensus = TrueFalseFilter()
    updated_since = django_filters.IsoDateTimeFilter(field_name="updated_at", lookup_expr="gte")
    has_manufacturer_profile = TrueFalseFilter(
        method="manufacturer_profile",
        help_text="the manufacturer has a signed profile in force for the model",
    )

    class Meta:
        model = DeviceModel
        fields = ["slug"]

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        found = Q(name__icontains=value) | Q(slug__icontains=value) | Q(manufacturer__name__icontains=value)
        # Aliases are slugs: the words searched for are compared as a slug (`Cam One` finds `cam-one`).
        slug = name_slug(value)
        if slug:
            found |= Exists(DeviceModelAlias.objects.filter(device_model=OuterRef("pk"), slug__icontains=slug))
        return queryset.filter(found)

    def manufacturer_profile(self, queryset: QuerySet, name: str, value: bool) -> QuerySet:
        live = SignedProfile.objects.filter(
            device_model=OuterRef("pk"), withdrawn_at__isnull=True, superseded_by__isnull=True
        )
        return queryset.filter(Exists(live) if value else ~Exists(live))


class SubmissionFilter(django_filters.FilterSet):
    contributor = django_filters.ModelChoiceFilter(
        field_name="contributor__user",
        to_field_name="username",
        queryset=get_user_model().objects.all(),
        help_text="username",
    )
    device_model = django_filters.ModelChoiceFilter(field_name="device_model", queryset=DeviceModel.objects.all())
    device_model_id = django_filters.ModelChoiceFilter(field_name="device_model", queryset=DeviceModel.objects.all())
    manufacturer = django_filters.ModelChoiceFilter(
        field_name="device_model__manufacturer", to_field_name="slug", queryset=Manufacturer.objects.all()
    )
    status = django_filters.ChoiceFilter(choices=Submission.Status.choices)

    class Meta:
        model = Submission
        fields = ["format", "source"]
