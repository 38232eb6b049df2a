"""Reads of the trust side: a contributor's standing, the moderation queue, votes, tokens."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from knox.models import AuthToken

from profiles.errors import NotFound
from profiles.models import (
    Contributor,
    DeviceModel,
    Flow,
    ReputationEvent,
    Submission,
    SubmissionReport,
    Vote,
)
from profiles.selectors.moderation import high_risk_candidates
from profiles.services.accounts import contributor_for
from profiles.services.moderation import frozen_flows_everywhere
from profiles.trust.levels import Standing, next_level_needs


@dataclass(frozen=True)
class ContributorStanding:
    user: Any
    contributor: Contributor
    counts: dict[str, int]
    ledger: list[ReputationEvent]
    next_level_needs: list[str]


def contributor_standing_get(*, username: str, ledger_size: int = 50) -> ContributorStanding:
    """A contributor's public standing: level, reputation, counts, what the next level needs,
    and the newest entries of the reputation ledger."""
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise NotFound(f"No contributor {username!r}.", code="unknown_contributor")
    person = contributor_for(user)
    counts = Submission.objects.filter(contributor=person).aggregate(
        submissions=Count("id"),
        active=Count("id", filter=Q(status=Submission.Status.ACTIVE)),
        accepted=Count("id", filter=Q(accepted_at__isnull=False)),
        rejected=Count("id", filter=Q(status=Submission.Status.REJECTED)),
        models=Count("device_model", distinct=True),
        accepted_models=Count("device_model", distinct=True, filter=Q(accepted_at__isnull=False)),
    )
    counts["votes"] = Vote.objects.filter(voter=person, voided_at__isnull=True).count()
    ledger = list(
        ReputationEvent.objects.filter(contributor=person)
        .select_related("device_model__manufacturer")
        .order_by("-created_at", "-id")[:ledger_size]
    )
    standing = Standing(
        level=person.trust_level,
        age_days=(timezone.now() - person.created_at).total_seconds() / 86400.0,
        valid_submissions=counts["submissions"] - counts["rejected"],
        rejected_submissions=counts["rejected"],
        accepted_submissions=counts["accepted"],
        accepted_models=counts["accepted_models"],
        reputation=person.reputation,
        strikes=person.strikes,
        tl3_granted=person.tl3_granted,
        suspended=person.suspended,
    )
    return ContributorStanding(user, person, counts, ledger, next_level_needs(standing))


@dataclass(frozen=True)
class QueuedFlow:
    device_model: DeviceModel
    scope: str
    flow_key: str
    support: float
    groups: int
    lower_bound: float
    class_reason: str
    trusted_groups: int = 0
    # The evidence: the submissions that support the flow (from the decision's provenance).
    submission_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class FrozenFlow:
    device_model: DeviceModel
    flow_id: int
    flow_key: str
    firmware: str
    decision_id: int


@dataclass(frozen=True)
class ReportedSubmission:
    submission: Submission
    reports: int
    reasons: list[str]


@dataclass(frozen=True)
class ModerationQueue:
    high_risk_flows: list[QueuedFlow]
    frozen_flows: list[FrozenFlow]
    reported_submissions: list[ReportedSubmission]


def moderation_queue_get(*, limit: int = 200) -> ModerationQueue:
    """What waits for a moderator: every high-risk candidate two or more groups support (see
    `moderation.high_risk_candidates`), frozen flows, and submissions someone reported."""
    h_flows = high_risk_candidates(limit=limit)
    queued = [
        QueuedFlow(
            device_model=row.profile.device_model,
            scope=row.profile.scope,
            flow_key=row.flow.key,
            support=row.support,
            groups=row.groups,
            lower_bound=row.lower_bound,
            class_reason=str(row.provenance.get("class_reason") or ""),
            trusted_groups=int(row.provenance.get("K2", 0)),
            submission_ids=tuple(int(i) for i in row.provenance.get("submission_ids", ()) if str(i).isdigit()),
        )
        for row in h_flows
    ]
    frozen_ids = [(m, f, fw, pk) for (m, f, fw), pk in frozen_flows_everywhere().items()]
    models = DeviceModel.objects.select_related("manufacturer").in_bulk({m for m, _, _, _ in frozen_ids})
    keys = dict(Flow.objects.filter(pk__in={f for _, f, _, _ in frozen_ids}).values_list("id", "key"))
    frozen = [FrozenFlow(models[m], f, keys[f], fw, pk) for m, f, fw, pk in frozen_ids[:limit]]
    open_reports = SubmissionReport.objects.filter(resolved_by__isnull=True)
    counted = list(
        open_reports.values("submission_id").annotate(reports=Count("id")).order_by("-reports", "submission_id")[:limit]
    )
    submissions = Submission.objects.select_related("contributor__user", "device_model__manufacturer").in_bulk(
        [row["submission_id"] for row in counted]
    )
    reasons: dict[int, list[str]] = {}
    for submission_id, reason in open_reports.filter(submission_id__in=submissions).values_list(
        "submission_id", "reason"
    ):
        reasons.setdefault(submission_id, []).append(reason)
    reported = [
        ReportedSubmission(submissions[row["submission_id"]], row["reports"], reasons.get(row["submission_id"], []))
        for row in counted
    ]
    return ModerationQueue(queued, frozen, reported)


def votes_of(*, voter: Contributor, device_model: DeviceModel, firmware: str = "") -> dict[str, int]:
    """flow key -> the voter's standing vote (+1/-1) on this model and firmware."""
    rows = Vote.objects.filter(voter=voter, device_model=device_model, firmware=firmware, voided_at__isnull=True)
    return dict(rows.values_list("flow__key", "value"))


def vote_of(*, voter: Contributor, device_model: DeviceModel, flow_key: str, firmware: str = "") -> Vote | None:
    """The voter's vote on one flow of a model and firmware (what a withdrawal removes), if any."""
    rows = Vote.objects.filter(voter=voter, device_model=device_model, flow__key=flow_key, firmware=firmware)
    return rows.first()


def report_of(*, reporter: Contributor, submission: Submission) -> SubmissionReport | None:
    """The reporter's report on a submission, if they made one."""
    return SubmissionReport.objects.filter(submission=submission, reporter=reporter).first()


def tokens_list(*, user: AbstractBaseUser) -> QuerySet[AuthToken]:
    """The user's API tokens that have not expired, newest first (only a prefix is stored in clear)."""
    return AuthToken.objects.filter(user=user, expiry__gt=timezone.now()).order_by("-created")
