"""docs/consensus.md invariants 1-4, 7 and the freeze, property-based over small random crowds."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from profiles.consensus import (
    ConsensusInput,
    ContributorSnapshot,
    ModeratorDecision,
    Observation,
    Vote,
    compute,
    result_bytes,
)
from profiles.consensus.params import params_for_version
from profiles.consensus.result import ConsensusResult
from profiles.mud.flows import Flow
from tests.consensus.factories import (
    AS_OF,
    CONTEXT,
    HIGH_BUCKET,
    HIGH_IP,
    OLD,
    POOL,
    THIRD,
    THIRD_CDN,
    VENDOR,
    allowed,
    crowds,
    firmware_st,
    flows_st,
    long_held,
    member,
    profile,
    seen,
    with_more,
)

RANK = {"REJECTED": 0, "OUT": 1, "CANDIDATE": 2, "ALLOWED": 3}
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def rank(result: ConsensusResult, flow: Flow) -> int:
    row = result.decision(flow.key)
    # A flow nobody observed for this firmware has no row and no standing at all.
    return RANK[row.state] if row is not None else -1


def _shuffled(inp: ConsensusInput, seed: int) -> ConsensusInput:
    rng = random.Random(seed)
    changes = {}
    for name in (
        "contributors",
        "observations",
        "votes",
        "moderator_decisions",
        "manufacturer_profiles",
        "manufacturer_statements",
    ):
        items = list(getattr(inp, name))
        items += rng.sample(items, k=min(len(items), 3))  # exact duplicates
        rng.shuffle(items)
        changes[name] = tuple(items)
    return replace(inp, **changes)  # type: ignore[arg-type]


@SETTINGS
@given(crowds(), st.integers(), st.lists(st.frozensets(st.sampled_from(POOL)), max_size=3))
def test_shuffling_or_duplicating_inputs_changes_no_byte(
    inp: ConsensusInput, seed: int, profiles: list[frozenset[Flow]]
) -> None:
    inp = with_more(
        inp,
        manufacturer_profiles=tuple(
            profile(f"p{i}", flows, issued_at=OLD + timedelta(days=i), withdrawn=i == 1)
            for i, flows in enumerate(profiles)
        ),
    )
    assert result_bytes(compute(_shuffled(inp, seed))) == result_bytes(compute(inp))


@SETTINGS
@given(crowds())
def test_computing_twice_gives_the_same_bytes(inp: ConsensusInput) -> None:
    assert result_bytes(compute(inp)) == result_bytes(compute(inp))


@SETTINGS
@given(crowds(), st.sampled_from(POOL), st.integers(1, 3), st.integers(2, 3), st.data())
def test_more_support_never_demotes_a_flow(
    inp: ConsensusInput, flow: Flow, extra: int, level: int, data: st.DataObject
) -> None:
    before = compute(inp)
    people = [member(f"new{i}", level, data.draw(st.sampled_from((0.5, 0.9, 1.0)))) for i in range(extra)]
    how = data.draw(st.sampled_from(("observe", "vote")))
    if how == "observe":
        more = with_more(
            inp, contributors=tuple(people), observations=tuple(seen(f"n{p.id}", p.id, [flow]) for p in people)
        )
    else:
        more = with_more(
            inp, contributors=tuple(people), votes=tuple(Vote(f"nv{p.id}", p.id, flow.key, 1) for p in people)
        )
    assert rank(compute(more), flow) >= rank(before, flow)


@SETTINGS
@given(crowds(), st.sampled_from(POOL), st.integers(1, 3), st.data())
def test_reporting_a_flow_one_had_up_voted_never_demotes_it(
    inp: ConsensusInput, flow: Flow, extra: int, data: st.DataObject
) -> None:
    people = [member(f"new{i}", data.draw(st.integers(2, 3)), 0.9) for i in range(extra)]
    voted = with_more(
        inp, contributors=tuple(people), votes=tuple(Vote(f"nv{p.id}", p.id, flow.key, 1) for p in people)
    )
    observed = with_more(
        voted,
        observations=tuple(
            seen(
                f"n{p.id}",
                p.id,
                [flow],
                firmware=data.draw(firmware_st),
                age=timedelta(days=data.draw(st.integers(0, 900))),
            )
            for p in people
        ),
    )
    assert rank(compute(observed), flow) >= rank(compute(voted), flow)


@SETTINGS
@given(crowds(), st.sampled_from(POOL), st.integers(1, 4), st.booleans(), st.data())
def test_more_opposition_never_promotes_a_flow(
    inp: ConsensusInput, flow: Flow, extra: int, same_group: bool, data: st.DataObject
) -> None:
    before = compute(inp)
    groups = [c.group for c in inp.contributors]
    people = [
        member(
            f"new{i}",
            data.draw(st.integers(2, 3)),
            0.9,
            group=data.draw(st.sampled_from(groups)) if same_group else None,
        )
        for i in range(extra)
    ]
    more = with_more(
        inp, contributors=tuple(people), votes=tuple(Vote(f"nv{p.id}", p.id, flow.key, -1) for p in people)
    )
    assert rank(compute(more), flow) <= rank(before, flow)


@SETTINGS
@given(crowds(max_contributors=14))
def test_no_single_group_gets_a_flow_allowed_by_the_crowd(inp: ConsensusInput) -> None:
    one_group = replace(inp, contributors=tuple(replace(c, group="one") for c in inp.contributors))
    result = compute(replace(one_group, moderator_decisions=(), manufacturer_statements=()))
    assert result.allowed_flows == ()
    assert all(row.evidence.k <= 1 and row.evidence.a_milli <= 1000 for row in result.decisions)


@SETTINGS
@given(crowds(), flows_st, st.integers(2, 6))
def test_splitting_a_saturated_account_into_many_in_its_group_changes_nothing(
    inp: ConsensusInput, flows: frozenset[Flow], copies: int
) -> None:
    # A fresh TL3 observation already fills its group's cap of 1.0: extra accounts of the
    # same actor add nothing, neither support nor exposure.
    base = with_more(inp, contributors=(member("actor", 3, group="actor"),), observations=(seen("a", "actor", flows),))
    split = with_more(
        base,
        contributors=tuple(member(f"actor{i}", 3, group="actor") for i in range(copies)),
        observations=tuple(seen(f"a{i}", f"actor{i}", flows) for i in range(copies)),
    )
    keep = ("state", "rule", "evidence", "lb", "wilson")
    first, second = compute(base), compute(split)
    assert [[getattr(r, k) for k in keep] for r in first.decisions] == [
        [getattr(r, k) for k in keep] for r in second.decisions
    ]


@SETTINGS
@given(crowds(), st.sampled_from(POOL), st.integers(1, 5), st.data())
def test_splitting_any_account_never_adds_a_group_or_more_than_the_groups_cap(
    inp: ConsensusInput, flow: Flow, copies: int, data: st.DataObject
) -> None:
    # The sum-then-cap rule of step 2: below the cap, copies of a TL1/TL2 account in one
    # group do add support, but never a group (K) and never past 1.0 for the group.
    actor = member("actor", data.draw(st.integers(1, 3)), data.draw(st.sampled_from((0.5, 0.8))), group="actor")
    base = with_more(inp, contributors=(actor,), observations=(seen("a", "actor", [flow]),))
    split = with_more(
        base,
        contributors=tuple(replace(actor, id=f"actor{i}") for i in range(copies)),
        observations=tuple(seen(f"a{i}", f"actor{i}", [flow]) for i in range(copies)),
    )
    row_base, row_split = compute(base).decision(flow.key), compute(split).decision(flow.key)
    assert row_base is not None and row_split is not None
    assert row_split.evidence.k == row_base.evidence.k
    assert row_split.evidence.a_milli - row_base.evidence.a_milli <= 1000


@SETTINGS
@given(crowds(), st.integers(1, 8), st.data())
def test_tl0_accounts_alone_never_change_the_allowed_set(inp: ConsensusInput, n: int, data: st.DataObject) -> None:
    groups = [c.group for c in inp.contributors]
    newcomers = tuple(
        ContributorSnapshot(f"tl0-{i}", 0, 0.5, data.draw(st.sampled_from([*groups, f"fresh{i}"]))) for i in range(n)
    )
    observations = tuple(
        Observation(f"tl0-s{i}", c.id, data.draw(firmware_st), AS_OF, 168.0, data.draw(flows_st))
        for i, c in enumerate(newcomers)
    )
    votes = tuple(
        Vote(f"tl0-v{i}", c.id, data.draw(st.sampled_from(POOL)).key, data.draw(st.sampled_from((1, -1))))
        for i, c in enumerate(newcomers)
    )
    more = with_more(inp, contributors=newcomers, observations=observations, votes=votes)
    assert allowed(compute(more)) == allowed(compute(inp))


@SETTINGS
@given(
    crowds(),
    st.lists(flows_st, min_size=2, max_size=6),
    st.sampled_from((1, 5, 40, 120, 300)),
    st.lists(flows_st, min_size=1, max_size=4),
    st.data(),
)
def test_no_number_of_tl0_or_tl1_accounts_takes_a_flow_out_of_the_served_file(
    inp: ConsensusInput, members: list[frozenset[Flow]], n: int, reports: list[frozenset[Flow]], data: st.DataObject
) -> None:
    """Invariant 3, silence: TL0/TL1 accounts that submit the model without a flow (full-week
    windows, groups of their own or joined to existing ones) never demote it; their reports
    only add support to what they did report (invariant 2). The crowd has a few full TL3
    members whose flows have held, so that it serves T and V flows to take out."""
    trusted = tuple(member(f"tl3-{i}", 3, 1.0) for i in range(len(members)))
    inp = with_more(
        inp,
        contributors=trusted,
        observations=tuple(
            seen(f"tl3-s{i}", c.id, flows) for i, (c, flows) in enumerate(zip(trusted, members, strict=True))
        ),
    )
    inp = replace(inp, condition_since={**long_held(POOL), **inp.condition_since})
    # A few kinds of account, cycled over the n accounts (drawing each one would overrun
    # hypothesis's budget at hundreds): (level, R, joins an existing group or has its own).
    groups = [c.group for c in inp.contributors]
    kinds = data.draw(
        st.lists(
            st.tuples(
                st.sampled_from((1, 0)),
                st.sampled_from((1.0, 0.9, 0.5)),
                st.one_of(st.none(), st.none(), st.none(), st.sampled_from(groups)),
            ),
            min_size=1,
            max_size=4,
        )
    )
    accounts = tuple(
        ContributorSnapshot(f"low-{i}", level, reputation, group or f"low-group-{i}")
        for i, (level, reputation, group) in ((i, kinds[i % len(kinds)]) for i in range(n))
    )
    # Silent about one flow above all (else their own reports of it would support it), most
    # often a T flow: V has no Wilson condition for silence to act on.
    silent = data.draw(st.sampled_from((THIRD, THIRD_CDN, *POOL)))
    reports = [report - {silent} or frozenset({THIRD if silent != THIRD else VENDOR}) for report in reports]
    firmware = data.draw(firmware_st)
    observations = tuple(
        Observation(f"low-s{i}", c.id, firmware, AS_OF, 168.0, reports[i % len(reports)])
        for i, c in enumerate(accounts)
    )
    before = allowed(compute(inp))
    assert before <= allowed(compute(with_more(inp, contributors=accounts, observations=observations)))


def test_silence_of_aged_tl1_accounts_took_a_served_flow_out_before_2026_11_28_2() -> None:
    """The attack the exposure rule closes: three TL3 members serve a T flow; 150 aged TL1
    accounts (R = 0.5, groups of their own, full-week windows) submit the model without it."""
    people = [member(f"t{i}", 3, 1.0) for i in range(3)] + [member(f"b{i}", 1, 0.5) for i in range(150)]
    observations = [seen(f"s-t{i}", f"t{i}", [THIRD_CDN, THIRD]) for i in range(3)]
    observations += [seen(f"s-b{i}", f"b{i}", [THIRD]) for i in range(150)]
    inp = ConsensusInput(
        model_id="m",
        firmware="latest",
        as_of=AS_OF,
        context=CONTEXT,
        contributors=tuple(people),
        observations=tuple(observations),
        condition_since={THIRD_CDN.key: AS_OF - timedelta(days=30)},
    )
    states = {}
    for version in ("2026-11-28", "2026-11-28.2"):
        row = compute(replace(inp, params=params_for_version(version))).decision(THIRD_CDN.key)
        assert row is not None and row.risk_class == "T"
        states[version] = (row.state, round(row.exposure))
    assert states == {"2026-11-28": ("CANDIDATE", 40), "2026-11-28.2": ("ALLOWED", 3)}


@SETTINGS
@given(st.integers(2, 80), st.lists(st.sampled_from((0.5, 0.7, 0.9, 1.0)), min_size=1), st.sampled_from(POOL[5:]))
def test_no_number_of_tl1_accounts_gets_a_high_risk_flow_allowed(n: int, reputations: list[float], flow: Flow) -> None:
    people = [member(f"p{i}", 1, reputations[i % len(reputations)]) for i in range(n)]
    members = [member(f"m{i}", 2, 1.0) for i in range(3)]  # TL2 up-votes are support, not approval
    inp = ConsensusInput(
        model_id="m",
        firmware="latest",
        as_of=AS_OF,
        context=CONTEXT,
        contributors=(*people, *members),
        observations=tuple(seen(f"s{p.id}", p.id, [flow]) for p in people),
        votes=tuple(Vote(f"v{m.id}", m.id, flow.key, 1) for m in members),
        condition_since={flow.key: AS_OF - timedelta(days=30)},
    )
    row = compute(inp).decision(flow.key)
    assert row is not None and row.risk_class == "H" and row.state != "ALLOWED"


@SETTINGS
@given(crowds(), st.lists(st.tuples(flows_st, st.booleans()), min_size=1, max_size=5))
def test_newer_firmware_observations_never_affect_older_firmware(
    inp: ConsensusInput, newer: list[tuple[frozenset[Flow], bool]]
) -> None:
    older = replace(inp, firmware="3.0")
    ids = [c.id for c in inp.contributors]
    extra = tuple(
        seen(f"newer{i}", ids[i % len(ids)] if existing else f"x{i}", flows, firmware="4.0")
        for i, (flows, existing) in enumerate(newer)
    )
    newcomers = tuple(member(f"x{i}", 3) for i, (_, existing) in enumerate(newer) if not existing)
    more = with_more(older, contributors=newcomers, observations=extra)
    first, second = compute(older), compute(more)
    assert [(r.key, r.state, r.rule, r.evidence, r.submission_ids) for r in first.decisions] == [
        (r.key, r.state, r.rule, r.evidence, r.submission_ids) for r in second.decisions
    ]


@SETTINGS
@given(crowds(), st.integers(1, 2000))
def test_support_only_decays_as_time_passes(inp: ConsensusInput, hours: int) -> None:
    now = compute(replace(inp, condition_since={}))
    later = compute(replace(inp, condition_since={}, as_of=inp.as_of + timedelta(hours=hours)))
    support_now = {r.key: (r.evidence.a_milli, r.evidence.candidate_milli) for r in now.decisions}
    for row in later.decisions:
        a, candidate = support_now[row.key]
        assert row.evidence.a_milli <= a
        assert row.evidence.candidate_milli <= candidate


# Invariants 3 and 4 as extended by issue 9: trust levels below TL2 corroborate, never decide.
LOW_TRUST_TARGETS = (THIRD, THIRD_CDN, HIGH_IP, HIGH_BUCKET)


@SETTINGS
@given(
    crowds(),
    st.sampled_from(LOW_TRUST_TARGETS),
    st.integers(1, 120),
    st.lists(st.sampled_from((0.5, 0.7, 0.9, 1.0)), min_size=1),
    st.integers(1, 40),
    st.booleans(),
)
def test_no_number_of_tl0_or_tl1_accounts_gets_a_third_party_or_high_risk_flow_allowed(
    inp: ConsensusInput, flow: Flow, n: int, reputations: list[float], n_groups: int, approved: bool
) -> None:
    # Whatever the honest crowd did, remove every TL2+ support of `flow` (observations and
    # up-votes), then let any number of TL0/TL1 accounts in any grouping observe it, with a
    # moderator's approval and a hold that passed long ago.
    trusted = {c.id for c in inp.contributors if c.trust_level >= 2}
    observations = tuple(
        replace(o, flows=o.flows - {flow}) if o.contributor_id in trusted else o
        for o in inp.observations
        if o.contributor_id in trusted and o.flows - {flow}  # keep honest exposure, drop TL0/1 inputs
    )
    votes = tuple(v for v in inp.votes if v.flow_key != flow.key and v.contributor_id in trusted)
    low = tuple(
        ContributorSnapshot(f"low{i}", i % 2, reputations[i % len(reputations)], f"lg{i % n_groups}") for i in range(n)
    )
    crowd = replace(
        inp,
        contributors=(*inp.contributors, *low),
        observations=(*observations, *(seen(f"low-s{i}", c.id, [flow, *POOL[:2]]) for i, c in enumerate(low))),
        votes=votes,
        moderator_decisions=(ModeratorDecision("ok", "approve", flow.key),) if approved else (),
        manufacturer_statements=(),
        condition_since={flow.key: AS_OF - timedelta(days=60)},
    )
    row = compute(crowd).decision(flow.key)
    assert row is not None and row.risk_class in ("T", "H")
    assert row.evidence.k_trusted == 0
    assert row.state != "ALLOWED"


@SETTINGS
@given(st.integers(2, 80), st.lists(st.sampled_from((0.5, 0.7, 0.9, 1.0)), min_size=1), st.integers(1, 3))
def test_a_high_risk_flow_needs_two_trusted_groups_even_with_an_approval(
    n: int, reputations: list[float], members_in_one_group: int
) -> None:
    people = [member(f"p{i}", 1, reputations[i % len(reputations)]) for i in range(n)]
    # Up to three TL3 accounts, all in one independence group: one trusted group.
    trusted = [member(f"t{i}", 3, 1.0, group="one") for i in range(members_in_one_group)]
    inp = ConsensusInput(
        model_id="m",
        firmware="latest",
        as_of=AS_OF,
        context=CONTEXT,
        contributors=(*people, *trusted),
        observations=tuple(seen(f"s{p.id}", p.id, [HIGH_IP]) for p in (*people, *trusted)),
        moderator_decisions=(ModeratorDecision("ok", "approve", HIGH_IP.key),),
        condition_since={HIGH_IP.key: AS_OF - timedelta(days=30)},
    )
    row = compute(inp).decision(HIGH_IP.key)
    assert row is not None and row.evidence.k_trusted == 1 and row.state != "ALLOWED"
    # A second trusted group is what was missing (with enough support from the rest).
    second = replace(
        inp,
        contributors=(*inp.contributors, member("t-other", 2, 0.9)),
        observations=(*inp.observations, seen("s-t-other", "t-other", [HIGH_IP])),
    )
    again = compute(second).decision(HIGH_IP.key)
    assert again is not None and again.evidence.k_trusted == 2
    # The hold has run for 30 days, so the keep threshold (LB 0.35) applies.
    assert again.evidence.was_met
    assert again.state == ("ALLOWED" if again.lb >= 0.35 else "CANDIDATE")


@SETTINGS
@given(crowds(), st.data())
def test_a_freeze_holds_the_previous_state_of_a_flow(inp: ConsensusInput, data: st.DataObject) -> None:
    before = compute(replace(inp, manufacturer_statements=()))
    held = {
        row.key: data.draw(st.sampled_from(("ALLOWED", "CANDIDATE", "REJECTED", "OUT"))) for row in before.decisions
    }
    freezes = tuple(ModeratorDecision(f"ice-{i}", "freeze", key) for i, key in enumerate(sorted(held)))
    rejected = {d.flow_key for d in inp.moderator_decisions if d.kind == "reject"}
    after = compute(
        replace(
            inp,
            manufacturer_statements=(),
            moderator_decisions=(*inp.moderator_decisions, *freezes),
            previous_states=held,
        )
    )
    for row in after.decisions:
        if row.key in rejected:
            assert (row.state, row.rule) == ("REJECTED", "6.2-moderator")  # a moderator's own ruling still applies
        else:
            assert (row.state, row.rule) == (held[row.key], "6.2-frozen")
