"""Hold periods (rule 6.4): conditions must hold continuously, across runs, for V 0, T 24 h, H 72 h."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from profiles.consensus import DEFAULT_PARAMS, ConsensusParams, ConsensusResult, ModeratorDecision, Vote, compute
from profiles.consensus.params import PARAMS_2026_11_1
from profiles.mud.flows import Flow
from tests.consensus.factories import AS_OF, HIGH_IP, THIRD_CDN, VENDOR, consensus_input, member, seen

PEOPLE = [member(f"p{i}", 3) for i in range(7)]


def run(
    flow: Flow,
    at: datetime,
    previous: ConsensusResult | None,
    *,
    support: int = 7,
    frozen: bool = False,
    params: ConsensusParams = DEFAULT_PARAMS,
) -> ConsensusResult:
    decisions = [ModeratorDecision("ok", "approve", flow.key)]
    if frozen:
        decisions.append(ModeratorDecision("ice", "freeze", flow.key))
    return compute(
        consensus_input(
            PEOPLE,
            [seen(f"s{p.id}", p.id, [flow]) for p in PEOPLE[:support]],
            as_of=at,
            moderator_decisions=tuple(decisions),
            condition_since=previous.condition_since if previous is not None else {},
            previous_states=(
                {row.key: row.state for row in previous.decisions if row.key == flow.key} if previous else {}
            ),
            params=params,
        )
    )


def state(result: ConsensusResult, flow: Flow) -> str:
    row = result.decision(flow.key)
    return row.state if row is not None else "OUT"


def test_a_vendor_flow_is_allowed_in_the_run_its_conditions_first_hold() -> None:
    assert state(run(VENDOR, AS_OF, None), VENDOR) == "ALLOWED"


@pytest.mark.parametrize(("flow", "hours"), [(THIRD_CDN, 24), (HIGH_IP, 72)], ids=["T", "H"])
def test_a_flow_is_allowed_once_its_conditions_held_for_the_hold(flow: Flow, hours: int) -> None:
    first = run(flow, AS_OF, None)
    assert state(first, flow) == "CANDIDATE"
    assert first.condition_since == {flow.key: AS_OF}
    almost = run(flow, AS_OF + timedelta(hours=hours) - timedelta(seconds=1), first)
    assert state(almost, flow) == "CANDIDATE"
    assert almost.condition_since == {flow.key: AS_OF}  # the start is kept, not restarted
    done = run(flow, AS_OF + timedelta(hours=hours), almost)
    assert state(done, flow) == "ALLOWED"
    row = done.decision(flow.key)
    assert row is not None and row.condition_since == AS_OF and row.rule == "6.4-crowd"


def test_a_break_in_the_conditions_restarts_the_hold() -> None:
    first = run(THIRD_CDN, AS_OF, None)
    broken = run(THIRD_CDN, AS_OF + timedelta(hours=12), first, support=1)
    assert broken.condition_since == {}
    again = run(THIRD_CDN, AS_OF + timedelta(hours=20), broken)
    assert again.condition_since == {THIRD_CDN.key: AS_OF + timedelta(hours=20)}
    assert state(run(THIRD_CDN, AS_OF + timedelta(hours=30), again), THIRD_CDN) == "CANDIDATE"
    assert state(run(THIRD_CDN, AS_OF + timedelta(hours=44), again), THIRD_CDN) == "ALLOWED"


def test_under_the_first_parameter_set_a_frozen_flow_has_no_hold_running() -> None:
    first = run(VENDOR, AS_OF, None, frozen=True, params=PARAMS_2026_11_1)
    assert state(first, VENDOR) == "CANDIDATE"
    assert first.condition_since == {}


def test_a_frozen_flow_is_never_promoted_but_its_hold_clock_runs() -> None:
    first = run(THIRD_CDN, AS_OF, None, frozen=True)
    assert state(first, THIRD_CDN) == "CANDIDATE"
    assert first.condition_since == {THIRD_CDN.key: AS_OF}
    later = run(THIRD_CDN, AS_OF + timedelta(hours=30), first, frozen=True)
    assert (state(later, THIRD_CDN), later.decision(THIRD_CDN.key).rule) == ("CANDIDATE", "6.2-frozen")  # type: ignore[union-attr]
    # Unfrozen after the hold has passed: the flow is where the rules would have it.
    assert state(run(THIRD_CDN, AS_OF + timedelta(hours=31), later), THIRD_CDN) == "ALLOWED"


def test_a_freeze_keeps_an_allowed_flow_allowed_and_demotes_nothing() -> None:
    allowed = run(THIRD_CDN, AS_OF + timedelta(hours=25), run(THIRD_CDN, AS_OF, None))
    assert state(allowed, THIRD_CDN) == "ALLOWED"
    # Frozen, and every supporter but one gone: the freeze holds the state for a moderator.
    frozen = run(THIRD_CDN, AS_OF + timedelta(hours=26), allowed, support=1, frozen=True)
    row = frozen.decision(THIRD_CDN.key)
    assert row is not None and (row.state, row.rule) == ("ALLOWED", "6.2-frozen")
    assert THIRD_CDN in frozen.allowed_flows
    # Lifted: the rules decide again.
    assert state(run(THIRD_CDN, AS_OF + timedelta(hours=27), frozen, support=1), THIRD_CDN) == "CANDIDATE"


def test_a_high_risk_flow_without_approval_never_starts_its_hold() -> None:
    people = [member(f"p{i}", 2, 1.0) for i in range(8)]
    inp = consensus_input(
        [*people, member("voter", 2, 1.0)],
        [seen(f"s{p.id}", p.id, [HIGH_IP]) for p in people],
        votes=(Vote("v", "voter", HIGH_IP.key, 1),),  # a TL2 up-vote is support, not approval
        condition_since={HIGH_IP.key: AS_OF - timedelta(days=9)},
    )
    result = compute(inp)
    assert state(result, HIGH_IP) == "CANDIDATE"
    assert result.condition_since == {}


def test_conditions_that_hold_keep_holding_while_age_decays_support_a_little() -> None:
    # Three TL3 observers: A = 3.0 > 2.81 now; 40 days later each counts 0.927, A = 2.78,
    # under the entry threshold but above the one that keeps a running flow (LB 0.35).
    first = run(THIRD_CDN, AS_OF, None, support=3)
    allowed = run(THIRD_CDN, AS_OF + timedelta(days=1), first, support=3)
    assert state(allowed, THIRD_CDN) == "ALLOWED"
    later = run(THIRD_CDN, AS_OF + timedelta(days=40), allowed, support=3)
    row = later.decision(THIRD_CDN.key)
    assert row is not None and row.lb < 0.40 and row.evidence.was_met
    assert row.state == "ALLOWED"
    # The same numbers without a running hold do not enter.
    fresh = run(THIRD_CDN, AS_OF + timedelta(days=40), None, support=3)
    assert state(fresh, THIRD_CDN) == "CANDIDATE"
    # Under the first parameter set, the flow leaves the file as soon as LB dips.
    old = run(THIRD_CDN, AS_OF + timedelta(days=40), allowed, support=3, params=PARAMS_2026_11_1)
    assert state(old, THIRD_CDN) == "CANDIDATE"
