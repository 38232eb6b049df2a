"""Step 7-8: every decision reproduces from its stored row alone (invariant 8); the input digest."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from profiles.consensus import (
    DEFAULT_PARAMS,
    ConsensusInput,
    compute,
    input_digest,
    provenance_row,
    reproduce,
)
from tests.consensus.factories import POOL, consensus_input, crowds, member, profile, seen, with_more

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(crowds(), st.one_of(st.none(), st.frozensets(st.sampled_from(POOL))))
def test_every_stored_row_reproduces_its_decision(inp: ConsensusInput, covered: frozenset | None) -> None:
    if covered is not None:
        inp = with_more(inp, manufacturer_profiles=(profile("p", covered),))
    for row in compute(inp).decisions:
        stored = json.loads(json.dumps(provenance_row(row)))
        again = reproduce(stored)
        assert again.matches, (row.key, stored, again)
        assert (again.state, again.rule) == (row.state, row.rule)


def test_a_tampered_row_does_not_reproduce() -> None:
    people = [member("a", 3), member("b", 3)]
    row = compute(consensus_input(people, [seen("1", "a", POOL[:1]), seen("2", "b", POOL[:1])])).decisions[0]
    stored = provenance_row(row)
    assert stored["state"] == "ALLOWED"
    assert not reproduce({**stored, "A": 1000, "K": 1}).matches
    assert not reproduce({**stored, "LB": 0.9}).matches


def test_a_row_names_its_supporting_submissions_and_votes() -> None:
    from profiles.consensus import Vote

    people = [member("a", 3), member("b", 2), member("c", 0), member("voter", 3), member("critic", 2)]
    flow = POOL[0]
    inp = consensus_input(
        people,
        [
            seen("s-a", "a", [flow]),
            seen("s-b", "b", [flow]),
            seen("s-c", "c", [flow]),
            seen("s-old", "b", [flow], "1.0"),
        ],
        votes=(Vote("up", "voter", flow.key, 1), Vote("down", "critic", flow.key, -1), Vote("self", "a", flow.key, 1)),
    )
    row = compute(inp).decisions[0]
    assert row.submission_ids == ("s-a", "s-b", "s-c")  # s-old is 3 versions older: it does not count
    assert row.vote_ids == ("down", "up")  # nobody votes on their own flows


def test_reproducing_under_another_parameter_version_is_refused() -> None:
    row = compute(consensus_input([member("a")], [seen("1", "a", POOL[:1])])).decisions[0]
    with pytest.raises(ValueError, match="decided under"):
        reproduce(provenance_row(row), replace(DEFAULT_PARAMS, version="other"))


def test_the_input_digest_covers_every_input_and_the_parameter_set() -> None:
    base = consensus_input([member("a")], [seen("1", "a", POOL[:2])])
    digests = {
        input_digest(base),
        input_digest(replace(base, params=replace(DEFAULT_PARAMS, lb_threshold=0.5))),
        input_digest(replace(base, params=replace(DEFAULT_PARAMS, version="x"))),
        input_digest(replace(base, observations=(seen("1", "a", POOL[:3]),))),
        input_digest(replace(base, contributors=(member("a", reputation=0.81),))),
        input_digest(replace(base, firmware="4.0")),
        input_digest(replace(base, condition_since={POOL[0].key: base.as_of})),
    }
    assert len(digests) == 7
    assert compute(base).input_digest == input_digest(base)
    assert len(input_digest(base)) == 64


@SETTINGS
@given(crowds(), st.one_of(st.none(), st.frozensets(st.sampled_from(POOL))), st.sampled_from(["4.0", "3.0"]))
def test_the_digest_built_member_by_member_is_the_one_shot_encoding(
    inp: ConsensusInput, covered: frozenset | None, firmware: str
) -> None:
    """canonical_bytes keeps the encoding of the members every scope shares; the bytes must be
    those of the whole document encoded at once, for the scope that filled the cache and for
    another scope that reuses it."""
    from profiles.consensus.digest import canonical_bytes, canonical_document
    from profiles.consensus.prepare import prepare

    if covered is not None:
        inp = with_more(inp, manufacturer_profiles=(profile("p", covered),))
    prepared = prepare(inp)
    other = replace(prepared, inp=replace(inp, firmware=firmware, condition_since={POOL[0].key: inp.as_of}))
    for one in (prepared, other, prepared):
        whole = json.dumps(
            canonical_document(one), sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False
        ).encode("ascii")
        assert canonical_bytes(one) == whole
    assert canonical_bytes(prepared) != canonical_bytes(other)
    assert "digest-parts" in other.shared and other.shared is prepared.shared


def test_the_digest_does_not_depend_on_how_equal_values_are_spelled() -> None:
    from datetime import timedelta, timezone

    base = consensus_input([member("a")], [seen("1", "a", POOL[:2], firmware=None)])
    other = replace(
        base,
        as_of=base.as_of.astimezone(timezone(timedelta(hours=5))),
        observations=(seen("1", "a", POOL[:2], firmware="unknown", window=168),),
    )
    assert input_digest(other) == input_digest(base)


@SETTINGS
@given(crowds(), crowds(), st.integers(min_value=1, max_value=30))
def test_the_evidence_digest_changes_exactly_with_the_stored_row(a: ConsensusInput, b: ConsensusInput, days) -> None:
    """Equal digests for rows whose provenance (as_of aside) is equal, different ones otherwise:
    the recompute store rewrites a decision row only when its digest changes."""
    from datetime import timedelta

    from profiles.consensus.provenance import evidence_digest

    def stable(row):
        return json.dumps({k: v for k, v in provenance_row(row).items() if k != "as_of"}, sort_keys=True)

    later = replace(a, as_of=a.as_of + timedelta(days=days))
    rows = [*compute(a).decisions, *compute(b).decisions, *compute(later).decisions]
    by_digest: dict[str, str] = {}
    for row in rows:
        assert by_digest.setdefault(evidence_digest(row), stable(row)) == stable(row)
    assert len(by_digest) == len({stable(row) for row in rows})


def test_the_evidence_digest_ignores_only_as_of() -> None:
    from datetime import timedelta

    from profiles.consensus.provenance import evidence_digest

    row = compute(consensus_input([member("a", 3)], [seen("1", "a", POOL[:1])])).decisions[0]
    assert evidence_digest(replace(row, as_of=row.as_of + timedelta(days=1))) == evidence_digest(row)
    for change in ({"lb": row.lb + 1e-12}, {"submission_ids": ("2",)}, {"rule": "x"}, {"condition_since": row.as_of}):
        assert evidence_digest(replace(row, **change)) != evidence_digest(row), change
    assert evidence_digest(replace(row, evidence=replace(row.evidence, a_milli=row.evidence.a_milli + 1))) != (
        evidence_digest(row)
    )
