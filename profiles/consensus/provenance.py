"""Step 7: a flow's provenance row, and the re-derivation of its decision from that row alone.

`provenance_row` gives the JSON-safe dict to store on a consensus flow row; `reproduce`
takes such a dict back (after any JSON round trip), recomputes LB and W from A, B and n
with the parameter set its version names, applies the step-6 rules through the same code
as the engine, and says whether the stored state, rule and bounds agree.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .digest import canonical_time
from .params import ConsensusParams, params_for_version
from .result import ConsensusResult, FlowDecision
from .rules import Evidence, State, conditions_met, decide, wilson_of
from .stats import beta_lower_bound
from .weights import MILLI

# Format 2 adds K2 (groups with TL2+ support), held_state (what a freeze holds) and was_met
# (the conditions held in the previous run); a format-1 row reads them as 0, None and False,
# which is what its parameter set assumed.
ROW_FORMAT = 2


def provenance_row(row: FlowDecision) -> dict[str, Any]:
    ev = row.evidence
    return {
        "format": ROW_FORMAT,
        "key": row.key,
        "state": row.state,
        "rule": row.rule,
        "class": row.risk_class,
        "class_reason": row.risk_reason,
        "A": ev.a_milli,
        "B": ev.b_milli,
        "K": ev.k,
        "K2": ev.k_trusted,
        "n": ev.n_milli,
        "candidate": ev.candidate_milli,
        "LB": row.lb,
        "W": row.wilson,
        "approved": ev.approved,
        "frozen": ev.frozen,
        "moderator_rejected": ev.moderator_rejected,
        "covered": ev.covered,
        "in_profile": ev.in_profile,
        "statement": ev.statement,
        "held_state": ev.held_state,
        "was_met": ev.was_met,
        "conditions_met": row.conditions_met,
        "condition_since": None if row.condition_since is None else canonical_time(row.condition_since),
        "as_of": canonical_time(row.as_of),
        "params_version": row.params_version,
        "submission_ids": list(row.submission_ids),
        "vote_ids": list(row.vote_ids),
        "decision_ids": list(row.decision_ids),
        "statement_ids": list(row.statement_ids),
        "profile_id": row.profile_id,
    }


def evidence_digest(row: FlowDecision) -> str:
    """A digest of everything in `provenance_row(row)` but `as_of`: equal digests, equal
    stored rows. A store compares digests to rewrite only the decisions whose evidence
    changed; this builds no provenance dict and no JSON, so comparing is cheap. The text
    hashed is the repr of strings, integers, floats (shortest round-trip form), booleans
    and None, which is the same in every process."""
    since = None if row.condition_since is None else canonical_time(row.condition_since)
    text = repr(
        (ROW_FORMAT, row.key, row.state, row.rule, row.risk_class, row.risk_reason, row.evidence, row.lb, row.wilson,
         row.conditions_met, since, row.params_version, row.submission_ids, row.vote_ids, row.decision_ids,
         row.statement_ids, row.profile_id)
    )  # fmt: skip
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Reproduction:
    state: State
    rule: str
    lb: float
    wilson: float
    conditions_met: bool
    matches: bool


def evidence_of(row: Mapping[str, Any]) -> Evidence:
    return Evidence(
        risk_class=str(row["class"]),
        a_milli=int(row["A"]),
        b_milli=int(row["B"]),
        k=int(row["K"]),
        n_milli=int(row["n"]),
        candidate_milli=int(row["candidate"]),
        approved=bool(row["approved"]),
        frozen=bool(row["frozen"]),
        moderator_rejected=bool(row["moderator_rejected"]),
        covered=bool(row["covered"]),
        in_profile=bool(row["in_profile"]),
        statement=row["statement"],
        k_trusted=int(row.get("K2", 0)),
        held_state=row.get("held_state"),
        was_met=bool(row.get("was_met", False)),
    )


def reproduce(row: Mapping[str, Any], params: ConsensusParams | None = None) -> Reproduction:
    """Re-derive a stored row's decision; `params` defaults to the set its version names."""
    if params is None:
        params = params_for_version(str(row["params_version"]))
    elif params.version != row["params_version"]:
        raise ValueError(f"row was decided under {row['params_version']!r}, not {params.version!r}")
    evidence = evidence_of(row)
    klass = params.for_class(evidence.risk_class)
    lb = beta_lower_bound(
        klass.prior_alpha + evidence.a_milli / MILLI, klass.prior_beta + evidence.b_milli / MILLI, params.lb_percentile
    )
    wilson = wilson_of(evidence, params)
    met = conditions_met(evidence, lb, wilson, params)
    since = None if row["condition_since"] is None else datetime.fromisoformat(row["condition_since"])
    state, rule = decide(evidence, met, since, datetime.fromisoformat(row["as_of"]), params)
    matches = (
        state == row["state"]
        and rule == row["rule"]
        and lb == row["LB"]
        and wilson == row["W"]
        and met == row["conditions_met"]
    )
    return Reproduction(state=state, rule=rule, lb=lb, wilson=wilson, conditions_met=met, matches=matches)


def result_document(result: ConsensusResult) -> dict[str, Any]:
    fields = {f.name for f in dataclasses.fields(result)} - {"decisions", "allowed_flows", "condition_since", "as_of"}
    document: dict[str, Any] = {name: getattr(result, name) for name in sorted(fields)}
    document["as_of"] = canonical_time(result.as_of)
    document["decisions"] = [provenance_row(row) for row in result.decisions]
    document["allowed"] = [flow.key for flow in result.allowed_flows]
    document["condition_since"] = {k: canonical_time(t) for k, t in sorted(result.condition_since.items())}
    return document


def result_bytes(result: ConsensusResult) -> bytes:
    """The canonical bytes of a whole consensus: equal inputs give equal bytes."""
    return json.dumps(result_document(result), sort_keys=True, separators=(",", ":"), allow_nan=False).encode()
