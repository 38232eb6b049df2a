"""docs/consensus.md's "implied minimum support", pinned in milli-units against the exact rules.

The document rounds: the exact thresholds are V 1.5129, T 2.8116, H 5.9878 (LB >= 0.40 with
no opposition) and, at N_exp = 400, T and H 25.5864 (W >= phi = 0.05; under the first
parameter set T's phi was 0.01: 6.5504). In milli-units the smallest support that passes is
therefore 1513, 2812, 5988 and 25587. A flow whose conditions already held keeps them down
to LB 0.35: V 1.1933, T 2.2810, H 4.9155, so 1194, 2281 and 4916. The supporters here are TL3, so the TL2+ group rule
(one group for T, two for H) is met.
"""

from __future__ import annotations

import pytest
from scipy.optimize import brentq

from profiles.consensus import (
    DEFAULT_PARAMS,
    FlowDecision,
    ModeratorDecision,
    beta_lower_bound,
    compute,
    wilson_lower_bound,
)
from profiles.mud.flows import Flow
from tests.consensus.factories import HIGH_IP, LOCAL_MDNS, THIRD_CDN, VENDOR, consensus_input, long_held, member, seen


def _min_support_for_lb(risk_class: str, threshold: float = 0.40) -> float:
    k = DEFAULT_PARAMS.for_class(risk_class)
    return float(brentq(lambda a: beta_lower_bound(k.prior_alpha + a, k.prior_beta, 0.10) - threshold, 0.0, 100.0))


def _min_support_for_wilson(phi: float, n: float) -> float:
    return float(brentq(lambda a: wilson_lower_bound(a, n, DEFAULT_PARAMS.wilson_z) - phi, 1e-6, n))


def test_the_documented_minimum_support_matches_the_rules_to_the_documents_precision() -> None:
    assert [round(_min_support_for_lb(c, 0.35), 2) for c in "VTH"] == [1.19, 2.28, 4.92]
    assert round(_min_support_for_lb("V"), 2) == 1.51
    assert round(_min_support_for_lb("T"), 2) == 2.81
    assert round(_min_support_for_lb("H"), 2) == 5.99
    assert round(_min_support_for_wilson(0.01, 400.0), 1) == 6.6
    assert round(_min_support_for_wilson(0.05, 400.0), 1) == 25.6
    assert _min_support_for_lb("V") == pytest.approx(1.51294, abs=1e-5)
    assert _min_support_for_wilson(0.01, 400.0) == pytest.approx(6.55035, abs=1e-5)
    assert _min_support_for_wilson(0.05, 400.0) == pytest.approx(25.58636, abs=1e-5)


def _row_with_support(flow: Flow, milli: int, exposure: int = 0, running: bool = True) -> FlowDecision:
    """`flow` backed by fresh, independent observers adding up to `milli`, plus observers of
    another flow bringing the exposure to `exposure` milli-units (if larger); `running`: the
    flow's conditions held for the last 100 hours (so the keep threshold applies)."""
    full, rest = divmod(milli, 1000)
    people = [member(f"s{i}", level=3) for i in range(full)] + ([member("s-rest", 2, rest / 1000)] if rest else [])
    observations = [seen(f"o-{p.id}", p.id, [flow]) for p in people]
    filler_full, filler_rest = divmod(max(0, exposure - milli), 1000)
    fillers = [member(f"f{i}", level=3) for i in range(filler_full)]
    fillers += [member("f-rest", 2, filler_rest / 1000)] if filler_rest else []
    observations += [seen(f"o-{p.id}", p.id, [LOCAL_MDNS]) for p in fillers]
    inp = consensus_input(
        people + fillers,
        observations,
        moderator_decisions=(ModeratorDecision("approve", "approve", flow.key),),
        condition_since=long_held([flow]) if running else {},
    )
    row = compute(inp).decision(flow.key)
    assert row is not None
    return row


def _state_with_support(flow: Flow, milli: int, exposure: int = 0) -> tuple[str, int]:
    row = _row_with_support(flow, milli, exposure)
    return row.state, row.evidence.n_milli


@pytest.mark.parametrize(
    ("flow", "enough"),
    [(VENDOR, 1513), (THIRD_CDN, 2812), (HIGH_IP, 5988)],
    ids=["V", "T", "H"],
)
def test_the_smallest_support_that_meets_the_conditions_on_a_small_model(flow: Flow, enough: int) -> None:
    assert _row_with_support(flow, enough, running=False).conditions_met
    assert not _row_with_support(flow, enough - 1, running=False).conditions_met


@pytest.mark.parametrize(
    ("flow", "enough"),
    [(VENDOR, 1194), (THIRD_CDN, 2281), (HIGH_IP, 4916)],
    ids=["V", "T", "H"],
)
def test_the_smallest_support_that_keeps_a_flow_whose_conditions_held(flow: Flow, enough: int) -> None:
    assert _state_with_support(flow, enough)[0] == "ALLOWED"
    assert _state_with_support(flow, enough - 1)[0] == "CANDIDATE"


def test_two_members_with_reputation_0_8_allow_a_vendor_flow() -> None:
    people = [member("a", 2, 0.8), member("b", 2, 0.8)]
    result = compute(consensus_input(people, [seen("1", "a", [VENDOR]), seen("2", "b", [VENDOR])]))
    assert result.keys_in("ALLOWED") == (VENDOR.key,)


@pytest.mark.parametrize(("flow", "enough"), [(THIRD_CDN, 25587), (HIGH_IP, 25587)], ids=["T", "H"])
def test_the_smallest_support_that_allows_a_flow_on_a_popular_model(flow: Flow, enough: int) -> None:
    state, exposure = _state_with_support(flow, enough, exposure=400_000)
    assert (state, exposure) == ("ALLOWED", 400_000)
    state, exposure = _state_with_support(flow, enough - 1, exposure=400_000)
    assert (state, exposure) == ("CANDIDATE", 400_000)
