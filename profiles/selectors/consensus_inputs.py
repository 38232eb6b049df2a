"""Everything the consensus engine needs for one model, read in a fixed handful of queries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import DurationField, ExpressionWrapper, F, Max, Q

from profiles.consensus.inputs import (
    HELD_STATES,
    ContributorSnapshot,
    ManufacturerProfile,
    ManufacturerStatement,
    ModelContext,
    ModeratorDecision,
    Observation,
    Vote,
)
from profiles.consensus.risk import registrable_domain
from profiles.models import (
    LATEST,
    UNKNOWN_FIRMWARE,
    ConsensusFlow,
    ConsensusProfile,
    Contributor,
    DeviceModel,
    FirmwareVersion,
    Flow,
    FlowStatement,
    ManufacturerDomain,
    PeerDomain,
    SignedProfile,
    Submission,
)
from profiles.models import ModerationDecision as DecisionRow
from profiles.models import Vote as VoteRow
from profiles.mud.flows import Flow as FlowSpec
from profiles.regions import region_of, regional_variants
from profiles.services.flows import flows_by_id

# A submission that does not say how long it observed counts as a one-day capture, the
# common case for MUDgee-style profiles; exposure then weighs it 24/168 of a full week.
DEFAULT_WINDOW_HOURS = 24.0


@dataclass(frozen=True)
class ModelInputs:
    device_model: DeviceModel
    context: ModelContext
    contributors: tuple[ContributorSnapshot, ...]
    observations: tuple[Observation, ...]
    votes: tuple[Vote, ...]
    decisions: tuple[ModeratorDecision, ...]
    manufacturer_profiles: tuple[ManufacturerProfile, ...]
    manufacturer_statements: tuple[ManufacturerStatement, ...]
    # The model ever had a signed profile: its discrepancy rows must be kept in step.
    has_signed_profiles: bool
    scopes: tuple[str, ...]
    # scope key of a regional variant -> (its base scope, its region's name); its key is in `scopes`
    variants: dict[str, tuple[str, str]]
    current_profiles: dict[str, ConsensusProfile]
    condition_since: dict[str, dict[str, datetime]]
    previous_states: dict[str, dict[str, str]]
    # per scope, the previous state of each frozen flow (engine spelling): what a freeze holds
    held_states: dict[str, dict[str, str]]
    # per scope, the evidence digest of each stored decision row (by flow row id): the store
    # rewrites only the rows whose digest changed
    stored_digests: dict[str, dict[int, str]]
    submission_contributors: dict[str, int]
    flow_ids: dict[str, int]
    newest_input_at: datetime


def _firmware_order(device_model: DeviceModel) -> list[str]:
    versions = FirmwareVersion.objects.filter(device_model=device_model).exclude(version=UNKNOWN_FIRMWARE)
    ordered = versions.order_by(F("declared_order").asc(nulls_last=True), "first_seen", "id")
    return list(ordered.values_list("version", flat=True))


def consensus_inputs_get(*, device_model: DeviceModel) -> ModelInputs:
    # No query here needs an order (the engine puts every input in id order): `.order_by()`
    # drops the models' default orderings, and with them joins and sorts.
    active = Submission.objects.filter(device_model=device_model, status=Submission.Status.ACTIVE).order_by()
    # The window comes as one duration: each timestamp the database sends is parsed in Python
    # (Django's time-zone aware loader), a duration by psycopg's C code.
    rows = list(
        active.annotate(window=ExpressionWrapper(F("observed_end") - F("observed_start"), DurationField())).values_list(
            "id", "contributor_id", "firmware__version", "window", "observed_end", "flow_ids", "country"
        )
    )
    newest_input_at = active.aggregate(newest=Max("created_at"))["newest"]
    flows = flows_by_id({flow_id for row in rows for flow_id in row[5]})
    observations = []
    for sub_id, contributor_id, firmware, duration, end, flow_ids, country in rows:
        window = duration.total_seconds() / 3600.0 if duration is not None else DEFAULT_WINDOW_HOURS
        observations.append(
            Observation(
                submission_id=str(sub_id),
                contributor_id=str(contributor_id),
                firmware=firmware,
                last_seen=end,
                window_hours=max(0.0, window),
                flows=frozenset(flows[i] for i in flow_ids),
                region=region_of(country) if country else None,
            )
        )
    vote_rows = list(
        VoteRow.objects.filter(device_model=device_model, voided_at__isnull=True)
        .order_by()
        .values_list("id", "voter_id", "flow_id", "value", "firmware")
    )
    voted = flows_by_id({row[2] for row in vote_rows} - flows.keys())
    votes = tuple(
        Vote(id=str(pk), contributor_id=str(voter), flow_key=(flows.get(flow_id) or voted[flow_id]).key,
             value=value, firmware=firmware or None)
        for pk, voter, flow_id, value, firmware in vote_rows
    )  # fmt: skip
    decisions = _moderator_decisions(device_model)
    voters = VoteRow.objects.filter(device_model=device_model, voided_at__isnull=True).values("voter_id")
    people = (
        Contributor.objects.filter(Q(pk__in=active.values("contributor_id")) | Q(pk__in=voters))
        .order_by()
        .values_list("id", "trust_level", "reputation_r", "reputation_s", "group_key", "suspended_at", "is_moderator")
    )
    contributors = tuple(
        ContributorSnapshot(
            id=str(pk),
            trust_level=level,
            reputation=(r + 1.0) / (r + s + 2.0),
            group=group or f"c{pk}",
            suspended=suspended is not None,
            is_moderator=moderator,
        )
        for pk, level, r, s, group, suspended, moderator in people
    )
    verified_domains = frozenset(
        ManufacturerDomain.objects.filter(
            manufacturer_id=device_model.manufacturer_id, verified_at__isnull=False
        ).values_list("domain", flat=True)
    )
    profiles, statements, manufacturer_flows = _manufacturer_inputs(device_model, flows, voted, bool(verified_domains))
    order = _firmware_order(device_model)
    observed = {row[2] for row in rows} - {UNKNOWN_FIRMWARE}
    # A firmware a valid manufacturer profile names gets its own scope, observed or not.
    covered = {v for p in profiles if p.valid and p.firmware is not None for v in p.firmware}
    base_scopes = (LATEST, *[v for v in order if v in observed or v in covered])
    # A regional variant of every scope for each region some observation came from; a region
    # without evidence has none and is served the global file.
    variants = regional_variants(base_scopes, {o.region for o in observations if o.region is not None})
    scopes = (*base_scopes, *variants)

    domains = {registrable_domain(f.peer) for f in flows.values() if f.peer_kind == "dnsname"}
    context = ModelContext(
        manufacturer_domains=verified_domains,
        domain_first_seen=dict(PeerDomain.objects.filter(name__in=domains).values_list("name", "first_seen")),
        firmware_order=tuple(order),
    )
    current = {
        p.scope: p for p in ConsensusProfile.objects.filter(device_model=device_model, is_current=True).order_by()
    }
    scope_of = {p.pk: scope for scope, p in current.items()}
    holds: dict[str, dict[str, datetime]] = {}
    states: dict[str, dict[str, str]] = {}
    digests: dict[str, dict[int, str]] = {}
    decided = ConsensusFlow.objects.filter(profile__in=current.values()).order_by()
    for profile_id, flow_id, key, since, state, digest in decided.values_list(
        "profile_id", "flow_id", "flow__key", "condition_since", "state", "evidence_digest"
    ):
        scope = scope_of[profile_id]
        states.setdefault(scope, {})[key] = state
        digests.setdefault(scope, {})[flow_id] = digest
        if since is not None:
            holds.setdefault(scope, {})[key] = since
    frozen = {d.flow_key for d in decisions if d.kind == "freeze"}
    held = {
        scope: {key: state.upper() for key, state in by_key.items() if key in frozen and state.upper() in HELD_STATES}
        for scope, by_key in states.items()
    }
    return ModelInputs(
        device_model=device_model,
        context=context,
        contributors=contributors,
        observations=tuple(observations),
        votes=votes,
        decisions=decisions,
        manufacturer_profiles=profiles,
        manufacturer_statements=statements,
        has_signed_profiles=bool(profiles),
        scopes=scopes,
        variants=variants,
        current_profiles=current,
        condition_since=holds,
        previous_states=states,
        held_states=held,
        stored_digests=digests,
        submission_contributors={str(row[0]): row[1] for row in rows},
        flow_ids={flow.key: pk for pk, flow in (flows | voted | manufacturer_flows).items()},
        newest_input_at=newest_input_at or device_model.created_at,
    )


def _moderator_decisions(device_model: DeviceModel) -> tuple[ModeratorDecision, ...]:
    """The flow decisions in force: rejections and approvals, and freezes no unfreeze lifted."""
    from profiles.services.moderation import frozen_flow_ids

    kinds = {"approve": "approve", "reject": "reject", "reject_malicious": "reject"}
    rows = (
        DecisionRow.objects.filter(device_model=device_model, kind__in=kinds)
        .order_by()
        .values_list("id", "kind", "flow__key", "firmware")
    )
    out = [
        ModeratorDecision(id=str(pk), kind=kinds[kind], flow_key=key, firmware=fw or None) for pk, kind, key, fw in rows
    ]
    frozen = frozen_flow_ids(device_model.pk)
    wanted = {flow_id for flow_id, _ in frozen}
    keys = dict(Flow.objects.filter(pk__in=wanted).order_by().values_list("id", "key")) if wanted else {}
    out += [
        ModeratorDecision(id=str(pk), kind="freeze", flow_key=keys[flow_id], firmware=fw or None)
        for (flow_id, fw), pk in frozen.items()
    ]
    return tuple(out)


def _manufacturer_inputs(
    device_model: DeviceModel, flows: dict[int, FlowSpec], voted: dict[int, FlowSpec], claimed: bool
) -> tuple[tuple[ManufacturerProfile, ...], tuple[ManufacturerStatement, ...], dict[int, FlowSpec]]:
    """Every signed profile of the model (the engine ignores withdrawn, superseded and revoked
    ones, so they are passed as such) and the statements in force; the flows they name."""
    profile_rows = list(
        SignedProfile.objects.filter(device_model=device_model)
        .order_by()
        .values_list(
            "id", "flow_ids", "firmware", "created_at", "withdrawn_at", "superseded_by_id", "certificate__revoked_at"
        )
    )
    statement_rows = list(
        FlowStatement.objects.filter(device_model=device_model, withdrawn_at__isnull=True)
        .order_by()
        .values_list("id", "flow_id", "verdict", "firmware")
    )
    if not profile_rows and not statement_rows:
        return (), (), {}
    wanted = {i for row in profile_rows for i in row[1]} | {row[1] for row in statement_rows}
    known = flows | voted
    named = flows_by_id(wanted - known.keys())
    every = known | named
    profiles = tuple(
        ManufacturerProfile(
            id=str(pk),
            flows=frozenset(every[i] for i in flow_ids),
            firmware=frozenset(firmware) if firmware else None,
            issued_at=created_at,
            signature_valid=True,  # only verified profiles are stored
            certificate_pinned=revoked_at is None,
            withdrawn=withdrawn_at is not None,
            superseded=superseded_by is not None,
        )
        for pk, flow_ids, firmware, created_at, withdrawn_at, superseded_by, revoked_at in profile_rows
    )
    # A statement counts while its manufacturer holds a verified domain (CONSENSUS.md, "Claimed").
    statements = tuple(
        ManufacturerStatement(
            id=str(pk), flow=every[flow_id], verdict=verdict, firmware=frozenset(firmware) if firmware else None,
            valid=claimed,
        )
        for pk, flow_id, verdict, firmware in statement_rows
    )  # fmt: skip
    return profiles, statements, named
