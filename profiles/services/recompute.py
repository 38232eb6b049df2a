"""The recompute pipeline: mark a model dirty, queue a debounced recompute, publish versions.

The database is the truth and the broker is not: a submission marks its model dirty in its
own transaction, the recompute is queued only after that commits, and the periodic sweep
recomputes whatever is still dirty, so a lost message or a Redis outage delays a consensus
but never loses it.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import F, Max
from django.db.models.functions import Coalesce
from django.utils import timezone

from profiles import mud
from profiles.consensus import engine
from profiles.consensus.inputs import ConsensusInput
from profiles.consensus.provenance import evidence_digest, provenance_row
from profiles.consensus.result import ConsensusResult, FlowDecision
from profiles.consensus.rules import RULE_STATEMENT_REJECT
from profiles.consensus.timing import next_change_at
from profiles.models import LATEST, ConsensusFlow, ConsensusProfile, DeviceModel, ReputationEvent
from profiles.regions import split_scope
from profiles.selectors.consensus_inputs import ModelInputs, consensus_inputs_get
from profiles.services.discrepancies import discrepancies_sync
from profiles.services.publish import consensus_publish, consensus_withdraw, signature_url

log = logging.getLogger(__name__)


def _debounce_key(device_model_id: int) -> str:
    return f"recompute-queued:{device_model_id}"


def device_model_mark_dirty(*, device_model_id: int) -> None:
    """Within the caller's transaction: the model's consensus inputs changed."""
    DeviceModel.objects.filter(pk=device_model_id).update(
        dirty_since=Coalesce(F("dirty_since"), timezone.now()), inputs_generation=F("inputs_generation") + 1
    )
    transaction.on_commit(lambda: recompute_schedule(device_model_id=device_model_id))


def recompute_schedule(*, device_model_id: int) -> bool:
    """Queue one recompute per model per debounce window; False if it could not be queued
    (the broker is down): the sweep will find the model dirty."""
    from profiles.tasks import recompute_model

    if settings.CELERY_TASK_ALWAYS_EAGER:
        recompute_model.apply((device_model_id,), throw=True)
        return True
    delay = settings.MUDHUB_RECOMPUTE_DEBOUNCE_SECONDS
    try:
        if not cache.add(_debounce_key(device_model_id), 1, timeout=delay + 60):
            return True  # one is queued already and will read this change too
        recompute_model.apply_async((device_model_id,), countdown=delay, queue=settings.MUDHUB_RECOMPUTE_QUEUE)
        return True
    except Exception:  # any broker or cache failure: the dirty mark is already committed
        log.warning("could not queue the recompute of model %s; the sweep will do it", device_model_id, exc_info=True)
        try:
            cache.delete(_debounce_key(device_model_id))
        except Exception:
            log.debug("the cache is down too", exc_info=True)
        return False


def recompute_started(*, device_model_id: int) -> None:
    """Called by the task as it starts: changes from now on need a recompute of their own."""
    try:
        cache.delete(_debounce_key(device_model_id))
    except Exception:
        log.warning("cache unavailable while clearing the debounce key", exc_info=True)


@dataclass(frozen=True)
class RecomputeOutcome:
    device_model_id: int
    scopes: dict[str, int]  # scope -> current version
    published: list[int]  # ids of the profiles published by this run


def _last_update(inputs: ModelInputs) -> datetime:
    # The newest input's time, not the clock: unchanged inputs give byte-identical files.
    return inputs.newest_input_at


def _emit(inputs: ModelInputs, scope: str, result: ConsensusResult) -> bytes:
    model = inputs.device_model
    # A regional variant names its own URL (where it is served and signed for) and the
    # firmware of its base scope.
    base, region = inputs.variants.get(scope, (scope, None))
    mud_url = model.mud_url_for(scope)
    what = f"mudhub consensus for {region}" if region else "mudhub consensus"
    meta = mud.MudMeta(
        mud_url=mud_url,
        mud_signature=signature_url(mud_url),
        last_update=_last_update(inputs).replace(microsecond=0),
        is_supported=True,
        cache_validity=settings.MUDHUB_CACHE_VALIDITY_HOURS,
        systeminfo=f"{model.manufacturer.name} {model.name}: {what}"[:200],
        mfg_name=model.manufacturer.name,
        model_name=model.name,
        firmware_rev=None if base == LATEST else base,
        documentation=settings.MUDHUB_PUBLIC_URL + f"/models/{model.manufacturer.slug}/{model.slug}/",
    )
    return mud.emit(meta, result.allowed_flows)


def _decision_row(
    profile: ConsensusProfile, row: FlowDecision, flow_id: int, digest: str, cache: _Rows | None = None
) -> dict[str, object]:
    """One ConsensusFlow row's values, by field attname."""
    return {
        "profile_id": profile.pk,
        "flow_id": flow_id,
        "state": row.state.lower(),
        "risk_class": row.risk_class,
        "rule": row.rule,
        "support": row.support,
        "opposition": row.opposition,
        "groups": row.groups,
        "exposure": row.exposure,
        "lower_bound": row.lb,
        "wilson": row.wilson,
        "condition_since": row.condition_since,
        "provenance": cache.provenance(row) if cache is not None else provenance_row(row),
        "evidence_digest": digest,
    }


