"""The support bar: the least A with which rule 6.4's LB and W conditions hold."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from profiles.consensus import compute
from profiles.consensus.bar import flow_bar, support_bar
from profiles.consensus.params import PARAMS_BY_VERSION, ConsensusParams, params_for_version
from profiles.consensus.stats import beta_lower_bound, wilson_lower_bound
from tests.consensus.factories import THIRD, THIRD_CDN, consensus_input, crowds, long_held, member, seen

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


@pytest.mark.parametrize(("risk_class", "documented"), [("V", 1.19), ("T", 2.28), ("H", 4.92)])
def test_a_flow_whose_conditions_held_is_shown_the_keep_bar(risk_class, documented):
    # docs/consensus.md: "A flow already in the file stays while LB >= 0.35: V 1.19, T 2.28, H 4.92".
    P = params_for_version("2026-11-28")
    assert support_bar(risk_class, opposition=0.0, exposure=0.0, params=P, was_met=True) == pytest.approx(
        documented, abs=0.011
    )
    # The first set had no keep threshold: the bar of a flow that held is the same as any other's.
    assert support_bar(risk_class, opposition=0.0, exposure=0.0, params=FIRST, was_met=True) == support_bar(
        risk_class, opposition=0.0, exposure=0.0, params=FIRST
    )


@pytest.mark.parametrize(("risk_class", "trusted"), [("V", 0), ("T", 1), ("H", 2)])
def test_the_bar_names_the_tl2_groups_a_class_needs(risk_class, trusted):
    bar = flow_bar(risk_class, opposition=0.0, exposure=0.0, params=params_for_version("2026-11-28"))
    assert (bar.trusted_groups, bar.groups, bar.approval) == (trusted, 2, risk_class == "H")
    # Any amount of support from TL0/TL1 accounts leaves a bar with a TL2+ rule unreached.
    reached = bar.reached(support=1000.0, groups=500, trusted_groups=0, approved=True)
    assert reached is (trusted == 0)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(crowds(), st.sampled_from(EVERY_SET))
def test_the_bar_is_reached_exactly_when_the_engine_finds_rule_6_4_met(inp, params):
    """The page's bar against the engine's own decisions: for every flow of a random crowd,
    under every parameter set, `Bar.reached` agrees with the conditions the engine found
    (support within the bar's 0.01 rounding aside)."""
    result = compute(replace(inp, params=params))
    exposure = result.exposure_milli / 1000.0
    for row in result.decisions:
        ev = row.evidence
        if ev.frozen and not params.freeze_holds_state:
            continue  # the first set's freeze stops the conditions; the page shows it beside the bar
        bar = flow_bar(row.risk_class, opposition=row.opposition, exposure=exposure, params=params, was_met=ev.was_met)
        if abs(row.support - bar.support) <= 0.011:
            continue
        reached = bar.reached(support=row.support, groups=ev.k, trusted_groups=ev.k_trusted, approved=ev.approved)
        assert reached == row.conditions_met, (row.key, row.risk_class, row.support, bar, ev)


def test_support_over_the_number_is_not_enough_without_a_tl2_group():
    # Three full TL3 observers of one T flow, and six TL1 accounts (R = 1, own groups) of
    # another: both have support over the number, only the first has the TL2+ group.
    crowd = [member(f"t{i}", level=3, reputation=1.0) for i in range(3)]
    crowd += [member(f"b{i}", level=1, reputation=1.0) for i in range(6)]
    observations = [seen(f"s-t{i}", f"t{i}", [THIRD]) for i in range(3)]
    observations += [seen(f"s-b{i}", f"b{i}", [THIRD_CDN]) for i in range(6)]
    result = compute(consensus_input(crowd, observations, condition_since=long_held([THIRD, THIRD_CDN])))
    exposure = result.exposure_milli / 1000.0
    P = params_for_version(result.params_version)
    shown = {}
    for flow in (THIRD, THIRD_CDN):
        row = result.decision(flow.key)
        assert row is not None and row.risk_class == "T"
        bar = flow_bar("T", opposition=0.0, exposure=exposure, params=P, was_met=row.evidence.was_met)
        assert row.support >= bar.support and bar.lb_threshold == P.lb_keep_threshold
        shown[flow.key] = bar.reached(
            support=row.support, groups=row.groups, trusted_groups=row.evidence.k_trusted, approved=False
        )
        assert shown[flow.key] == row.conditions_met
    assert shown == {THIRD.key: True, THIRD_CDN.key: False}
