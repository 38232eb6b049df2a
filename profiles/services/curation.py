"""Curation of the catalogue by moderators: withdrawing a device model (or one firmware scope)
from what gateways get, serving it again, and merging a duplicate model into the one it
duplicates. Each act is a ModerationDecision (who, why, when), public like every decision.

Withdrawing takes the files out of everything a gateway reads: `/mud/...` answers 410, the
publish directory loses the files, the signed index stops listing them, and the change feed
gets a `removed` entry. A withdrawn model (or scope) stays withdrawn: recomputes publish
nothing for it until a moderator restores it.

Merging moves the duplicate's inputs to the target (submissions with their firmware
versions, aliases, manufacturer statements, votes, the flow decisions of moderators), makes
the duplicate's name an alias of the target (new submissions under it land on the target),
withdraws the duplicate's files with `removed` entries naming the target, and recomputes
the target. It is refused when the duplicate has a manufacturer-signed profile in force (the
manufacturer signed that file for that model: it withdraws it first), across manufacturers
(an alias resolves within one manufacturer), into itself, into a merged or withdrawn model,
and for a model already merged.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from profiles.errors import DomainError, problem
from profiles.models import (
    LATEST,
    ConsensusProfile,
    Contributor,
    DeviceModel,
    DeviceModelAlias,
    Discrepancy,
    FirmwareVersion,
    FlowStatement,
    ModerationDecision,
    SignedProfile,
    Submission,
    Vote,
)
from profiles.regions import split_scope
from profiles.services.publish import consensus_withdraw
from profiles.services.recompute import device_model_mark_dirty

Kind = ModerationDecision.Kind


@dataclass
class CurationOutcome:
    decision: ModerationDecision
    device_model: DeviceModel
    removed: list[str] = field(default_factory=list)  # scopes whose files were withdrawn
    changes: list[int] = field(default_factory=list)  # the feed's `removed` entries
    moved: dict[str, int] = field(default_factory=dict)  # a merge: what moved, by kind


def _check_actor(moderator: Contributor | None) -> None:
    if moderator is not None and not moderator.is_moderator:
        raise DomainError("not_a_moderator", "Only moderators withdraw or merge device models.", status=403)


def _reason_problems(reason: str) -> list[dict[str, str]]:
    return [] if reason.strip() else [problem("required", "/reason", "every decision gives its reason")]


def _invalid(problems: list[dict[str, str]]) -> DomainError:
    return DomainError("invalid_input", f"{len(problems)} problem(s) in the request.", problems=problems)


def _known_scopes(device_model: DeviceModel) -> set[str]:
    scopes = {LATEST, *FirmwareVersion.objects.filter(device_model=device_model).values_list("version", flat=True)}
    scopes |= set(ConsensusProfile.objects.filter(device_model=device_model).values_list("scope", flat=True))
    return scopes


def _locked(device_model: DeviceModel) -> DeviceModel:
    return DeviceModel.objects.select_for_update().select_related("manufacturer").get(pk=device_model.pk)


def _record(
    *, kind: str, moderator: Contributor | None, device_model: DeviceModel, reason: str, scope: str = "",
    merged_into: DeviceModel | None = None,
) -> ModerationDecision:  # fmt: skip
    return ModerationDecision.objects.create(
        kind=kind,
        moderator=moderator,
        device_model=device_model,
        firmware=scope,
        merged_into=merged_into,
        reason=reason.strip()[:1000],
    )


@transaction.atomic
def device_model_withdraw(
    *, moderator: Contributor | None, device_model: DeviceModel, reason: str, scope: str | None = None
) -> CurationOutcome:
    """Stop serving `device_model` (every scope), or only its `scope` (`latest` or a firmware
    version, with its regional variants). `moderator=None` is an operator at the command line."""
    _check_actor(moderator)
    model = _locked(device_model)
    problems = _reason_problems(reason)
    if scope is not None and scope not in _known_scopes(model):
        problems.append(problem("unknown_scope", "/scope", f"{model} has no firmware scope {scope!r}"))
    if problems:
        raise _invalid(problems)
    if model.merged_into_id is not None:
        message = f"{model} was merged into model {model.merged_into_id}; nothing is served."
        raise DomainError("merged", message, status=409)
    if model.withdrawn_at is not None or (scope is not None and scope in model.withdrawn_scopes):
        raise DomainError("already_withdrawn", "That is withdrawn already.", status=409)
    decision = _record(kind=Kind.WITHDRAW_MODEL, moderator=moderator, device_model=model, reason=reason,
                       scope=scope or "")  # fmt: skip
    if scope is None:
        model.withdrawn_at = timezone.now()
        scopes = sorted(set(_current_scopes(model)))
    else:
        model.withdrawn_scopes = sorted({*model.withdrawn_scopes, scope})
        # The scope and its regional variants (`1.0@western-europe`).
        scopes = sorted({scope, *(s for s in _current_scopes(model) if split_scope(s)[0] == scope)})
    model.save(update_fields=["withdrawn_at", "withdrawn_scopes"])
    outcome = CurationOutcome(decision=decision, device_model=model)
    for each in scopes:
        change = consensus_withdraw(device_model=model, scope=each)
        if change is not None:
            outcome.removed.append(each)
            outcome.changes.append(change.seq)
    return outcome


def _current_scopes(model: DeviceModel) -> list[str]:
    return list(ConsensusProfile.objects.filter(device_model=model, is_current=True).values_list("scope", flat=True))


@transaction.atomic
def device_model_restore(
    *, moderator: Contributor | None, device_model: DeviceModel, reason: str, scope: str | None = None
) -> CurationOutcome:
    """Serve a withdrawn model (or scope) again: its next recompute publishes a new version."""
    _check_actor(moderator)
    model = _locked(device_model)
    problems = _reason_problems(reason)
    if scope is not None and scope not in model.withdrawn_scopes:
        problems.append(problem("not_withdrawn", "/scope", f"the scope {scope!r} of {model} is not withdrawn"))
    if problems:
        raise _invalid(problems)
    if model.merged_into_id is not None:
        raise DomainError("merged", f"{model} was merged into model {model.merged_into_id}.", status=409)
    if scope is None and model.withdrawn_at is None and not model.withdrawn_scopes:
        raise DomainError("not_withdrawn", f"{model} is not withdrawn.", status=409)
    decision = _record(kind=Kind.RESTORE_MODEL, moderator=moderator, device_model=model, reason=reason,
                       scope=scope or "")  # fmt: skip
    if scope is None:
        model.withdrawn_at, model.withdrawn_scopes = None, []
    else:
        model.withdrawn_scopes = [s for s in model.withdrawn_scopes if s != scope]
    model.save(update_fields=["withdrawn_at", "withdrawn_scopes"])
    device_model_mark_dirty(device_model_id=model.pk)
    return CurationOutcome(decision=decision, device_model=model)


@transaction.atomic
def device_model_merge(
    *, moderator: Contributor | None, source: DeviceModel, target: DeviceModel, reason: str
) -> CurationOutcome:
    """Merge the duplicate `source` into `target` (see the module's docstring)."""
    _check_actor(moderator)
    problems = _reason_problems(reason)
    if source.pk == target.pk:
        problems.append(problem("merge_into_itself", "/into", "a model cannot be merged into itself"))
    elif source.manufacturer_id != target.manufacturer_id:
        problems.append(
            problem("different_manufacturer", "/into", "a model merges only into a model of the same manufacturer")
        )
    if problems:
        raise _invalid(problems)
    # Both rows locked, in id order (two merges of the same pair cannot deadlock).
    locked = {m.pk: m for m in DeviceModel.objects.select_for_update().select_related("manufacturer")
              .filter(pk__in=[source.pk, target.pk]).order_by("pk")}  # fmt: skip
    source, target = locked[source.pk], locked[target.pk]
    conflicts = []
    if source.merged_into_id is not None:
        conflicts.append(problem("already_merged", "", f"{source} was merged into model {source.merged_into_id}"))
    if target.merged_into_id is not None:
        message = f"{target} was merged into model {target.merged_into_id}: merge into that one"
        conflicts.append(problem("target_merged", "/into", message))
    if target.withdrawn_at is not None:
        conflicts.append(problem("target_withdrawn", "/into", f"{target} is withdrawn"))
    signed = list(
        SignedProfile.objects.filter(device_model=source, withdrawn_at__isnull=True).values_list("pk", flat=True)
    )
    if signed:
        conflicts.append(
            problem(
                "signed_profiles",
                "",
                f"the manufacturer's signed profile(s) {signed} speak for {source}: they are withdrawn first",
            )
        )
    if conflicts:
        raise DomainError("merge_refused", f"{len(conflicts)} reason(s) the merge cannot be done.", status=409,
                          problems=conflicts)  # fmt: skip
    decision = _record(kind=Kind.MERGE_MODEL, moderator=moderator, device_model=source, reason=reason,
                       merged_into=target)  # fmt: skip
    moved = _move_inputs(source, target, at=decision.created_at)
    source.merged_into, source.withdrawn_at = target, timezone.now()
    source.save(update_fields=["merged_into", "withdrawn_at"])
    DeviceModel.objects.filter(pk=source.pk).update(dirty_since=None, recompute_due_at=None)
    outcome = CurationOutcome(decision=decision, device_model=source, moved=moved)
    for scope in sorted(_current_scopes(source)):
        change = consensus_withdraw(device_model=source, scope=scope, merged_into=target)
        if change is not None:
            outcome.removed.append(scope)
            outcome.changes.append(change.seq)
    device_model_mark_dirty(device_model_id=target.pk)
    return outcome


def _one_active_submission_each(target: DeviceModel) -> int:
    """A contributor who submitted for both models now has two active submissions for one
    firmware of the target: the newer stands and supersedes the older, as a resubmission does."""
    active = Submission.objects.filter(device_model=target, status=Submission.Status.ACTIVE)
    newest: dict[tuple[int, int], int] = {}
    older: list[tuple[int, tuple[int, int]]] = []
    for pk, contributor_id, firmware_id in active.order_by("-id").values_list("pk", "contributor_id", "firmware_id"):
        key = (contributor_id, firmware_id)
        if key in newest:
            older.append((pk, key))
        else:
            newest[key] = pk
    for pk, key in older:
        Submission.objects.filter(pk=pk).update(status=Submission.Status.SUPERSEDED, superseded_by_id=newest[key])
    return len(older)


def _move_inputs(source: DeviceModel, target: DeviceModel, *, at: object) -> dict[str, int]:
    moved: dict[str, int] = {}
    # Submissions, each to the target's firmware of the same version (made if new).
    submissions = 0
    for firmware in FirmwareVersion.objects.filter(device_model=source):
        twin, created = FirmwareVersion.objects.get_or_create(
            device_model=target,
            version=firmware.version,
            defaults={"first_seen": firmware.first_seen, "declared_order": firmware.declared_order},
        )
        if not created and firmware.first_seen < twin.first_seen:
            FirmwareVersion.objects.filter(pk=twin.pk).update(first_seen=firmware.first_seen)
        submissions += Submission.objects.filter(firmware=firmware).update(device_model=target, firmware=twin)
    moved["submissions"] = submissions
    moved["superseded"] = _one_active_submission_each(target)
    # The source's name and aliases resolve to the target from now on. An alias spelled as the
    # target's own slug is dropped (the target's row already answers to it).
    DeviceModelAlias.objects.filter(device_model=source, slug=target.slug).delete()
    moved["aliases"] = DeviceModelAlias.objects.filter(device_model=source).update(device_model=target)
    DeviceModelAlias.objects.update_or_create(
        manufacturer=source.manufacturer, slug=source.slug, defaults={"device_model": target}
    )
    moved["statements"] = FlowStatement.objects.filter(device_model=source).update(device_model=target)
    # A voter who voted on the same flow of both keeps the target's vote; the other is voided.
    held = set(Vote.objects.filter(device_model=target).values_list("voter_id", "flow_id", "firmware"))
    votes = Vote.objects.filter(device_model=source)
    rows = votes.values_list("pk", "voter_id", "flow_id", "firmware")
    clashing = [pk for pk, *key in rows if tuple(key) in held]
    Vote.objects.filter(pk__in=clashing, voided_at__isnull=True).update(
        voided_at=at, void_reason=f"model merged into {target.pk}; the vote there stands"
    )
    moved["votes"] = votes.exclude(pk__in=clashing).update(device_model=target)
    # Moderators' approvals, rejections and freezes of the source's flows hold on the target.
    moved["flow_decisions"] = ModerationDecision.objects.filter(
        device_model=source, kind__in=ModerationDecision.FLOW_KINDS
    ).update(device_model=target)
    Discrepancy.objects.filter(device_model=source, cleared_at__isnull=True).update(cleared_at=at)
    return moved