class _Rows:
    """One run's decision rows, each made once: evidence digest, provenance and its JSON text.

    The scopes that resolve to the same firmware with the same hold clocks (`latest` and the
    newest firmware, usually) share their FlowDecision objects (`engine.compute_scopes`), so
    their rows are equal but for the profile: the second scope reuses the first one's work.
    Kept for one run only, by object identity (the results hold the decisions alive)."""

    def __init__(self) -> None:
        self._digests: dict[int, tuple[FlowDecision, str]] = {}
        self._provenance: dict[int, tuple[FlowDecision, dict[str, object]]] = {}
        self._texts: dict[int, tuple[dict[str, object], str]] = {}
        # the profile this run inserted each decision's row for first
        self._written: dict[int, tuple[FlowDecision, int]] = {}

    def digest(self, row: FlowDecision) -> str:
        found = self._digests.get(id(row))
        if found is None:
            found = self._digests[id(row)] = (row, evidence_digest(row))
        return found[1]

    def provenance(self, row: FlowDecision) -> dict[str, object]:
        found = self._provenance.get(id(row))
        if found is None:
            found = self._provenance[id(row)] = (row, provenance_row(row))
        return found[1]

    def text(self, provenance: dict[str, object]) -> str:
        found = self._texts.get(id(provenance))
        if found is None:
            found = self._texts[id(provenance)] = (provenance, _provenance_text(provenance))
        return found[1]

    def written(self, row: FlowDecision) -> int | None:
        """The profile whose row for this decision this run inserted, if any."""
        found = self._written.get(id(row))
        return None if found is None else found[1]

    def wrote(self, row: FlowDecision, profile_id: int) -> None:
        self._written.setdefault(id(row), (row, profile_id))


def _provenance_text(provenance: dict[str, object]) -> str:
    # The column is jsonb: PostgreSQL keeps the value, not the spelling, so no whitespace.
    return json.dumps(provenance, separators=(",", ":"))


_DECISION_FIELDS = [f for f in ConsensusFlow._meta.concrete_fields if not f.primary_key]


def _decision_rows_insert(rows: list[dict[str, object]], cache: _Rows | None = None) -> None:
    """Insert decision rows: with COPY on PostgreSQL, bulk_create elsewhere.

    A recompute at a new time rewrites nearly every decision (support decays with the age of
    each observation): hundreds of rows with kilobytes of provenance JSON each. As one INSERT
    that meant thousands of placeholders for psycopg to parse and quote in Python; COPY
    streams the values through psycopg's C adapters (bench/recompute.py compares the two).
    The values are plain Python values (the JSON column goes as its text), so no model
    instance is built for a row."""
    if connection.vendor != "postgresql" or len(rows) < 2:
        ConsensusFlow.objects.bulk_create([ConsensusFlow(**row) for row in rows])
        return
    if set(rows[0]) != {f.attname for f in _DECISION_FIELDS}:
        raise RuntimeError("decision rows and the ConsensusFlow model disagree on the columns")
    names = [f.attname for f in _DECISION_FIELDS]
    as_text = names.index("provenance")
    text = cache.text if cache is not None else _provenance_text
    table = connection.ops.quote_name(ConsensusFlow._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(f.column) for f in _DECISION_FIELDS)
    with connection.cursor() as cursor, cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for row in rows:
            values = [row[name] for name in names]
            values[as_text] = text(row["provenance"])  # type: ignore[arg-type]
            copy.write_row(values)


