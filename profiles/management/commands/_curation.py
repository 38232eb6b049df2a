"""What the curation commands share: naming a device model and the moderator who acts."""

from __future__ import annotations

from django.core.management.base import CommandError

from profiles.models import Contributor, DeviceModel


def device_model_named(name: str) -> DeviceModel:
    """A model by id, or by `manufacturer/model` slugs."""
    if name.isdigit():
        found = DeviceModel.objects.select_related("manufacturer").filter(pk=int(name)).first()
    elif name.count("/") == 1:
        mfg, model = name.split("/")
        found = DeviceModel.objects.select_related("manufacturer").filter(manufacturer__slug=mfg, slug=model).first()
    else:
        raise CommandError(f"{name!r}: name a model by its id or as manufacturer/model (slugs)")
    if found is None:
        raise CommandError(f"no device model {name!r}")
    return found


def moderator_named(username: str) -> Contributor | None:
    """The moderator the decision is recorded for; None (the operator) when not named."""
    if not username:
        return None
    person = Contributor.objects.filter(user__username=username).first()
    if person is None or not person.is_moderator:
        raise CommandError(f"{username!r} is not a moderator")
    return person
