"""Manufacturer statements and discrepancies: what a claimed manufacturer says about single
flows, and its public answers to the crowd-allowed flows its profile omits."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from profiles.errors import DomainError, problem
from profiles.models import (
    Contributor,
    DeviceModel,
    Discrepancy,
    Flow,
    FlowStatement,
    ManufacturerDecision,
)
from profiles.services.domain_claims import has_verified_domain
from profiles.services.manufacturers import decision_note, member_required
from profiles.services.recompute import device_model_mark_dirty
from profiles.services.signed_profiles import firmware_normalize


@transaction.atomic
def statement_make(
    *,
    actor: Contributor | None,
    device_model: DeviceModel,
    flow_key: str,
    verdict: str,
    firmware: list[str],
    comment: str = "",
) -> FlowStatement:
    """Allow or reject one flow of the manufacturer's model, for firmware no profile covers.
    The manufacturer needs a verified domain. A statement replaces the manufacturer's earlier
    one on the same flow and firmware set."""
    manufacturer = device_model.manufacturer
    member_required(actor=actor, manufacturer=manufacturer)
    if not has_verified_domain(manufacturer=manufacturer):
        raise DomainError(
            "domain_not_verified", f"{manufacturer.name} must verify a domain before it makes statements.", status=403
        )
    flow = Flow.objects.filter(key=flow_key).first()
    if flow is None:
        raise DomainError(
            "invalid_input", "Unknown flow.", problems=[problem("unknown_flow", "/flow", "no flow has this key")]
        )
    versions = firmware_normalize(firmware)
    now = timezone.now()
    FlowStatement.objects.filter(
        manufacturer=manufacturer, device_model=device_model, flow=flow, firmware=versions, withdrawn_at__isnull=True
    ).update(withdrawn_at=now)
    statement = FlowStatement.objects.create(
        manufacturer=manufacturer,
        device_model=device_model,
        flow=flow,
        verdict=verdict,
        firmware=versions,
        comment=comment,
        made_by=actor,
    )
    decision_note(
        manufacturer=manufacturer,
        kind=ManufacturerDecision.Kind.STATEMENT,
        actor=actor,
        subject=f"{verdict} {flow_key} on {device_model.name} ({', '.join(versions) or 'all firmware'})",
    )
    device_model_mark_dirty(device_model_id=device_model.pk)
    return statement


@transaction.atomic
def discrepancy_respond(
    *, actor: Contributor | None, discrepancy: Discrepancy, state: str, comment: str
) -> Discrepancy:
    manufacturer = discrepancy.device_model.manufacturer
    member_required(actor=actor, manufacturer=manufacturer)
    discrepancy.state = state
    discrepancy.comment = comment
    discrepancy.responded_by = actor
    discrepancy.responded_at = timezone.now()
    discrepancy.save(update_fields=["state", "comment", "responded_by", "responded_at"])
    decision_note(
        manufacturer=manufacturer,
        kind=ManufacturerDecision.Kind.DISCREPANCY_RESPONSE,
        actor=actor,
        subject=f"discrepancy {discrepancy.pk}: {state}",
    )
    return discrepancy
