"""Finding (or creating) the manufacturer, device model and firmware a submission names."""

from __future__ import annotations

from datetime import datetime
from typing import TypeVar

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from profiles.errors import DomainError, problem
from profiles.models import (
    UNKNOWN_FIRMWARE,
    DeviceModel,
    DeviceModelAlias,
    FirmwareVersion,
    Manufacturer,
    ManufacturerAlias,
    name_slug,
)

_Named = TypeVar("_Named", Manufacturer, DeviceModel)


def _slug_or_error(name: str, path: str) -> str:
    slug = name_slug(name)
    if not slug:
        raise DomainError(
            "invalid_input",
            "A name needs at least one letter or digit.",
            problems=[problem("invalid_name", path, f"{name!r} has no letter or digit to make a slug from.")],
        )
    return slug


def _prefer_alias(rows: list[_Named], slug: str) -> _Named | None:
    """Of the (at most two) rows a slug found directly or through an alias, the one the alias
    names: an alias records a merge, so it wins over a leftover row of the same slug. An
    alias always differs from its target's own slug, which tells the two apart without
    another query."""
    for row in rows:
        if row.slug != slug:
            return row
    return rows[0] if rows else None


def manufacturer_resolve(*, name: str, path: str = "/device/manufacturer") -> Manufacturer:
    """The manufacturer this name (or one of its aliases) means; a new one if none does."""
    slug = _slug_or_error(name, path)
    aliased = ManufacturerAlias.objects.filter(slug=slug).values("manufacturer_id")
    found = _prefer_alias(list(Manufacturer.objects.filter(Q(slug=slug) | Q(pk__in=aliased))), slug)
    if found is not None:
        return found
    with transaction.atomic():
        manufacturer, _ = Manufacturer.objects.get_or_create(slug=slug, defaults={"name": name.strip()})
    return manufacturer


def device_model_resolve(*, manufacturer: Manufacturer, name: str, path: str = "/device/model") -> DeviceModel:
    """The manufacturer's model this name (or one of its aliases) means; a new one if none does."""
    slug = _slug_or_error(name, path)
    aliased = DeviceModelAlias.objects.filter(manufacturer=manufacturer, slug=slug).values("device_model_id")
    rows = DeviceModel.objects.filter(Q(manufacturer=manufacturer), Q(slug=slug) | Q(pk__in=aliased))
    found = _prefer_alias(list(rows), slug)
    if found is None:
        with transaction.atomic():
            found, created = DeviceModel.objects.get_or_create(
                manufacturer=manufacturer, slug=slug, defaults={"name": name.strip()}
            )
            if created:
                FirmwareVersion.objects.get_or_create(
                    device_model=found, version=UNKNOWN_FIRMWARE, defaults={"first_seen": found.created_at}
                )
    found.manufacturer = manufacturer  # the caller's row: reading it again would cost a query
    return found


def firmware_resolve(
    *, device_model: DeviceModel, version: str | None, seen_at: datetime | None = None
) -> FirmwareVersion:
    version = (version or "").strip() or UNKNOWN_FIRMWARE
    firmware, _ = FirmwareVersion.objects.get_or_create(
        device_model=device_model, version=version, defaults={"first_seen": seen_at or timezone.now()}
    )
    return firmware


@transaction.atomic
def alias_add(*, device_model: DeviceModel, alias: str) -> DeviceModelAlias:
    """Make another spelling resolve to `device_model` (merging duplicates is a moderator's act)."""
    slug = _slug_or_error(alias, "/alias")
    if slug == device_model.slug:
        raise DomainError("invalid_input", "An alias must differ from the model's own slug.")
    made, _ = DeviceModelAlias.objects.update_or_create(
        manufacturer=device_model.manufacturer, slug=slug, defaults={"device_model": device_model}
    )
    return made
