"""The consensus of one device model and firmware: a pure function of `ConsensusInput`.

No clock (as_of is an input), no database, no randomness. Same inputs in any order, with
exact duplicates, give an equal result (and equal `provenance.result_bytes`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

import numpy as np

from .digest import digest
from .inputs import ConsensusInput, ManufacturerProfile
from .params import ConsensusParams
from .prepare import Prepared, prepare
from .result import ConsensusResult, FlowDecision
from .risk import Classification, Classifier
from .rules import Evidence, conditions_met, decide, wilson_of
from .stats import beta_lower_bounds
from .support import BoolArray, compute_support


def covering_profile(prepared: Prepared) -> tuple[int, ManufacturerProfile] | None:
    """The newest valid manufacturer profile that covers the firmware, with its index."""
    target = prepared.inp.resolved_firmware
    candidates = [
        (profile.issued_at, profile.id, index)
        for index, profile in enumerate(prepared.profiles)
        if profile.valid and profile.covers(target)
    ]
    if not candidates:
        return None
    index = max(candidates)[2]
    return index, prepared.profiles[index]


def _scoped(firmware: str | None, target: str | None) -> bool:
    return firmware is None or firmware == target


def input_digest(inp: ConsensusInput) -> str:
    return digest(prepare(inp))


def _since(met: bool, previous: datetime | None, as_of: datetime) -> datetime | None:
    """Start of the current unbroken run of rule 6.4's conditions (the hold clock)."""
    if not met:
        return None
    if previous is None or previous > as_of:
        return as_of
    return previous


def compute(inp: ConsensusInput) -> ConsensusResult:
    return _compute(prepare(inp), {})


# What the firmware scopes of one model share: everything `prepare` reads but the scope.
_SHARED = ("model_id", "as_of", "context", "params", "contributors", "observations", "votes", "moderator_decisions",
           "manufacturer_profiles", "manufacturer_statements")  # fmt: skip


def compute_scopes(inputs: Sequence[ConsensusInput]) -> list[ConsensusResult]:
    """`[compute(inp) for inp in inputs]` for the scopes of one model, computed faster.

    The inputs must differ only in `firmware`, `region`, `condition_since` and
    `previous_states` (ValueError otherwise).
    They are prepared once. A scope that resolves to the same firmware as an earlier one,
    with the same hold clocks, has the same decisions (`latest` is usually the newest
    firmware's scope): those are computed once and only the scope and the input digest,
    which names the scope, are its own. The results equal `compute`'s exactly.
    """
    if not inputs:
        return []
    first = inputs[0]
    for inp in inputs[1:]:
        for name in _SHARED:
            if getattr(inp, name) is not getattr(first, name) and getattr(inp, name) != getattr(first, name):
                raise ValueError(f"compute_scopes: the scopes of one model share {name}")
    shared = prepare(first)
    # A flow's risk class depends on the flow, context, as_of and params, which the scopes share.
    classified: dict[int, Classification] = {}
    results: list[ConsensusResult] = []
    for inp in inputs:
        prepared = shared if inp is first else replace(shared, inp=inp)
        twin = next(
            (
                done
                for done, earlier in zip(results, inputs, strict=False)
                if earlier.resolved_firmware == inp.resolved_firmware
                and earlier.condition_since == inp.condition_since
                and earlier.previous_states == inp.previous_states
                and earlier.region == inp.region
            ),
            None,
        )
        if twin is None:
            results.append(_compute(prepared, classified))
        else:
            results.append(replace(twin, firmware=inp.firmware, input_digest=digest(prepared)))
    return results


