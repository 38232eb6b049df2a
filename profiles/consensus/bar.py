"""The bar a flow must reach to be served: rule 6.4's numbers, as the engine applies them.

People reading a device model page want to see how far each flow is from being served.
Rule 6.4 asks, for the flow's risk class:

- LB >= the threshold, where the threshold is `lb_threshold` (0.40) for a flow whose
  conditions did not hold in the previous run and `lb_keep_threshold` (0.35) for one whose
  conditions did (it stays while LB does not fall below the keep threshold);
- for T and H, W >= phi, with W computed against n = max(A, N_exp);
- K >= `min_groups` groups, of which K2 >= the class's `min_trusted_groups` with support
  from a TL2+ member (T one, H two): no TL0/TL1 support makes up for a missing one;
- for H, a trusted approval.

LB grows with A and falls with B, and W grows with A, so the least A with which LB and W
hold is found by bisection: that is `Bar.support`. The group counts and the approval are
not support; `Bar` carries them beside it and `Bar.reached` applies all of them, so the
page never shows a bar that is met by a flow the engine would not serve. The hold (time)
and a freeze are shown beside the bar, not folded into it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

from .params import ConsensusParams
from .stats import beta_lower_bound, wilson_lower_bound

# Support is reported to two decimals; the bisection stops well below that.
_TOLERANCE = 0.001
_CEILING = 1_000_000.0


@dataclass(frozen=True, slots=True)
class Bar:
    """What rule 6.4 asks of one flow (besides its hold)."""

    # the least support A with which LB (at `lb_threshold`) and W pass, rounded up to 0.01
    support: float
    # the LB threshold that applies: the keep threshold when the conditions already held
    lb_threshold: float
    # independence groups with support (K) and groups with TL2+ support (K2) the rule needs
    groups: int
    trusted_groups: int
    # H: a trusted approval is needed
    approval: bool

    def reached(self, *, support: float, groups: int, trusted_groups: int, approved: bool) -> bool:
        """Whether a flow with these numbers meets the bar (to the bar's 0.01 rounding)."""
        return (
            support >= self.support
            and groups >= self.groups
            and trusted_groups >= self.trusted_groups
            and (approved or not self.approval)
        )


def lb_threshold(params: ConsensusParams, *, was_met: bool) -> float:
    """The LB threshold of rule 6.4 (the same choice as `rules.conditions_met`)."""
    if was_met and params.lb_keep_threshold is not None:
        return params.lb_keep_threshold
    return params.lb_threshold


def _holds(a: float, *, b: float, exposure: float, risk_class: str, threshold: float, params: ConsensusParams) -> bool:
    klass = params.for_class(risk_class)
    lb = beta_lower_bound(klass.prior_alpha + a, klass.prior_beta + b, params.lb_percentile)
    if lb < threshold:
        return False
    return klass.phi is None or wilson_lower_bound(a, max(a, exposure), params.wilson_z) >= klass.phi


@lru_cache(maxsize=4096)
def support_bar(
    risk_class: str, *, opposition: float, exposure: float, params: ConsensusParams, was_met: bool = False
) -> float:
    """The least support with which LB and W pass for a flow of `risk_class` that meets
    `opposition` (B) and an exposure N_exp of `exposure`, rounded up to 0.01. `was_met`:
    the flow's conditions held in the previous run, so the keep threshold applies."""
    threshold = lb_threshold(params, was_met=was_met)
    low, high = 0.0, 1.0
    while not _holds(high, b=opposition, exposure=exposure, risk_class=risk_class, threshold=threshold, params=params):
        low, high = high, high * 2.0
        if high > _CEILING:
            return _CEILING
    while high - low > _TOLERANCE:
        middle = (low + high) / 2.0
        if _holds(middle, b=opposition, exposure=exposure, risk_class=risk_class, threshold=threshold, params=params):
            high = middle
        else:
            low = middle
    return math.ceil(high * 100.0 - 1e-9) / 100.0


def flow_bar(
    risk_class: str, *, opposition: float, exposure: float, params: ConsensusParams, was_met: bool = False
) -> Bar:
    """Everything rule 6.4 asks of a flow of `risk_class`, apart from its hold."""
    klass = params.for_class(risk_class)
    return Bar(
        support=support_bar(risk_class, opposition=opposition, exposure=exposure, params=params, was_met=was_met),
        lb_threshold=lb_threshold(params, was_met=was_met),
        groups=params.min_groups,
        trusted_groups=klass.min_trusted_groups,
        approval=klass.needs_approval,
    )
