"""The support bar: the least A with which rule 6.4's LB and W conditions hold."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from profiles.consensus.bar import support_bar
from profiles.consensus.params import PARAMS_BY_VERSION, ConsensusParams, params_for_version
from profiles.consensus.stats import beta_lower_bound, wilson_lower_bound

# CONSENSUS.md's worked minimums were computed with the first parameter set.
FIRST = params_for_version("2026-11-1")
EVERY_SET = sorted(PARAMS_BY_VERSION.values(), key=lambda params: params.version)


def holds(P: ConsensusParams, risk_class: str, a: float, b: float, exposure: float) -> bool:
    klass = P.for_class(risk_class)
    lb = beta_lower_bound(klass.prior_alpha + a, klass.prior_beta + b, P.lb_percentile)
    w_ok = klass.phi is None or wilson_lower_bound(a, max(a, exposure), P.wilson_z) >= klass.phi
    return lb >= P.lb_threshold and w_ok


@pytest.mark.parametrize(("risk_class", "documented"), [("V", 1.51), ("T", 2.81), ("H", 5.99)])
def test_the_bar_without_opposition_is_the_documented_minimum(risk_class, documented):
    # CONSENSUS.md: "Implied minimum support with no opposition: V 1.51, T 2.81, H 5.99".
    assert support_bar(risk_class, opposition=0.0, exposure=0.0, params=FIRST) == pytest.approx(documented, abs=0.011)


@pytest.mark.parametrize(("risk_class", "documented"), [("T", 6.6), ("H", 25.6)])
def test_a_popular_model_raises_the_bar_as_documented(risk_class, documented):
    assert support_bar(risk_class, opposition=0.0, exposure=400.0, params=FIRST) == pytest.approx(documented, abs=0.06)


@settings(max_examples=40, deadline=None)
@given(
    st.sampled_from(EVERY_SET),
    st.sampled_from(["V", "T", "H"]),
    st.floats(min_value=0, max_value=10, allow_nan=False),
    st.floats(min_value=0, max_value=300, allow_nan=False),
)
def test_the_bar_is_the_least_support_that_passes(params, risk_class, b, exposure):
    bar = support_bar(risk_class, opposition=b, exposure=exposure, params=params)
    assert holds(params, risk_class, bar, b, exposure)
    assert not holds(params, risk_class, bar - 0.011, b, exposure)


@pytest.mark.parametrize("P", EVERY_SET, ids=lambda params: params.version)
def test_opposition_and_exposure_never_lower_the_bar(P):
    for risk_class in ("V", "T", "H"):
        bars = [support_bar(risk_class, opposition=b, exposure=0.0, params=P) for b in (0.0, 1.0, 3.0)]
        assert bars == sorted(bars)
        bars = [support_bar(risk_class, opposition=0.0, exposure=n, params=P) for n in (0.0, 50.0, 400.0)]
        assert bars == sorted(bars)
