"""Reads of submissions: one contributor's list, and how each flow of a submission fared."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from profiles.errors import NotFound
from profiles.models import LATEST, ConsensusFlow, ConsensusProfile, Contributor, Flow, Submission


def submissions_of(*, contributor: Contributor) -> QuerySet[Submission]:
    return (
        Submission.objects.filter(contributor=contributor)
        .select_related("device_model__manufacturer", "firmware")
        .defer("raw", "meta")
        .order_by("-id")
    )


def submission_get(*, submission_id: int) -> Submission:
    found = (
        Submission.objects.select_related("contributor__user", "device_model__manufacturer", "firmware")
        .defer("raw")
        .filter(pk=submission_id)
        .first()
    )
    if found is None:
        raise NotFound(f"No submission {submission_id}.", code="unknown_submission")
    return found


@dataclass(frozen=True)
class FlowFate:
    key: str
    state: str
    risk_class: str
    support: float
    groups: int


@dataclass(frozen=True)
class SubmissionFate:
    scope: str
    flows: list[FlowFate]
    counts: dict[str, int]


def submission_fate_get(*, submission: Submission) -> SubmissionFate:
    """The state of each of the submission's flows in the current consensus of its firmware
    (or of `latest` while that firmware has none); "pending" where nothing decided it yet."""
    profile = None
    for scope in (submission.firmware.version, LATEST):
        profile = ConsensusProfile.objects.filter(
            device_model_id=submission.device_model_id, scope=scope, is_current=True
        ).first()
        if profile is not None:
            break
    decided = {}
    if profile is not None:
        rows = ConsensusFlow.objects.filter(profile=profile, flow_id__in=submission.flow_ids)
        decided = {row.flow_id: row for row in rows}
    keys = dict(Flow.objects.filter(pk__in=submission.flow_ids).values_list("id", "key"))
    flows = []
    counts: dict[str, int] = {}
    for flow_id in submission.flow_ids:
        row = decided.get(flow_id)
        fate = FlowFate(
            key=keys.get(flow_id, "?"),
            state=row.state if row is not None else "pending",
            risk_class=row.risk_class if row is not None else "",
            support=round(row.support, 2) if row is not None else 0.0,
            groups=row.groups if row is not None else 0,
        )
        counts[fate.state] = counts.get(fate.state, 0) + 1
        flows.append(fate)
    flows.sort(key=lambda fate: fate.key)
    return SubmissionFate(profile.scope if profile is not None else LATEST, flows, counts)
