"""The bar a flow's support must reach: the least A with which rule 6.4's numbers hold.

People reading a device model page want to see how far each flow is from being served.
Rule 6.4 asks LB >= the threshold and, for T and H, W >= phi, where LB grows with A and
falls with B, and W is computed against n = max(A, N_exp). Both grow with A, so the least
such A is found by bisection. The other conditions (two groups, a trusted approval for H,
the hold, no freeze) are not support and are shown beside the bar, not folded into it.
"""

from __future__ import annotations

import math
from functools import lru_cache

from .params import ConsensusParams
from .stats import beta_lower_bound, wilson_lower_bound

# Support is reported to two decimals; the bisection stops well below that.
_TOLERANCE = 0.001
_CEILING = 1_000_000.0


def _holds(a: float, *, b: float, exposure: float, risk_class: str, params: ConsensusParams) -> bool:
    klass = params.for_class(risk_class)
    lb = beta_lower_bound(klass.prior_alpha + a, klass.prior_beta + b, params.lb_percentile)
    if lb < params.lb_threshold:
        return False
    return klass.phi is None or wilson_lower_bound(a, max(a, exposure), params.wilson_z) >= klass.phi


@lru_cache(maxsize=4096)
def support_bar(risk_class: str, *, opposition: float, exposure: float, params: ConsensusParams) -> float:
    """The least support with which LB and W pass for a flow of `risk_class` that meets
    `opposition` (B) and an exposure N_exp of `exposure`, rounded up to 0.01."""
    low, high = 0.0, 1.0
    while not _holds(high, b=opposition, exposure=exposure, risk_class=risk_class, params=params):
        low, high = high, high * 2.0
        if high > _CEILING:
            return _CEILING
    while high - low > _TOLERANCE:
        middle = (low + high) / 2.0
        if _holds(middle, b=opposition, exposure=exposure, risk_class=risk_class, params=params):
            high = middle
        else:
            low = middle
    return math.ceil(high * 100.0 - 1e-9) / 100.0