def _decisions_write(profile: ConsensusProfile, decided: list[tuple[FlowDecision, int, str]], cache: _Rows) -> None:
    """Insert `profile`'s rows for these (decision, flow row id, evidence digest).

    A decision whose row this run already inserted for another scope (`latest` and its
    firmware share decisions) has the same row there but for the profile: on PostgreSQL it is
    copied inside the database, which neither sends the provenance again nor parses it into
    jsonb again (that parsing is most of the database's work for a row). The others go
    through `_decision_rows_insert`."""
    fresh: list[dict[str, object]] = []
    copies: dict[int, list[int]] = {}
    for row, flow_id, digest in decided:
        source = cache.written(row) if connection.vendor == "postgresql" else None
        if source is not None and source != profile.pk:
            copies.setdefault(source, []).append(flow_id)
            continue
        fresh.append(_decision_row(profile, row, flow_id, digest, cache))
        cache.wrote(row, profile.pk)
    _decision_rows_insert(fresh, cache)
    for source, flow_ids in copies.items():
        _decision_rows_copy(source, profile.pk, flow_ids)


def _decision_rows_copy(source_profile_id: int, profile_id: int, flow_ids: list[int]) -> None:
    """Copy the rows of `flow_ids` from one profile to another (PostgreSQL): every column as it
    is but the id and the profile."""
    quote = connection.ops.quote_name
    table = quote(ConsensusFlow._meta.db_table)
    profile_column = quote(ConsensusFlow._meta.get_field("profile").column)
    flow_column = quote(ConsensusFlow._meta.get_field("flow").column)
    columns = ", ".join(quote(f.column) for f in _DECISION_FIELDS if f.attname != "profile_id")
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({profile_column}, {columns}) SELECT %s, {columns} FROM {table}"
            f" WHERE {profile_column} = %s AND {flow_column} = ANY(%s)",
            [profile_id, source_profile_id, flow_ids],
        )
        if cursor.rowcount != len(flow_ids):
            raise RuntimeError(f"copied {cursor.rowcount} decision rows of {len(flow_ids)}")


def _last_version(inputs: ModelInputs, scope: str) -> int:
    """The newest version number a scope with no current file ever had (0 if none): a variant
    withdrawn when its region's evidence went, and published again when it came back, goes on
    counting where it stopped."""
    found = ConsensusProfile.objects.filter(device_model=inputs.device_model, scope=scope).aggregate(n=Max("version"))
    return int(found["n"] or 0)


def _store(
    inputs: ModelInputs, scope: str, result: ConsensusResult, computed_at: datetime, cache: _Rows | None = None
) -> ConsensusProfile | None:
    """Write this scope's result; return the profile if a new version was published.

    A version is published only when the set of served flows changes: the file's
    last-update is the newest input's time, and a new submission that changes nothing
    served must not make every gateway download the same policy again.
    """
    cache = cache if cache is not None else _Rows()
    current = inputs.current_profiles.get(scope)
    allowed = len(result.allowed_flows)
    served_before = {k for k, state in inputs.previous_states.get(scope, {}).items() if state == "allowed"}
    if current is not None and served_before == {f.key for f in result.allowed_flows}:
        # Same served flows: refresh in place only the decisions whose evidence changed.
        stored = dict(inputs.stored_digests.get(scope, {}))  # read with the inputs, the model locked
        changed = []
        for row in result.decisions:
            flow_id, digest = inputs.flow_ids[row.key], cache.digest(row)
            if stored.pop(flow_id, None) != digest:
                changed.append((row, flow_id, digest))
        if changed or stored:  # what is left in `stored` is no longer decided at all
            gone = [*stored, *(flow_id for _, flow_id, _ in changed)]
            ConsensusFlow.objects.filter(profile=current, flow_id__in=gone).delete()
            _decisions_write(current, changed, cache)
        ConsensusProfile.objects.filter(pk=current.pk).update(
            input_digest=result.input_digest, as_of=result.as_of, computed_at=computed_at
        )
        return None
    body = _emit(inputs, scope, result)
    if current is not None:
        ConsensusProfile.objects.filter(pk=current.pk).update(is_current=False)
    profile = ConsensusProfile(
        device_model=inputs.device_model,
        scope=scope,
        version=(current.version if current is not None else _last_version(inputs, scope)) + 1,
        input_digest=result.input_digest,
        params_version=result.params_version,
        as_of=result.as_of,
        mud_bytes=body,
        cache_validity_hours=settings.MUDHUB_CACHE_VALIDITY_HOURS,
        allowed_count=allowed,
        computed_at=computed_at,
    )
    consensus_publish(profile=profile)
    _decisions_write(profile, [(row, inputs.flow_ids[row.key], cache.digest(row)) for row in result.decisions], cache)
    return profile


