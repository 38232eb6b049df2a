"""Votes: TL2+ members up- or down-vote a flow of a model; the consensus counts them."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from profiles.errors import DomainError, problem
from profiles.models import (
    LATEST,
    UNKNOWN_FIRMWARE,
    ConsensusFlow,
    Contributor,
    DeviceModel,
    FirmwareVersion,
    Flow,
    GroupMerge,
    Submission,
    Vote,
)
from profiles.selectors.catalog import votes_refused
from profiles.selectors.supporters import flow_supporters, supporters_by_flow
from profiles.services.groups import _merge, groups_rebuild
from profiles.services.recompute import device_model_mark_dirty

# Serial votes (CONSENSUS.md): >= 5 votes on one contributor's flows within 7 days that make
# up at least half of the voter's votes in that time are voided.
SERIAL_WINDOW = timedelta(days=7)
SERIAL_MIN_VOTES = 5


def _invalid(code: str, path: str, message: str) -> DomainError:
    return DomainError("invalid_input", message, problems=[problem(code, path, message)])


def _flow_of_model(device_model: DeviceModel, key: str) -> Flow:
    flow = Flow.objects.filter(key=key).first()
    if flow is not None:
        in_consensus = ConsensusFlow.objects.filter(profile__device_model=device_model, flow=flow).exists()
        if in_consensus:
            return flow
    raise _invalid("unknown_flow", "/flow", "This flow is not part of this model's consensus.")


_REFUSALS = {
    "merged": ("/device_model", "{model} was merged into model {target}: vote on that one."),
    "withdrawn": ("/device_model", "A moderator withdrew {model}: nothing of it is served, so it takes no votes."),
    "scope_withdrawn": (
        "/firmware",
        "A moderator withdrew the firmware scope {scope!r} of {model}: it takes no votes.",
    ),
}


def _check_served(device_model: DeviceModel, scope: str) -> None:
    """A merged or withdrawn model (or withdrawn firmware scope) takes no votes: a 409 saying why."""
    refused = votes_refused(device_model=device_model, scope=scope)
    if refused:
        path, text = _REFUSALS[refused]
        message = text.format(model=device_model.name, scope=scope, target=device_model.merged_into_id)
        raise DomainError(refused, message, status=409, problems=[problem(refused, path, message)])


@transaction.atomic
def vote_cast(
    *, voter: Contributor, device_model: DeviceModel, flow_key: str, value: int, firmware: str = "", reason: str = ""
) -> tuple[Vote, bool]:
    """Cast (or change) a vote; (vote, created). Triggers a recompute of the model."""
    if voter.suspended:
        raise DomainError("suspended", "A suspended account cannot vote.", status=403)
    if voter.trust_level < Contributor.TrustLevel.MEMBER:
        raise DomainError("trust_level_too_low", "Voting needs trust level 2 (member) or higher.", status=403)
    if value not in (1, -1):
        raise _invalid("invalid_value", "/value", "A vote is +1 or -1.")
    if firmware in (UNKNOWN_FIRMWARE, "latest"):
        firmware = ""
    if firmware and not FirmwareVersion.objects.filter(device_model=device_model, version=firmware).exists():
        raise _invalid("unknown_firmware", "/firmware", f"{firmware!r} is not a known firmware of this model.")
    _check_served(device_model, firmware or LATEST)
    flow = _flow_of_model(device_model, flow_key)
    supporters = flow_supporters(device_model.pk, flow.pk)
    if voter.pk in supporters:
        raise DomainError("own_flow", "Nobody votes on a flow they reported themselves.", status=403)
    vote, created = Vote.objects.update_or_create(
        voter=voter,
        device_model=device_model,
        flow=flow,
        firmware=firmware,
        defaults={"value": value, "reason": reason},
    )
    _detect_serial_votes(voter, device_model, supporters)
    if value == 1:
        _detect_mutual_votes(voter, supporters)
    device_model_mark_dirty(device_model_id=device_model.pk)
    return vote, created


@transaction.atomic
def vote_withdraw(*, voter: Contributor, vote: Vote) -> None:
    if vote.voter_id != voter.pk:
        raise DomainError("not_your_vote", "Only the voter can withdraw a vote.", status=403)
    device_model_id = vote.device_model_id
    vote.delete()
    device_model_mark_dirty(device_model_id=device_model_id)


def _detect_serial_votes(voter: Contributor, device_model: DeviceModel, supporters: set[int]) -> None:
    """Void the voter's recent votes on any one contributor's flows once they are a pattern."""
    since = timezone.now() - SERIAL_WINDOW
    recent = list(
        Vote.objects.filter(voter=voter, created_at__gte=since, voided_at__isnull=True).values_list(
            "id", "device_model_id", "flow_id"
        )
    )
    if len(recent) < SERIAL_MIN_VOTES:
        return
    backers = {model_id: supporters_by_flow(model_id) for model_id in {m for _, m, _ in recent}}
    for target in supporters:
        on_target = [vid for vid, m, f in recent if target in backers[m].get(f, ())]
        if len(on_target) >= SERIAL_MIN_VOTES and 2 * len(on_target) >= len(recent):
            Vote.objects.filter(pk__in=on_target).update(
                voided_at=timezone.now(),
                void_reason=f"serial votes: {len(on_target)} of {len(recent)} in 7 days on one contributor's flows",
            )
            for model_id in {m for vid, m, _ in recent if vid in on_target}:
                if model_id != device_model.pk:
                    device_model_mark_dirty(device_model_id=model_id)
            return


def _detect_mutual_votes(voter: Contributor, supporters: set[int]) -> None:
    """A and B up-voting each other's flows are not independent: merge their groups."""
    if not supporters:
        return
    mutual = set()
    for other in supporters - {voter.pk}:
        their_up_votes = Vote.objects.filter(voter_id=other, value=1, voided_at__isnull=True)
        for model_id, flow_id in their_up_votes.values_list("device_model_id", "flow_id"):
            rows = Submission.objects.filter(
                Q(device_model_id=model_id), contributor=voter, status=Submission.Status.ACTIVE
            )
            if any(flow_id in ids for ids in rows.values_list("flow_ids", flat=True)):
                mutual.add(other)
                break
    made = [other for other in mutual if _merge(voter.pk, other, GroupMerge.Reason.MUTUAL_VOTES, "mutual up-votes")]
    if made:
        groups_rebuild(around=[voter.pk, *made])
