"""Step 6: the state of one flow, from the numbers of steps 2-5 and the recorded decisions.

This is the only implementation of the rules: the engine calls it for every flow and
`provenance.reproduce` calls it again on a stored row, so a row reproduces its decision by
construction of one code path, not by two that happen to agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, cast

from .params import ConsensusParams
from .stats import wilson_lower_bound
from .weights import MILLI, to_milli

State = Literal["ALLOWED", "CANDIDATE", "REJECTED", "DISCREPANCY", "OUT"]

# Rule ids name the docs/consensus.md step-6 rule that decided the state.
RULE_MANUFACTURER = "6.1-manufacturer"
RULE_DISCREPANCY = "6.1-discrepancy"
RULE_MODERATOR = "6.2-moderator"
RULE_STATEMENT_REJECT = "6.2-statement-reject"
RULE_STATEMENT_ALLOW = "6.2-statement-allow"
RULE_FROZEN = "6.2-frozen"
RULE_OPPOSITION = "6.3-opposition"
RULE_CROWD = "6.4-crowd"
RULE_CANDIDATE = "6.5-candidate"
RULE_OUT = "6.6-out"
RULES: tuple[str, ...] = (
    RULE_MANUFACTURER,
    RULE_DISCREPANCY,
    RULE_MODERATOR,
    RULE_STATEMENT_REJECT,
    RULE_STATEMENT_ALLOW,
    RULE_FROZEN,
    RULE_OPPOSITION,
    RULE_CROWD,
    RULE_CANDIDATE,
    RULE_OUT,
)


@dataclass(frozen=True, slots=True)
class Evidence:
    """What step 6 reads about one flow. Support figures are integer milli-units.

    `covered`: a valid manufacturer profile covers the firmware; `in_profile`: the newest
    such profile lists the flow; `statement`: the applicable manufacturer statement
    ("reject" wins over "allow"), only consulted when not covered. `k_trusted`: groups whose
    support includes a TL2+ member. `held_state`: for a frozen flow, the state its previous
    consensus gave it, which a freeze holds (params with `freeze_holds_state`).
    """

    risk_class: str
    a_milli: int
    b_milli: int
    k: int
    n_milli: int
    candidate_milli: int
    approved: bool
    frozen: bool
    moderator_rejected: bool
    covered: bool
    in_profile: bool
    statement: str | None
    k_trusted: int = 0
    held_state: str | None = None
    # rule 6.4's conditions held in the previous run (its hold clock was running)
    was_met: bool = False


def wilson_of(evidence: Evidence, params: ConsensusParams) -> float:
    return wilson_lower_bound(evidence.a_milli / MILLI, evidence.n_milli / MILLI, params.wilson_z)


def conditions_met(evidence: Evidence, lb: float, wilson: float, params: ConsensusParams) -> bool:
    """Rule 6.4 without its hold: the condition whose start time the engine carries between runs."""
    klass = params.for_class(evidence.risk_class)
    return (
        evidence.k >= params.min_groups
        and evidence.k_trusted >= klass.min_trusted_groups
        and lb
        >= (
            params.lb_keep_threshold
            if evidence.was_met and params.lb_keep_threshold is not None
            else params.lb_threshold
        )
        and (klass.phi is None or wilson >= klass.phi)
        and (not klass.needs_approval or evidence.approved)
        # A freeze that holds the state leaves the hold clock running: on unfreeze the flow
        # is where the rules would have it, not sent back to the start of its hold.
        and (params.freeze_holds_state or not evidence.frozen)
    )


def held(risk_class: str, since: datetime | None, as_of: datetime, params: ConsensusParams) -> bool:
    if since is None:
        return False
    return as_of - since >= timedelta(hours=params.for_class(risk_class).hold_hours)


def _crowd(evidence: Evidence, crowd_allows: bool, params: ConsensusParams, statements: bool) -> tuple[State, str]:
    if evidence.moderator_rejected:
        return "REJECTED", RULE_MODERATOR
    if statements and evidence.statement == "reject":
        return "REJECTED", RULE_STATEMENT_REJECT
    if statements and evidence.statement == "allow":
        return "ALLOWED", RULE_STATEMENT_ALLOW
    if evidence.frozen and params.freeze_holds_state:
        # A freeze waits for a moderator: it keeps the state the flow had (no promotion, no
        # demotion). A flow frozen before it ever had a state is simply never promoted.
        if evidence.held_state is not None:
            return cast(State, evidence.held_state), RULE_FROZEN
        crowd_allows = False
    if (
        evidence.b_milli >= to_milli(params.opposition_min)
        and evidence.b_milli >= params.opposition_ratio * evidence.a_milli
    ):
        return "REJECTED", RULE_OPPOSITION
    if crowd_allows:
        return "ALLOWED", RULE_CROWD
    if evidence.candidate_milli >= to_milli(params.candidate_threshold):
        return "CANDIDATE", RULE_CANDIDATE
    return "OUT", RULE_OUT


def decide(
    evidence: Evidence, met: bool, since: datetime | None, as_of: datetime, params: ConsensusParams
) -> tuple[State, str]:
    """The first matching rule of step 6, given whether rule 6.4's conditions hold (`met`)
    and since when they have held continuously."""
    crowd_allows = met and held(evidence.risk_class, since, as_of, params)
    if not evidence.covered:
        return _crowd(evidence, crowd_allows, params, statements=True)
    if evidence.in_profile:
        return "ALLOWED", RULE_MANUFACTURER
    # The crowd is still computed for covered firmware: statements are for firmware no
    # profile covers, so they take no part in what "the crowd would allow".
    state, rule = _crowd(evidence, crowd_allows, params, statements=False)
    if state == "ALLOWED":
        return "DISCREPANCY", RULE_DISCREPANCY
    return state, rule