# What a flow's new state means for its supporters (CONSENSUS.md, "Ledger events").
ALLOWED, REJECTED, MANUFACTURER_REJECTED = "allowed", "rejected", "manufacturer_rejected"


def _reputation_events(inputs: ModelInputs, scope: str, result: ConsensusResult, at: datetime) -> None:
    """Ledger events of CONSENSUS.md that a state change causes: supporters of a flow that
    just became ALLOWED (by the crowd or a manufacturer's profile) gain r +1; supporters of
    one that just became REJECTED get s +2, or s +1 when the manufacturer's statement rejected
    it. Each contributor is credited once per flow.

    The crediting runs after this transaction commits (a task of its own): it touches many
    contributor rows and must not hold the model's lock while it does."""
    before = inputs.previous_states.get(scope, {})
    model_id = inputs.device_model.pk
    credits = []
    for row in result.decisions:
        if row.state not in ("ALLOWED", "REJECTED") or before.get(row.key) == row.state.lower():
            continue
        supporters = sorted({inputs.submission_contributors[s] for s in row.submission_ids})
        if supporters:
            outcome = ALLOWED if row.state == "ALLOWED" else REJECTED
            if row.rule == RULE_STATEMENT_REJECT:
                outcome = MANUFACTURER_REJECTED
            credits.append((inputs.flow_ids[row.key], outcome, supporters))
    if credits:
        transaction.on_commit(lambda: reputation_credit_schedule(model_id, credits, at))


def reputation_credit_schedule(model_id: int, credits: list[tuple[int, str, list[int]]], at: datetime) -> None:
    from profiles.tasks import credit_flow_transitions

    if settings.CELERY_TASK_ALWAYS_EAGER:
        credit_flow_transitions.apply((model_id, credits, at.isoformat()), throw=True)
        return
    try:
        credit_flow_transitions.apply_async((model_id, credits, at.isoformat()), queue=settings.MUDHUB_RECOMPUTE_QUEUE)
    except Exception:  # the ledger is idempotent per cause: the next transition run can redo it
        log.warning("could not queue reputation credits for model %s", model_id, exc_info=True)


_OUTCOMES = {
    # outcome: (ledger kind, r, s)
    ALLOWED: (ReputationEvent.Kind.FLOW_CONFIRMED, 1.0, 0.0),
    REJECTED: (ReputationEvent.Kind.FLOW_REJECTED, 0.0, 2.0),
    MANUFACTURER_REJECTED: (ReputationEvent.Kind.MANUFACTURER_REJECTED, 0.0, 1.0),
}


def flow_transitions_credit(*, model_id: int, credits: list[tuple[int, str, list[int]]], at: datetime) -> int:
    """Credit the supporters of each flow that changed state: one batch for every supporter
    of every flow (in the order a one-by-one crediting would take), so a publish that newly
    allows flows seen by hundreds of contributors costs a handful of statements. An outcome
    is one of ALLOWED, REJECTED, MANUFACTURER_REJECTED (a boolean, from a task queued before
    outcomes had names, means ALLOWED or REJECTED)."""
    from profiles.services.reputation import LedgerEntry, ledger_add_many

    entries = []
    for flow_id, outcome, supporters in credits:
        if isinstance(outcome, bool):
            outcome = ALLOWED if outcome else REJECTED
        kind, delta_r, delta_s = _OUTCOMES[outcome]
        entries += [
            LedgerEntry(
                contributor_id=contributor_id,
                kind=kind,
                cause=f"flow:{model_id}:{flow_id}",
                delta_r=delta_r,
                delta_s=delta_s,
                device_model_id=model_id,
            )
            for contributor_id in supporters
        ]
    return sum(event is not None for event in ledger_add_many(entries, at=at))


