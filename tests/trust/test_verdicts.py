"""Acceptance and vote judging: only what the contributor reported is judged."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from profiles.trust import apply_caps, fold, submission_accepted, vote_verdict
from profiles.trust.reputation import Request
from tests.trust.strategies import END, START

STATES = ["allowed", "candidate", "rejected", "discrepancy", "out", None]


def test_a_submission_is_accepted_at_eighty_percent_allowed_or_candidate():
    assert submission_accepted(["allowed"] * 4 + ["rejected"])
    assert submission_accepted(["allowed", "candidate", "candidate", "allowed", None])
    assert not submission_accepted(["allowed"] * 3 + ["rejected", "out"])
    assert not submission_accepted([])


@given(st.lists(st.sampled_from(["allowed", "candidate"]), min_size=1, max_size=30), st.integers(0, 200))
def test_a_precise_observer_is_accepted_however_little_they_saw(reported, missed):
    # `missed` flows of the model the observer never saw are simply not inputs: the
    # decision depends only on the reported flows, all true.
    assert submission_accepted(reported)


@given(st.lists(st.sampled_from(STATES), min_size=1, max_size=30), st.sampled_from(["allowed", "candidate"]))
def test_reporting_one_more_true_flow_never_loses_the_acceptance(reported, true_state):
    if submission_accepted(reported):
        assert submission_accepted([*reported, true_state])


@given(st.lists(st.sampled_from([0.25, 1.0, 0.1]), max_size=60))
def test_a_contributor_with_only_confirmed_flows_never_drops_below_one_half(gains):
    # Precision is rewarded, recall is not asked for: every event such a contributor can
    # receive is a gain, so R stays >= 0.5 however few flows they reported.
    events = apply_caps([Request(at=START, delta_r=g) for g in gains])
    assert all(e.delta_s == 0 for e in events)
    assert fold(events, END).reputation() >= 0.5


@pytest.mark.parametrize(
    ("value", "state", "verdict"),
    [
        (1, "allowed", "agree"),
        (-1, "allowed", "disagree"),
        (-1, "rejected", "agree"),
        (1, "rejected", "disagree"),
        (-1, "out", "agree"),
        (1, "out", "disagree"),
        (-1, None, "agree"),
        (1, None, "disagree"),
        (1, "candidate", None),
        (-1, "candidate", None),
        (1, "discrepancy", None),
        (-1, "discrepancy", None),
    ],
)
def test_a_vote_is_judged_against_the_flow_state(value, state, verdict):
    assert vote_verdict(value, state) == verdict


def test_odd_votes_and_states_are_errors():
    with pytest.raises(ValueError):
        vote_verdict(0, "allowed")
    with pytest.raises(ValueError):
        vote_verdict(1, "maybe")
