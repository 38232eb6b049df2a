"""When time alone next changes a consensus: hold expiry, domain maturity, decay (issue 9, cause 7)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from profiles.consensus import ConsensusInput, ModelContext, compute
from profiles.consensus.timing import next_change_at
from tests.consensus.factories import AS_OF, CONTEXT, OLD, THIRD_CDN, VENDOR, consensus_input, crowds, member, seen, tcp

PEOPLE = [member(f"p{i}", 3) for i in range(3)]


def test_a_running_hold_is_due_when_it_expires() -> None:
    inp = consensus_input(PEOPLE, [seen(f"s{p.id}", p.id, [THIRD_CDN]) for p in PEOPLE])
    first = compute(inp)
    assert first.decision(THIRD_CDN.key).state == "CANDIDATE"  # type: ignore[union-attr]
    due = next_change_at(inp, first)
    assert due == AS_OF + timedelta(hours=24)
    at_due = compute(replace(inp, as_of=due, condition_since=first.condition_since))
    assert at_due.decision(THIRD_CDN.key).state == "ALLOWED"  # type: ignore[union-attr]


def test_a_new_domain_is_due_when_it_matures() -> None:
    young = tcp("api.fresh.example.org", 443)
    context = replace(
        CONTEXT, domain_first_seen={**CONTEXT.domain_first_seen, "example.org": AS_OF - timedelta(days=10)}
    )
    inp = consensus_input(PEOPLE, [seen(f"s{p.id}", p.id, [young]) for p in PEOPLE], context=context)
    result = compute(inp)
    row = result.decision(young.key)
    assert row is not None and (row.risk_class, row.risk_reason) == ("H", "new-domain")
    assert next_change_at(inp, result) == AS_OF + timedelta(days=20)
    matured = compute(replace(inp, as_of=AS_OF + timedelta(days=20)))
    assert matured.decision(young.key).risk_class == "T"  # type: ignore[union-attr]


def test_an_allowed_flow_is_due_no_later_than_decay_takes_it_out() -> None:
    # Due a little early (the rounding margin: one milli-unit per group), never late.
    inp = consensus_input(PEOPLE, [seen(f"s{p.id}", p.id, [VENDOR]) for p in PEOPLE])
    result = compute(inp)
    assert result.decision(VENDOR.key).state == "ALLOWED"  # type: ignore[union-attr]
    due = next_change_at(inp, result)
    assert due is not None and due > AS_OF
    held = result.condition_since
    assert (
        compute(replace(inp, as_of=due - timedelta(days=1), condition_since=held)).decision(VENDOR.key).state
        == "ALLOWED"
    )  # type: ignore[union-attr]
    assert (
        compute(replace(inp, as_of=due + timedelta(days=3), condition_since=held)).decision(VENDOR.key).state
        != "ALLOWED"
    )  # type: ignore[union-attr]


def test_nothing_is_due_when_nothing_can_change_by_time() -> None:
    inp = consensus_input(
        [member("a", 0)],
        [seen("s", "a", [VENDOR], firmware=None)],
        context=ModelContext(domain_first_seen={"example.com": OLD}),
    )
    assert next_change_at(inp, compute(inp)) is None


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(crowds(), st.integers(1, 24 * 400))
def test_no_decision_changes_before_the_time_said(inp: ConsensusInput, hours: int) -> None:
    # With no new input, recomputing at any time before the next change serves the same flows
    # and changes no state but a candidate fading out (left to the slow sweep).
    first = compute(inp)
    due = next_change_at(inp, first)
    later = AS_OF + timedelta(hours=hours)
    if due is not None and later >= due:
        later = due - timedelta(seconds=1)
    if later <= AS_OF:
        return
    again = compute(replace(inp, as_of=later, condition_since=first.condition_since))
    fade = {"CANDIDATE": "OUT"}
    assert again.allowed_flows == first.allowed_flows
    for before, after in zip(first.decisions, again.decisions, strict=True):
        assert after.state == before.state or fade.get(before.state) == after.state, (
            before.key,
            before.state,
            after.state,
        )
