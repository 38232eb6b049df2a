"""When the consensus of a scope can next change with no new input (issue 9, cause 7).

Holds, the new-domain window and age decay move states with time alone. After each run the
service asks `next_change_at` for the earliest such moment and recomputes the model then,
so the served file follows the rules without waiting for the next submission. Early is
harmless (a run that changes nothing publishes nothing); late is what this avoids. The
events:

- a hold expires: a flow whose rule-6.4 conditions hold but not yet for its class's hold;
- a domain matures: a flow classed H only because its domain is new becomes T at
  first-seen + `new_domain_days`;
- decay crosses a threshold: a crowd-ALLOWED flow's support decays by 2^(-days / 365)
  until LB falls below the keep threshold, or W below phi (see `_decay_crossing`: the
  estimate errs early).

CANDIDATE flows that fade to OUT are left to the slow periodic sweep: that does not change
the served file. So is a group whose term rounds to zero after years of decay.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from functools import cache

from scipy.optimize import brentq

from .inputs import ConsensusInput
from .params import ConsensusParams
from .result import ConsensusResult, FlowDecision
from .risk import registrable_domain
from .rules import RULE_CROWD, RULE_DISCREPANCY
from .stats import beta_lower_bound, wilson_lower_bound
from .weights import MILLI


@cache
def _least_support(prior_alpha: float, prior_beta: float, threshold: float, percentile: float) -> float:
    """The support A at which LB = `threshold` (prior_beta includes the opposition B)."""
    if beta_lower_bound(prior_alpha, prior_beta, percentile) >= threshold:
        return 0.0
    return float(brentq(lambda a: beta_lower_bound(prior_alpha + a, prior_beta, percentile) - threshold, 0.0, 1e6))


def _least_for_wilson(phi: float, n: float, z: float) -> float:
    """The support at which W = phi out of `n` (n held fixed)."""
    if wilson_lower_bound(n, n, z) < phi:
        return n
    return float(brentq(lambda a: wilson_lower_bound(a, n, z) - phi, 0.0, n))


def _decay_crossing(row: FlowDecision, params: ConsensusParams) -> datetime | None:
    """When decay may take a crowd-ALLOWED flow's support below what rule 6.4 needs to keep it.

    Conservative on three counts, so it is never late: every term is taken to decay (a
    capped group decays later); A must stay at or above the least support rounded up to a
    whole milli-unit plus one milli-unit per group (each term is rounded on its own); and for
    W the exposure is held fixed while A decays (it decays too, which raises W)."""
    klass = params.for_class(row.risk_class)
    threshold = params.lb_keep_threshold if params.lb_keep_threshold is not None else params.lb_threshold
    least = _least_support(
        klass.prior_alpha, klass.prior_beta + row.evidence.b_milli / MILLI, threshold, params.lb_percentile
    )
    if klass.phi is not None:
        least = max(least, _least_for_wilson(klass.phi, row.evidence.n_milli / MILLI, params.wilson_z))
    exact = math.ceil(least * MILLI - 1e-9)
    needed = exact + row.evidence.k
    support = row.evidence.a_milli
    if support <= needed:
        needed = exact  # already inside the rounding margin: the exact bound is all there is
    if exact <= 0 or support <= needed:
        return row.as_of if support < exact else None
    return row.as_of + timedelta(days=params.age_half_life_days * math.log2(support / needed))


def next_change_at(inp: ConsensusInput, result: ConsensusResult) -> datetime | None:
    """The earliest time after `result.as_of` at which time alone may change a decision."""
    params = inp.params
    events: list[datetime] = []
    for row in result.decisions:
        hold = timedelta(hours=params.for_class(row.risk_class).hold_hours)
        if row.conditions_met and row.condition_since is not None and row.condition_since + hold > row.as_of:
            events.append(row.condition_since + hold)
        if row.risk_reason == "new-domain":
            first_seen = inp.context.domain_first_seen.get(registrable_domain(row.flow.peer))
            if first_seen is not None:
                events.append(first_seen + timedelta(days=params.new_domain_days))
        if row.rule in (RULE_CROWD, RULE_DISCREPANCY) and row.conditions_met:
            crossing = _decay_crossing(row, params)
            if crossing is not None:
                events.append(crossing)
    later = [at for at in events if at > result.as_of]
    return min(later) if later else None
