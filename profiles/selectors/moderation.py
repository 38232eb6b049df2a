"""What the moderation queue shows."""

from __future__ import annotations

from django.db.models import QuerySet

from profiles.models import ConsensusFlow

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
