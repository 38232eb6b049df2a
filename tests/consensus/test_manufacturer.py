"""Manufacturer override at engine level: rule 6.1 and 6.2, invariants 5 and 6."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from profiles.consensus import ConsensusInput, ManufacturerStatement, compute
from profiles.mud.flows import Flow
from tests.consensus.factories import (
    OLD,
    POOL,
    THIRD,
    VENDOR,
    VENDOR_MQTT,
    allowed,
    consensus_input,
    crowds,
    member,
    numbers,
    profile,
    seen,
    with_more,
)

SETTINGS = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
pool_subsets = st.frozensets(st.sampled_from(POOL), max_size=len(POOL))


def crowd_only(inp: ConsensusInput) -> ConsensusInput:
    return replace(inp, manufacturer_profiles=(), manufacturer_statements=())


@SETTINGS
@given(crowds(), pool_subsets, st.sampled_from((None, ("4.0",), ("3.0", "4.0"))))
def test_for_covered_firmware_allowed_is_the_profile_and_discrepancies_are_what_the_crowd_adds(
    inp: ConsensusInput, flows: frozenset[Flow], firmware: tuple[str, ...] | None
) -> None:
    crowd = compute(crowd_only(inp))
    covered = compute(with_more(inp, manufacturer_profiles=(profile("p", flows, firmware),)))
    assert allowed(covered) == {f.key for f in flows}
    assert set(covered.keys_in("DISCREPANCY")) == allowed(crowd) - {f.key for f in flows}
    assert covered.profile_id == "p"


@SETTINGS
@given(crowds(), pool_subsets)
def test_uncovered_firmware_keeps_the_crowd(inp: ConsensusInput, flows: frozenset[Flow]) -> None:
    elsewhere = with_more(inp, manufacturer_profiles=(profile("p", flows, ("1.0", "2.0")),))
    assert numbers(compute(elsewhere)) == numbers(compute(inp))


@SETTINGS
@given(
    crowds(),
    pool_subsets,
    pool_subsets,
    st.sampled_from(("bad-signature", "unpinned", "withdrawn", "superseded", "older")),
)
def test_invalid_withdrawn_or_older_profiles_change_nothing(
    inp: ConsensusInput, flows: frozenset[Flow], other: frozenset[Flow], flaw: str
) -> None:
    current = profile("p-current", flows, issued_at=OLD + timedelta(days=10))
    base = with_more(inp, manufacturer_profiles=(current,))
    flawed = {
        "bad-signature": profile("p-x", other, signature_valid=False, issued_at=OLD + timedelta(days=20)),
        "unpinned": profile("p-x", other, certificate_pinned=False, issued_at=OLD + timedelta(days=20)),
        "withdrawn": profile("p-x", other, withdrawn=True, issued_at=OLD + timedelta(days=20)),
        "superseded": profile("p-x", other, superseded=True, issued_at=OLD + timedelta(days=20)),
        "older": profile("p-x", other, issued_at=OLD),
    }[flaw]
    assert numbers(compute(with_more(base, manufacturer_profiles=(flawed,)))) == numbers(compute(base))
    # and with no valid profile at all, a flawed one (not an older valid one) leaves the crowd alone
    if flaw != "older":
        assert numbers(compute(with_more(inp, manufacturer_profiles=(flawed,)))) == numbers(compute(inp))


def test_a_manufacturer_profile_overrides_a_moderator_rejection_for_covered_firmware() -> None:
    from profiles.consensus import ModeratorDecision

    inp = consensus_input(
        [member("a")],
        [seen("1", "a", [VENDOR])],
        manufacturer_profiles=(profile("p", [VENDOR]),),
        moderator_decisions=(ModeratorDecision("d", "reject", VENDOR.key),),
    )
    row = compute(inp).decision(VENDOR.key)
    assert row is not None and (row.state, row.rule, row.profile_id) == ("ALLOWED", "6.1-manufacturer", "p")


def test_statements_decide_uncovered_firmware_and_a_rejection_wins() -> None:
    people = [member("a", 3), member("b", 3)]
    observations = [seen("1", "a", [VENDOR, THIRD]), seen("2", "b", [VENDOR, THIRD])]
    statements = (
        ManufacturerStatement("s1", VENDOR, "reject", None, True),
        ManufacturerStatement("s2", VENDOR_MQTT, "allow", frozenset({"4.0"}), True),
        ManufacturerStatement("s3", THIRD, "allow", None, True),
        ManufacturerStatement("s4", THIRD, "reject", frozenset({"1.0"}), True),  # another firmware
        ManufacturerStatement("s5", THIRD, "reject", None, False),  # not valid
    )
    result = compute(consensus_input(people, observations, manufacturer_statements=statements))
    rows = {r.key: (r.state, r.rule, r.statement_ids) for r in result.decisions}
    assert rows[VENDOR.key] == ("REJECTED", "6.2-statement-reject", ("s1",))
    assert rows[VENDOR_MQTT.key] == ("ALLOWED", "6.2-statement-allow", ("s2",))  # nobody saw it: the manufacturer did
    assert rows[THIRD.key] == ("ALLOWED", "6.2-statement-allow", ("s3",))


def test_statements_take_no_part_for_covered_firmware() -> None:
    inp = consensus_input(
        [member("a", 3), member("b", 3)],
        [seen("1", "a", [VENDOR]), seen("2", "b", [VENDOR])],
        manufacturer_profiles=(profile("p", [VENDOR_MQTT]),),
        manufacturer_statements=(ManufacturerStatement("s", THIRD, "allow", None, True),),
    )
    result = compute(inp)
    assert allowed(result) == {VENDOR_MQTT.key}
    assert result.keys_in("DISCREPANCY") == (VENDOR.key,)
    row = result.decision(THIRD.key)
    assert row is not None and row.state == "OUT"


def test_the_newest_valid_covering_profile_wins() -> None:
    inp = consensus_input(
        [member("a")],
        [],
        manufacturer_profiles=(
            profile("old", [VENDOR], issued_at=OLD),
            profile("new", [VENDOR_MQTT], issued_at=OLD + timedelta(days=1)),
        ),
    )
    assert allowed(compute(inp)) == {VENDOR_MQTT.key}
