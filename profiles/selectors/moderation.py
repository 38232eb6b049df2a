"""What the moderation queue shows."""

from __future__ import annotations

from django.db.models import QuerySet

from profiles.models import ConsensusFlow, DeviceModel, ModerationDecision

# Issue 9, cause 3: the queue lists every high-risk candidate that two or more independent
# groups support, not only those whose lower bound under the H prior already passed 0.40
# (which took about six full-weight observers, so small crowds never reached a moderator).
# What makes such a flow ALLOWED is unchanged: rule 6.4 still needs the approval, two TL2+
# groups and LB >= 0.40.
QUEUE_MIN_GROUPS = 2


def high_risk_candidates(*, limit: int = 200) -> QuerySet[ConsensusFlow]:
    """Current H candidates with support from >= 2 groups and no approval yet, most supported first."""
    return (
        ConsensusFlow.objects.filter(
            profile__is_current=True, risk_class="H", state="candidate", groups__gte=QUEUE_MIN_GROUPS
        )
        .exclude(provenance__approved=True)
        .select_related("flow", "profile__device_model__manufacturer")
        .order_by("-support", "-groups", "profile__device_model_id", "flow__key")[:limit]
    )


def curation_decisions(*, device_model: DeviceModel | None = None, limit: int = 20) -> QuerySet[ModerationDecision]:
    """The latest withdrawals, restorations and merges of device models (of one, if given)."""
    rows = ModerationDecision.objects.filter(kind__in=ModerationDecision.MODEL_KINDS)
    if device_model is not None:
        rows = rows.filter(device_model=device_model)
    related = ("device_model__manufacturer", "merged_into__manufacturer", "moderator__user")
    return rows.select_related(*related).order_by("-id")[:limit]


def merge_targets(*, device_model: DeviceModel) -> QuerySet[DeviceModel]:
    """The models `device_model` may be merged into: its manufacturer's others still served."""
    rows = DeviceModel.objects.filter(manufacturer_id=device_model.manufacturer_id, merged_into__isnull=True)
    return rows.filter(withdrawn_at__isnull=True).exclude(pk=device_model.pk).order_by("name")