def _compute(prepared: Prepared, classified: dict[int, Classification]) -> ConsensusResult:
    """One scope's result; `classified` keeps each flow column's risk class for the other
    scopes of the same preparation, context, as_of and params (`compute_scopes`)."""
    inp = prepared.inp
    params: ConsensusParams = inp.params
    target = inp.resolved_firmware
    n_flows = len(prepared.keys)

    named: BoolArray = np.zeros(n_flows, dtype=np.bool_)
    in_profile: BoolArray = np.zeros(n_flows, dtype=np.bool_)
    covering = covering_profile(prepared)
    if covering is not None:
        in_profile[prepared.profile_columns[covering[0]]] = True
        named |= in_profile

    statements: dict[int, set[str]] = {}
    statement_ids: dict[int, list[str]] = {}
    for statement, column in zip(prepared.statements, prepared.statement_columns, strict=True):
        if statement.valid and statement.covers(target):
            statements.setdefault(column, set()).add(statement.verdict)
            statement_ids.setdefault(column, []).append(statement.id)
            named[column] = True

    support = compute_support(prepared, named, params)
    columns = np.flatnonzero(support.in_universe)

    rejected: set[int] = set()
    approved: set[int] = set(support.approved_by_vote)
    frozen: set[int] = set()
    decision_ids: dict[int, list[str]] = {}
    for decision in prepared.decisions:
        found = prepared.column_of_key.get(decision.flow_key)
        if found is None or not support.in_universe[found] or not _scoped(decision.firmware, target):
            continue
        {"reject": rejected, "approve": approved, "freeze": frozen}[decision.kind].add(found)
        decision_ids.setdefault(found, []).append(decision.id)

    classifier: Classifier | None = None
    classes: list[Classification] = []
    for column in columns.tolist():
        known = classified.get(column)
        if known is None:
            classifier = classifier or Classifier(inp.context, inp.as_of, params)
            known = classified[column] = classifier.classify(prepared.flows[column])
        classes.append(known)
    class_params = [params.for_class(c.risk_class) for c in classes]
    a_milli = support.a_milli[columns]
    b_milli = support.b_milli[columns]
    lbs = beta_lower_bounds(
        np.array([k.prior_alpha for k in class_params], dtype=np.float64) + a_milli / 1000.0,
        np.array([k.prior_beta for k in class_params], dtype=np.float64) + b_milli / 1000.0,
        params.lb_percentile,
    )

    submission_ids = np.array([prepared.observations[i].submission_id for i in support.counted], dtype=object)
    profile_id = covering[1].id if covering is not None else None
    rows: list[FlowDecision] = []
    since_out: dict[str, datetime] = {}
    for j, column in enumerate(columns.tolist()):
        key = prepared.keys[column]
        verdicts = statements.get(column, set())
        evidence = Evidence(
            risk_class=classes[j].risk_class,
            a_milli=int(a_milli[j]),
            b_milli=int(b_milli[j]),
            k=int(support.k[column]),
            n_milli=max(int(a_milli[j]), support.exposure_milli),
            candidate_milli=int(support.candidate_milli[column]),
            approved=column in approved,
            frozen=column in frozen,
            moderator_rejected=column in rejected,
            covered=covering is not None,
            in_profile=bool(in_profile[column]),
            statement="reject" if "reject" in verdicts else ("allow" if verdicts else None),
            k_trusted=int(support.k_trusted[column]),
            held_state=inp.previous_states.get(key) if column in frozen else None,
            was_met=key in inp.condition_since,
        )
        lb = float(lbs[j])
        wilson = wilson_of(evidence, params)
        met = conditions_met(evidence, lb, wilson, params)
        since = _since(met, inp.condition_since.get(key), inp.as_of)
        if since is not None:
            since_out[key] = since
        state, rule = decide(evidence, met, since, inp.as_of, params)
        rows.append(
            FlowDecision(
                key=key,
                flow=prepared.flows[column],
                state=state,
                rule=rule,
                risk_class=classes[j].risk_class,
                risk_reason=classes[j].reason,
                evidence=evidence,
                lb=lb,
                wilson=wilson,
                conditions_met=met,
                condition_since=since,
                submission_ids=tuple(submission_ids[support.membership[column]].tolist()),
                vote_ids=tuple(sorted(support.vote_ids.get(column, ()))),
                decision_ids=tuple(sorted(decision_ids.get(column, ()))),
                statement_ids=tuple(sorted(statement_ids.get(column, ()))),
                profile_id=profile_id if evidence.in_profile else None,
                as_of=inp.as_of,
                params_version=params.version,
            )
        )

    return ConsensusResult(
        model_id=inp.model_id,
        firmware=inp.firmware,
        resolved_firmware=target,
        as_of=inp.as_of,
        params_version=params.version,
        input_digest=digest(prepared),
        exposure_milli=support.exposure_milli,
        profile_id=profile_id,
        decisions=tuple(rows),
        allowed_flows=tuple(row.flow for row in rows if row.state == "ALLOWED"),
        condition_since=since_out,
        region=inp.region,
    )
