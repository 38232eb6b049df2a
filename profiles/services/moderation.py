"""Moderation: every act of a moderator is a stored decision; the services apply it."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from profiles.errors import DomainError, problem
from profiles.models import (
    UNKNOWN_FIRMWARE,
    Contributor,
    DeviceModel,
    Flow,
    ModerationDecision,
    ReputationEvent,
    Submission,
    SubmissionReport,
)
from profiles.selectors.supporters import flow_supporters
from profiles.services.recompute import device_model_mark_dirty
from profiles.trust.params import DEFAULT_TRUST_PARAMS

Kind = ModerationDecision.Kind


def _problems(kind: str, *, device_model: Any, flow_key: str, contributor: Any, submission: Any) -> list[dict]:
    out = []
    if kind in ModerationDecision.FLOW_KINDS:
        if device_model is None:
            out.append(problem("required", "/device_model", f"a {kind} decision names a device model"))
        if not flow_key:
            out.append(problem("required", "/flow", f"a {kind} decision names a flow"))
    elif kind in ModerationDecision.ACCOUNT_KINDS and contributor is None:
        out.append(problem("required", "/contributor", f"a {kind} decision names a contributor"))
    elif kind in ModerationDecision.SUBMISSION_KINDS and submission is None:
        out.append(problem("required", "/submission", f"a {kind} decision names a submission"))
    return out


@transaction.atomic
def decision_record(
    *,
    moderator: Contributor | None,
    kind: str,
    reason: str,
    device_model: DeviceModel | None = None,
    flow_key: str = "",
    firmware: str = "",
    contributor: Contributor | None = None,
    submission: Submission | None = None,
) -> ModerationDecision:
    """Record one decision and apply it. `moderator=None` is the system itself (a burst freeze)."""
    if moderator is not None and not moderator.is_moderator:
        raise DomainError("not_a_moderator", "Only moderators record decisions.", status=403)
    if kind not in Kind.values:
        raise DomainError("invalid_input", "Unknown decision.", problems=[problem("invalid_choice", "/kind", kind)])
    if kind in ModerationDecision.MODEL_KINDS:
        action = {"withdraw_model": "withdraw", "restore_model": "restore", "merge_model": "merge"}[kind]
        raise DomainError(
            "invalid_input",
            f"A {kind} decision is recorded by POST /api/v1/device-models/{{id}}/{action}/.",
            problems=[problem("invalid_choice", "/kind", f"{kind} is recorded by the model's {action} endpoint")],
        )
    problems = _problems(
        kind, device_model=device_model, flow_key=flow_key, contributor=contributor, submission=submission
    )
    if not reason.strip():
        problems.append(problem("required", "/reason", "every decision gives its reason"))
    flow = None
    if kind in ModerationDecision.FLOW_KINDS and flow_key:
        flow = Flow.objects.filter(key=flow_key).first()
        if flow is None:
            problems.append(problem("unknown_flow", "/flow", "no such flow"))
    if problems:
        raise DomainError("invalid_input", f"{len(problems)} problem(s) in the decision.", problems=problems)
    decision = ModerationDecision.objects.create(
        kind=kind,
        moderator=moderator,
        device_model=device_model if kind in ModerationDecision.FLOW_KINDS else None,
        flow=flow,
        firmware="" if firmware in ("", "latest", UNKNOWN_FIRMWARE) else firmware,
        contributor=contributor,
        submission=submission,
        reason=reason.strip()[:1000],
    )
    _apply(decision)
    return decision


def _apply(decision: ModerationDecision) -> None:
    kind = decision.kind
    if kind in ModerationDecision.FLOW_KINDS:
        assert decision.device_model is not None and decision.flow is not None
        if kind == Kind.REJECT_MALICIOUS:
            from profiles.services.reputation import ledger_add

            for contributor_id in sorted(flow_supporters(decision.device_model_id, decision.flow_id)):
                ledger_add(
                    contributor_id=contributor_id,
                    kind=ReputationEvent.Kind.MALICIOUS,
                    cause=f"decision:{decision.pk}",
                    delta_s=DEFAULT_TRUST_PARAMS.malicious_s,
                    strike=True,
                    device_model_id=decision.device_model_id,
                )
        device_model_mark_dirty(device_model_id=decision.device_model_id)
    elif kind == Kind.GRANT_TL3:
        Contributor.objects.filter(pk=decision.contributor_id).update(tl3_granted=True)
    elif kind == Kind.REVOKE_TL3:
        person = Contributor.objects.select_for_update().get(pk=decision.contributor_id)
        person.tl3_granted = False
        person.trust_level = min(person.trust_level, Contributor.TrustLevel.MEMBER)
        person.save(update_fields=["tl3_granted", "trust_level"])
        _dirty_models_of(person.pk)
    elif kind == Kind.SUSPEND:
        Contributor.objects.filter(pk=decision.contributor_id, suspended_at__isnull=True).update(
            suspended_at=timezone.now()
        )
        _dirty_models_of(decision.contributor_id)
    elif kind in ModerationDecision.SUBMISSION_KINDS:
        assert decision.submission is not None
        if kind == Kind.REJECT_SUBMISSION:
            Submission.objects.filter(pk=decision.submission_id).update(status=Submission.Status.REJECTED)
            device_model_mark_dirty(device_model_id=decision.submission.device_model_id)
        SubmissionReport.objects.filter(submission=decision.submission, resolved_by__isnull=True).update(
            resolved_by=decision
        )


def _dirty_models_of(contributor_id: int | None) -> None:
    """A weight changed: every model the contributor is an input of needs a recompute."""
    models = Submission.objects.filter(contributor_id=contributor_id, status=Submission.Status.ACTIVE)
    for device_model_id in models.values_list("device_model_id", flat=True).distinct():
        device_model_mark_dirty(device_model_id=device_model_id)


@transaction.atomic
def submission_report(*, reporter: Contributor, submission: Submission, reason: str) -> SubmissionReport:
    if not reason.strip():
        raise DomainError(
            "invalid_input", "Say why.", problems=[problem("required", "/reason", "a report gives its reason")]
        )
    report, _ = SubmissionReport.objects.get_or_create(
        submission=submission, reporter=reporter, defaults={"reason": reason.strip()[:1000]}
    )
    return report


def frozen_flow_ids(device_model_id: int) -> dict[tuple[int, str], int]:
    """(flow id, firmware) -> freeze decision id, for freezes no later unfreeze lifted."""
    frozen = _frozen(ModerationDecision.objects.filter(device_model_id=device_model_id))
    return {(flow_id, firmware): pk for (_, flow_id, firmware), pk in frozen.items()}


def frozen_flows_everywhere() -> dict[tuple[int, int, str], int]:
    """(model id, flow id, firmware) -> freeze decision id, for every model in one query (the
    moderation queue lists them all)."""
    return _frozen(ModerationDecision.objects.filter(device_model__isnull=False))


def _frozen(decisions: QuerySet[ModerationDecision]) -> dict[tuple[int, int, str], int]:
    latest: dict[tuple[int, int, str], tuple[str, int]] = {}
    rows = decisions.filter(kind__in=[Kind.FREEZE, Kind.UNFREEZE]).order_by("id")
    for pk, kind, model_id, flow_id, firmware in rows.values_list(
        "id", "kind", "device_model_id", "flow_id", "firmware"
    ):
        latest[(model_id, flow_id, firmware)] = (kind, pk)
    return {key: pk for key, (kind, pk) in latest.items() if kind == Kind.FREEZE}
