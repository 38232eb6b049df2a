"""Step 2-6 rules one at a time, on hand-built crowds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from profiles.consensus import ContributorSnapshot, ModelContext, ModeratorDecision, Observation, Vote, compute
from profiles.consensus.inputs import ConsensusInput
from tests.consensus.factories import (
    AS_OF,
    CONTEXT,
    LOCAL_MDNS,
    VENDOR,
    VENDOR_MQTT,
    consensus_input,
    member,
    seen,
)


def test_a_group_counts_once_and_at_most_one() -> None:
    people = [member(f"a{i}", 3, group="same") for i in range(5)] + [member("b", 2, 0.5)]
    result = compute(consensus_input(people, [seen(f"s{p.id}", p.id, [VENDOR]) for p in people]))
    row = result.decisions[0]
    assert (row.evidence.a_milli, row.evidence.k) == (1500, 2)
    assert row.state == "CANDIDATE"  # 1.5 < 1.513


def test_a_contributor_counts_once_with_its_best_multiplier() -> None:
    people = [member("a", 3), member("b", 3)]
    observations = [
        seen("1", "a", [VENDOR], age=timedelta(days=365)),
        seen("2", "a", [VENDOR], firmware="3.0"),
        seen("3", "a", [VENDOR], firmware=None),
        seen("4", "b", [VENDOR], age=timedelta(days=730)),
    ]
    row = compute(consensus_input(people, observations)).decisions[0]
    assert row.evidence.a_milli == 500 + 250


def test_upvotes_of_members_add_half_their_weight_inside_the_group_cap() -> None:
    people = [member("a", 2, 0.8), member("v", 2, 0.6, group="g-a"), member("w", 1, 1.0)]
    votes = (Vote("1", "v", VENDOR.key, 1), Vote("2", "w", VENDOR.key, 1))  # TL1 votes do not count
    row = compute(consensus_input(people, [seen("s", "a", [VENDOR])], votes=votes)).decisions[0]
    assert (row.evidence.a_milli, row.evidence.k, row.vote_ids) == (1000, 1, ("1",))


def test_opposition_rejects_when_three_groups_outweigh_support_twice() -> None:
    people = [member("a", 3), *(member(f"c{i}", 3) for i in range(3))]
    votes = tuple(Vote(f"v{i}", f"c{i}", VENDOR.key, -1) for i in range(3))
    row = compute(consensus_input(people, [seen("s", "a", [VENDOR])], votes=votes)).decisions[0]
    assert (row.evidence.b_milli, row.state, row.rule) == (3000, "REJECTED", "6.3-opposition")


def test_a_group_that_supports_a_flow_cannot_oppose_it() -> None:
    people = [member("a", 3), *(member(f"c{i}", 3, group="g-a" if i == 0 else None) for i in range(3))]
    votes = tuple(Vote(f"v{i}", f"c{i}", VENDOR.key, -1) for i in range(3))
    row = compute(consensus_input(people, [seen("s", "a", [VENDOR])], votes=votes)).decisions[0]
    assert row.evidence.b_milli == 2000
    assert row.state != "REJECTED"


def test_a_moderator_rejection_and_scoped_decisions() -> None:
    people = [member("a", 3), member("b", 3)]
    observations = [seen("1", "a", [VENDOR, VENDOR_MQTT]), seen("2", "b", [VENDOR, VENDOR_MQTT])]
    decisions = (
        ModeratorDecision("d1", "reject", VENDOR.key),
        ModeratorDecision("d2", "reject", VENDOR_MQTT.key, "1.0"),
    )
    result = compute(consensus_input(people, observations, moderator_decisions=decisions))
    rows = {r.key: (r.state, r.rule, r.decision_ids) for r in result.decisions}
    assert rows[VENDOR.key] == ("REJECTED", "6.2-moderator", ("d1",))
    assert rows[VENDOR_MQTT.key] == ("ALLOWED", "6.4-crowd", ())


def test_tl0_support_makes_a_candidate_but_never_more() -> None:
    people = [member(f"n{i}", 0) for i in range(3)]
    row = compute(consensus_input(people, [seen(f"s{p.id}", p.id, [VENDOR]) for p in people])).decisions[0]
    assert (row.evidence.a_milli, row.evidence.candidate_milli, row.state) == (0, 300, "CANDIDATE")
    two = compute(consensus_input(people[:2], [seen(f"s{p.id}", p.id, [VENDOR]) for p in people[:2]]))
    assert two.decisions[0].state == "OUT"


def test_exposure_counts_every_observing_group_scaled_by_its_window() -> None:
    people = [member("a", 3), member("b", 3), member("c", 2, 0.5)]
    observations = [seen("1", "a", [VENDOR]), seen("2", "b", [LOCAL_MDNS], window=84.0), seen("3", "c", [LOCAL_MDNS])]
    result = compute(consensus_input(people, observations))
    assert result.exposure_milli == 1000 + 500 + 500
    assert {r.evidence.n_milli for r in result.decisions} == {2000}


def test_latest_means_the_newest_known_firmware() -> None:
    inp = consensus_input([member("a", 3)], [seen("1", "a", [VENDOR], firmware="3.0")])
    assert inp.resolved_firmware == "4.0"
    assert compute(inp).decisions[0].evidence.a_milli == 500
    empty = consensus_input(
        [member("a", 3)], [seen("1", "a", [VENDOR], firmware=None)], context=ModelContext(firmware_order=())
    )
    assert empty.resolved_firmware is None
    # No firmware known at all: unknown firmware is as informative as any, so it counts in full.
    assert compute(empty).decisions[0].evidence.a_milli == 1000


def test_bad_inputs_fail_loudly() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        consensus_input([], [], as_of=datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="not in the model's firmware order"):
        consensus_input([], [], firmware="9.9")
    with pytest.raises(ValueError, match="not in the order"):
        consensus_input([member("a")], [seen("1", "a", [VENDOR], firmware="9.9")])
    with pytest.raises(ValueError, match="no snapshot"):
        compute(consensus_input([], [seen("1", "a", [VENDOR])]))
    with pytest.raises(ValueError, match="share the id"):
        compute(consensus_input([member("a"), member("a", 3)], []))
    with pytest.raises(ValueError, match="trust level"):
        ContributorSnapshot("x", 4, 0.5, "g")
    with pytest.raises(ValueError, match="disagree"):
        compute(
            consensus_input(
                [member("a"), member("v")],
                [seen("1", "a", [VENDOR])],
                votes=(Vote("1", "v", VENDOR.key, 1), Vote("2", "v", VENDOR.key, -1)),
            )
        )


def test_a_vote_for_the_firmware_overrides_an_all_firmware_vote() -> None:
    people = [member("a", 3), member("v", 3)]
    votes = (Vote("all", "v", VENDOR.key, -1), Vote("this", "v", VENDOR.key, 1, "4.0"))
    row = compute(consensus_input(people, [seen("1", "a", [VENDOR])], votes=votes)).decisions[0]
    assert (row.vote_ids, row.evidence.a_milli, row.evidence.b_milli) == (("this",), 1500, 0)


def test_the_engine_reads_no_clock() -> None:
    inp = ConsensusInput(
        model_id="m",
        firmware="latest",
        as_of=datetime(2001, 1, 1, tzinfo=UTC),
        context=CONTEXT,
        contributors=(member("a"),),
        observations=(Observation("1", "a", "4.0", datetime(2001, 1, 1, tzinfo=UTC), 168.0, frozenset([VENDOR])),),
    )
    assert compute(inp).decisions[0].evidence.a_milli == 800
    assert AS_OF.year == 2026


def test_a_regional_variant_weighs_its_region_fully_and_the_others_at_the_factor() -> None:
    from dataclasses import replace

    people = [member("eu1", 3), member("eu2", 3), member("us1", 3), member("anon", 3)]
    observations = [
        replace(seen("1", "eu1", [VENDOR], firmware=None), region="Western Europe"),
        replace(seen("2", "eu2", [VENDOR], firmware=None), region="Western Europe"),
        replace(seen("3", "us1", [VENDOR], firmware=None), region="Northern America"),
        seen("4", "anon", [VENDOR], firmware=None),  # no country named: "another region"
    ]
    context = ModelContext(firmware_order=())
    base = consensus_input(people, observations, context=context)
    assert compute(base).decisions[0].evidence.a_milli == 4000
    europe = compute(replace(base, region="Western Europe"))
    assert (europe.region, europe.decisions[0].evidence.a_milli) == ("Western Europe", 3000)
    assert europe.decisions[0].evidence.n_milli == 3000
    america = compute(replace(base, region="Northern America"))
    assert america.decisions[0].evidence.a_milli == 2500
    assert compute(base).input_digest != europe.input_digest != america.input_digest
