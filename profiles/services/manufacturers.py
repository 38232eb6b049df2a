"""Manufacturer members: who may act for a manufacturer, and the record of what they did.

Only members act for a manufacturer. A moderator adds the first member; members add and
remove others. Every membership change (and every other act for a manufacturer) is a
ManufacturerDecision, listed publicly.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction

from profiles.errors import DomainError, NotFound, problem
from profiles.models import Contributor, DeviceModel, Manufacturer, ManufacturerDecision, ManufacturerMember
from profiles.services.recompute import device_model_mark_dirty


def manufacturer_get(*, slug: str) -> Manufacturer:
    found = Manufacturer.objects.filter(slug=slug).first()
    if found is None:
        raise NotFound(f"No manufacturer {slug!r}.")
    return found


def is_member(*, contributor: Contributor | None, manufacturer: Manufacturer) -> bool:
    if contributor is None:
        return False
    return ManufacturerMember.objects.filter(manufacturer=manufacturer, contributor=contributor).exists()


def member_required(*, actor: Contributor | None, manufacturer: Manufacturer) -> Contributor:
    """The actor, if it may act for `manufacturer`; a 403 otherwise (moderators included)."""
    if actor is None or actor.suspended or not is_member(contributor=actor, manufacturer=manufacturer):
        raise DomainError("not_a_member", f"Only members of {manufacturer.name} may do this for it.", status=403)
    return actor


def member_or_moderator_required(*, actor: Contributor | None, manufacturer: Manufacturer) -> bool:
    """True when the actor acts as a moderator (not a member); a 403 for anyone else."""
    if actor is not None and not actor.suspended and is_member(contributor=actor, manufacturer=manufacturer):
        return False
    if actor is not None and actor.is_moderator and not actor.suspended:
        return True
    raise DomainError("not_a_member", f"Only members of {manufacturer.name} or a moderator may do this.", status=403)


def decision_note(
    *, manufacturer: Manufacturer, kind: str, actor: Contributor | None, subject: str, as_moderator: bool = False
) -> ManufacturerDecision:
    return ManufacturerDecision.objects.create(
        manufacturer=manufacturer, kind=kind, actor=actor, subject=subject[:500], as_moderator=as_moderator
    )


def manufacturer_models_mark_dirty(*, manufacturer: Manufacturer) -> None:
    """A change that reaches every model of the manufacturer (a verified domain changes risk classes)."""
    for model_id in DeviceModel.objects.filter(manufacturer=manufacturer).values_list("pk", flat=True):
        device_model_mark_dirty(device_model_id=model_id)


def _contributor_named(username: str) -> Contributor:
    user = get_user_model().objects.filter(username=username).select_related("contributor").first()
    contributor = getattr(user, "contributor", None) if user is not None else None
    if contributor is None:
        raise DomainError(
            "invalid_input",
            "No such account.",
            problems=[problem("unknown_user", "/username", f"no account is named {username!r}")],
        )
    return contributor


@transaction.atomic
def member_add(
    *, actor: Contributor | None, manufacturer: Manufacturer, username: str, by_operator: bool = False
) -> tuple[ManufacturerMember, bool]:
    """Make `username` a member; (member, created). Moderators and members may add; so may an
    operator at the command line (`by_operator`, recorded as a moderator's act without a name)."""
    as_moderator = by_operator or member_or_moderator_required(actor=actor, manufacturer=manufacturer)
    person = _contributor_named(username)
    existing = ManufacturerMember.objects.filter(manufacturer=manufacturer, contributor=person).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            member = ManufacturerMember.objects.create(manufacturer=manufacturer, contributor=person, added_by=actor)
    except IntegrityError:
        return ManufacturerMember.objects.get(manufacturer=manufacturer, contributor=person), False
    decision_note(
        manufacturer=manufacturer,
        kind=ManufacturerDecision.Kind.MEMBER_ADD,
        actor=actor,
        subject=f"member {username}",
        as_moderator=as_moderator,
    )
    return member, True


@transaction.atomic
def member_remove(
    *, actor: Contributor | None, manufacturer: Manufacturer, username: str, by_operator: bool = False
) -> None:
    as_moderator = by_operator or member_or_moderator_required(actor=actor, manufacturer=manufacturer)
    person = _contributor_named(username)
    deleted, _ = ManufacturerMember.objects.filter(manufacturer=manufacturer, contributor=person).delete()
    if not deleted:
        raise NotFound(f"{username} is not a member of {manufacturer.name}.")
    decision_note(
        manufacturer=manufacturer,
        kind=ManufacturerDecision.Kind.MEMBER_REMOVE,
        actor=actor,
        subject=f"member {username}",
        as_moderator=as_moderator,
    )