@transaction.atomic
def consensus_recompute(*, device_model_id: int, as_of: datetime | None = None) -> RecomputeOutcome:
    """Recompute every firmware scope of one model from its stored inputs.

    The model row is locked for the run, so recomputes of one model are serialised, and a
    submission that arrives meanwhile waits for the lock, bumps the generation after this
    run read it, and so keeps the model dirty for the next run.
    """
    computed_at = timezone.now()
    as_of = as_of or computed_at
    model = DeviceModel.objects.select_for_update().select_related("manufacturer").get(pk=device_model_id)
    generation = model.inputs_generation
    if model.withdrawn_at is not None:
        # Withdrawn or merged by a moderator (services/curation.py): nothing is published.
        DeviceModel.objects.filter(pk=model.pk, inputs_generation=generation).update(
            dirty_since=None, recompute_due_at=None
        )
        return RecomputeOutcome(device_model_id=model.pk, scopes={}, published=[])
    inputs = consensus_inputs_get(device_model=model)
    published: list[int] = []
    versions: dict[str, int] = {}
    scope_inputs = [
        ConsensusInput(
            model_id=str(model.pk),
            firmware=inputs.variants.get(scope, (scope, None))[0],
            region=inputs.variants.get(scope, (scope, None))[1],
            as_of=as_of,
            context=inputs.context,
            contributors=inputs.contributors,
            observations=inputs.observations,
            votes=inputs.votes,
            moderator_decisions=inputs.decisions,
            manufacturer_profiles=inputs.manufacturer_profiles,
            manufacturer_statements=inputs.manufacturer_statements,
            condition_since=inputs.condition_since.get(scope, {}),
            previous_states=inputs.held_states.get(scope, {}),
        )
        for scope in inputs.scopes
    ]
    results = engine.compute_scopes(scope_inputs)
    withdrawn = set(model.withdrawn_scopes)
    rows = _Rows()
    for scope, result in zip(inputs.scopes, results, strict=True):
        if split_scope(scope)[0] in withdrawn:  # a withdrawn scope, or a regional variant of one
            continue
        profile = _store(inputs, scope, result, computed_at, rows)
        # Reputation and discrepancies follow the global consensus; a variant only re-weighs it.
        regional = scope in inputs.variants
        if not regional:
            _reputation_events(inputs, scope, result, computed_at)
        if inputs.has_signed_profiles and not regional:
            discrepancies_sync(
                device_model_id=model.pk, scope=scope, result=result, flow_ids=inputs.flow_ids, at=computed_at
            )
        if profile is not None:
            published.append(profile.pk)
            versions[scope] = profile.version
        elif scope in inputs.current_profiles:
            versions[scope] = inputs.current_profiles[scope].version
    # A region whose observations are gone (withdrawn, suspended) has no variant any more: its
    # gateways are served the global file again, and the feed says the variant was removed.
    for scope in inputs.current_profiles.keys() - set(inputs.scopes):
        if split_scope(scope)[1] is not None:
            consensus_withdraw(device_model=model, scope=scope)
    latest = ConsensusProfile.objects.filter(device_model=model, scope=LATEST, is_current=True).order_by().first()
    due = [at for inp, result in zip(scope_inputs, results, strict=True) if (at := next_change_at(inp, result))]
    DeviceModel.objects.filter(pk=model.pk).update(
        has_consensus=bool(latest and latest.allowed_count), recompute_due_at=min(due) if due else None
    )
    DeviceModel.objects.filter(pk=model.pk, inputs_generation=generation).update(dirty_since=None)
    return RecomputeOutcome(device_model_id=model.pk, scopes=versions, published=published)


def due_models(*, now: datetime, limit: int) -> list[int]:
    """Models whose consensus time alone may have changed by `now`, the most overdue first."""
    due = DeviceModel.objects.filter(recompute_due_at__isnull=False, recompute_due_at__lte=now)
    return list(due.order_by("recompute_due_at").values_list("pk", flat=True)[:limit])


def stale_models_mark_due(*, older_than: timedelta, limit: int) -> int:
    """The safety net of time-driven recomputes: models whose newest computation is older
    than `older_than` become due now (at most `limit` of them, the stalest first)."""
    now = timezone.now()
    stale = (
        ConsensusProfile.objects.filter(is_current=True, scope=LATEST, computed_at__lt=now - older_than)
        .order_by("computed_at")
        .values_list("device_model_id", flat=True)[:limit]
    )
    ids = list(stale)
    return DeviceModel.objects.filter(pk__in=ids).exclude(recompute_due_at__lte=now).update(recompute_due_at=now)


def dirty_models(*, older_than: timedelta) -> list[int]:
    cutoff = timezone.now() - older_than
    return list(
        DeviceModel.objects.filter(dirty_since__isnull=False, dirty_since__lte=cutoff)
        .order_by("dirty_since")
        .values_list("pk", flat=True)
    )
