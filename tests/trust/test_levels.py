"""Trust levels: the table of CONSENSUS.md, cumulative bars, the 90% demotion margin."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from profiles.trust import Standing, evaluate_level, promotion_level, retains

NEWCOMER = Standing(
    level=0,
    age_days=0,
    valid_submissions=0,
    rejected_submissions=0,
    accepted_submissions=0,
    accepted_models=0,
    reputation=0.5,
    strikes=0,
)
TL1_BARS = replace(NEWCOMER, age_days=3, valid_submissions=3)
TL2_BARS = replace(
    TL1_BARS, age_days=30, valid_submissions=10, accepted_submissions=10, accepted_models=3, reputation=0.7
)
TL3_BARS = replace(
    TL2_BARS, age_days=90, valid_submissions=50, accepted_submissions=50, reputation=0.85, tl3_granted=True
)

standings = st.builds(
    Standing,
    level=st.integers(0, 3),
    age_days=st.floats(0, 400),
    valid_submissions=st.integers(0, 80),
    rejected_submissions=st.integers(0, 2),
    accepted_submissions=st.integers(0, 80),
    accepted_models=st.integers(0, 6),
    reputation=st.floats(0, 1),
    strikes=st.integers(0, 2),
    tl3_granted=st.booleans(),
    suspended=st.booleans(),
)


def test_everyone_starts_at_tl0():
    assert evaluate_level(NEWCOMER) == 0


@pytest.mark.parametrize(("standing", "level"), [(TL1_BARS, 1), (TL2_BARS, 2), (TL3_BARS, 3)])
def test_each_bar_exactly_met_promotes(standing, level):
    assert evaluate_level(standing) == level


@pytest.mark.parametrize(
    ("standing", "short"),
    [
        (TL1_BARS, {"age_days": 2.99}),
        (TL1_BARS, {"valid_submissions": 2}),
        (TL1_BARS, {"rejected_submissions": 1}),
        (TL1_BARS, {"strikes": 1}),
        (TL2_BARS, {"age_days": 29.9}),
        (TL2_BARS, {"accepted_submissions": 9}),
        (TL2_BARS, {"accepted_models": 2}),
        (TL2_BARS, {"reputation": 0.6999}),
        (TL3_BARS, {"age_days": 89}),
        (TL3_BARS, {"accepted_submissions": 49}),
        (TL3_BARS, {"reputation": 0.8499}),
        (TL3_BARS, {"tl3_granted": False}),
    ],
)
def test_one_bar_missed_stops_promotion_one_level_lower(standing, short):
    target = evaluate_level(standing)
    assert evaluate_level(replace(standing, **short)) < target


def test_tl3_needs_the_moderators_grant_whatever_the_numbers():
    superb = replace(TL3_BARS, age_days=1000, accepted_submissions=5000, reputation=0.99, tl3_granted=False)
    assert evaluate_level(superb) == 2
    assert evaluate_level(replace(superb, tl3_granted=True)) == 3


def test_a_member_is_kept_down_to_ninety_percent_of_each_bar():
    member = replace(TL2_BARS, level=2)
    assert evaluate_level(replace(member, reputation=0.63)) == 2
    assert evaluate_level(replace(member, reputation=0.6299)) == 1
    assert evaluate_level(replace(member, accepted_submissions=9)) == 2
    assert evaluate_level(replace(member, accepted_submissions=8)) == 1
    assert evaluate_level(replace(member, accepted_models=2)) == 1


def test_a_trusted_member_is_kept_down_to_ninety_percent_and_falls_one_level_at_a_time_if_possible():
    trusted = replace(TL3_BARS, level=3)
    assert evaluate_level(replace(trusted, reputation=0.765)) == 3
    assert evaluate_level(replace(trusted, reputation=0.764)) == 2
    assert evaluate_level(replace(trusted, accepted_submissions=45)) == 3
    assert evaluate_level(replace(trusted, accepted_submissions=44)) == 2
    assert evaluate_level(replace(trusted, tl3_granted=False)) == 2
    assert evaluate_level(replace(trusted, reputation=0.6)) == 1


def test_a_strike_or_a_rejected_submission_drops_to_tl0_without_margin():
    trusted = replace(TL3_BARS, level=3)
    assert evaluate_level(replace(trusted, strikes=1)) == 0
    assert evaluate_level(replace(trusted, rejected_submissions=1)) == 0


def test_a_suspended_account_is_never_promoted_but_keeps_its_level():
    assert evaluate_level(replace(TL2_BARS, level=0, suspended=True)) == 0
    assert evaluate_level(replace(TL2_BARS, level=2, suspended=True)) == 2


@given(standings)
def test_the_level_is_between_promotion_and_the_current_level(standing):
    level = evaluate_level(standing)
    assert 0 <= level <= 3
    if standing.suspended:
        assert level <= standing.level
    else:
        assert level >= promotion_level(standing)
    if level < standing.level:
        assert not retains(standing)


@given(standings)
def test_evaluation_is_stable_the_next_night(standing):
    once = evaluate_level(standing)
    assert evaluate_level(replace(standing, level=once)) == once


@given(standings, st.floats(0, 1))
def test_more_reputation_never_lowers_the_level(standing, more):
    better = replace(standing, reputation=max(standing.reputation, more))
    assert evaluate_level(better) >= evaluate_level(standing)


def test_next_level_needs_names_each_missing_bar():
    from profiles.trust.levels import Standing, next_level_needs

    newcomer = Standing(level=0, age_days=1, valid_submissions=1, rejected_submissions=0, accepted_submissions=0,
                        accepted_models=0, reputation=0.5, strikes=0)  # fmt: skip
    assert next_level_needs(newcomer) == ["an account at least 3 days old", "2 more valid submission(s)"]
    member = Standing(level=2, age_days=200, valid_submissions=80, rejected_submissions=0, accepted_submissions=60,
                      accepted_models=9, reputation=0.9, strikes=0)  # fmt: skip
    assert next_level_needs(member) == ["a moderator's grant"]
    trusted = Standing(level=3, age_days=200, valid_submissions=80, rejected_submissions=0, accepted_submissions=60,
                       accepted_models=9, reputation=0.9, strikes=0, tl3_granted=True)  # fmt: skip
    assert next_level_needs(trusted) == []
