"""Finding (or creating) the manufacturer, device model and firmware a submission names."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
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


def _slug_or_error(name: str, path: str) -> str:
    slug = name_slug(name)
    if not slug:
        raise DomainError(
            "invalid_input",
            "A name needs at least one letter or digit.",
            problems=[problem("invalid_name", path, f"{name!r} has no letter or digit to make a slug from.")],
        )
    return slug


@transaction.atomic
def manufacturer_resolve(*, name: str, path: str = "/device/manufacturer") -> Manufacturer:
    """The manufacturer this name (or one of its aliases) means; a new one if none does."""
    slug = _slug_or_error(name, path)
    alias = ManufacturerAlias.objects.select_related("manufacturer").filter(slug=slug).first()
    if alias is not None:
        return alias.manufacturer
    manufacturer, _ = Manufacturer.objects.get_or_create(slug=slug, defaults={"name": name.strip()})
    return manufacturer


@transaction.atomic
def device_model_resolve(*, manufacturer: Manufacturer, name: str, path: str = "/device/model") -> DeviceModel:
    slug = _slug_or_error(name, path)
    alias = DeviceModelAlias.objects.select_related("device_model").filter(manufacturer=manufacturer, slug=slug).first()
    if alias is not None:
        return alias.device_model
    model, created = DeviceModel.objects.get_or_create(
        manufacturer=manufacturer, slug=slug, defaults={"name": name.strip()}
    )
    if created:
        FirmwareVersion.objects.get_or_create(
            device_model=model, version=UNKNOWN_FIRMWARE, defaults={"first_seen": model.created_at}
        )
    return model


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
