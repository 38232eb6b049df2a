"""Reads of the manufacturer side, shaped for the API and the manufacturer console."""

from __future__ import annotations

from django.db.models import QuerySet

from profiles.models import (
    ConsensusFlow,
    DeviceModel,
    Discrepancy,
    FlowStatement,
    Manufacturer,
    ManufacturerDecision,
    ManufacturerDomain,
    ManufacturerMember,
    SignedProfile,
    SigningCertificate,
)

# The rule that decided a consensus row says which source decided it.
_SOURCES = {
    "6.1-manufacturer": "manufacturer_profile",
    "6.1-discrepancy": "manufacturer_profile",
    "6.2-statement-reject": "manufacturer_statement",
    "6.2-statement-allow": "manufacturer_statement",
    "6.2-moderator": "moderator",
    "6.2-frozen": "moderator",  # a freeze (a moderator's, or the burst rule's for a moderator) holds the state
}


def decision_source(rule: str) -> str:
    """crowd / manufacturer_profile / manufacturer_statement / moderator, from a row's rule."""
    return _SOURCES.get(rule, "crowd")


def members_list(*, manufacturer: Manufacturer) -> QuerySet[ManufacturerMember]:
    return (
        ManufacturerMember.objects.filter(manufacturer=manufacturer)
        .select_related("contributor__user", "added_by__user")
        .order_by("id")
    )


def claims_list(*, manufacturer: Manufacturer) -> QuerySet[ManufacturerDomain]:
    return ManufacturerDomain.objects.filter(manufacturer=manufacturer).order_by("id")


def verified_domains(*, manufacturer: Manufacturer) -> list[str]:
    return list(
        ManufacturerDomain.objects.filter(manufacturer=manufacturer, verified_at__isnull=False)
        .order_by("domain")
        .values_list("domain", flat=True)
    )


def certificates_list(*, manufacturer: Manufacturer) -> QuerySet[SigningCertificate]:
    return SigningCertificate.objects.filter(manufacturer=manufacturer).select_related("pinned_by__user").order_by("id")


def signed_profiles_list(*, manufacturer: Manufacturer) -> QuerySet[SignedProfile]:
    return (
        SignedProfile.objects.filter(manufacturer=manufacturer)
        .select_related("manufacturer", "certificate", "uploaded_by__user")
        .defer("mud", "signature")
        .order_by("-id")
    )


def statements_list(
    *, device_model: DeviceModel | None = None, manufacturer: Manufacturer | None = None
) -> QuerySet[FlowStatement]:
    """Statements about one model, or every statement a manufacturer made; newest first."""
    rows = FlowStatement.objects.select_related("manufacturer", "flow", "made_by__user", "device_model")
    if device_model is not None:
        rows = rows.filter(device_model=device_model)
    if manufacturer is not None:
        rows = rows.filter(manufacturer=manufacturer)
    return rows.order_by("-id")


def statement_flow_keys(*, device_model: DeviceModel) -> list[str]:
    """The keys of the flows a statement about this model can name: every flow of its current
    consensus versions (served, candidate, rejected or left out), sorted."""
    rows = ConsensusFlow.objects.filter(profile__device_model=device_model, profile__is_current=True)
    return list(rows.order_by("flow__key").values_list("flow__key", flat=True).distinct())


def discrepancies_list(
    *, manufacturer: Manufacturer | None = None, device_model: DeviceModel | None = None, include_cleared: bool = False
) -> QuerySet[Discrepancy]:
    rows = Discrepancy.objects.select_related("device_model__manufacturer", "flow", "responded_by__user")
    if manufacturer is not None:
        rows = rows.filter(device_model__manufacturer=manufacturer)
    if device_model is not None:
        rows = rows.filter(device_model=device_model)
    if not include_cleared:
        rows = rows.filter(cleared_at__isnull=True)
    return rows.order_by("device_model_id", "scope", "id")


def decisions_list(*, manufacturer: Manufacturer) -> QuerySet[ManufacturerDecision]:
    return ManufacturerDecision.objects.filter(manufacturer=manufacturer).select_related("actor__user").order_by("-id")
