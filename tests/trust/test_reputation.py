"""Invariant 9 of CONSENSUS.md on the pure fold: bounds, direction, caps, decay, incremental == fold."""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from profiles.trust import (
    DEFAULT_TRUST_PARAMS,
    EMPTY,
    Event,
    GainsToday,
    Request,
    Score,
    advance,
    apply_caps,
    capped_gain,
    decay,
    fold,
    reputation,
    same_score,
    utc_day_bounds,
)
from tests.trust.strategies import SPAN_DAYS, START, events, negative_events, positive_events, requests

END = START + timedelta(days=SPAN_DAYS + 1)
P = DEFAULT_TRUST_PARAMS


def test_a_contributor_without_events_has_reputation_one_half():
    assert fold([], END).reputation() == 0.5
    assert reputation(0.0, 0.0) == 0.5


@given(st.lists(events, max_size=40))
def test_reputation_stays_between_zero_and_one(ledger):
    score = fold(ledger, END)
    assert 0.0 <= score.reputation() <= 1.0
    assert score.r >= 0.0 and score.s >= 0.0


@given(st.lists(events, max_size=30), positive_events)
def test_a_positive_event_never_lowers_reputation(ledger, gain):
    assert fold([*ledger, gain], END).reputation() >= fold(ledger, END).reputation()


@given(st.lists(events, max_size=30), negative_events)
def test_a_negative_event_never_raises_reputation(ledger, loss):
    assert fold([*ledger, loss], END).reputation() <= fold(ledger, END).reputation()


@given(st.lists(events, max_size=40), st.data())
def test_incremental_update_equals_the_full_fold(ledger, data):
    ledger = sorted(ledger, key=lambda e: e.at)
    cut = data.draw(st.integers(min_value=0, max_value=len(ledger)))
    t0 = ledger[cut - 1].at if cut else START
    later = data.draw(st.integers(min_value=0, max_value=30 * 86400))
    as_of = max(END, t0) + timedelta(seconds=later)
    stepwise = advance(fold(ledger[:cut], t0), ledger[cut:], as_of)
    assert same_score(stepwise, fold(ledger, as_of))
    assert stepwise.suspended_at == fold(ledger, as_of).suspended_at


@given(st.lists(events, max_size=40), st.randoms())
def test_late_events_fold_to_the_same_numbers_in_any_order(ledger, rnd):
    shuffled = list(ledger)
    rnd.shuffle(shuffled)
    a, b = fold(ledger, END), fold(shuffled, END)
    assert math.isclose(a.r, b.r, rel_tol=1e-9, abs_tol=1e-9)
    assert math.isclose(a.s, b.s, rel_tol=1e-9, abs_tol=1e-9)
    assert a.strikes == b.strikes


@given(st.lists(events, max_size=20), st.integers(min_value=0, max_value=3 * 365))
def test_one_score_advanced_through_many_nights_equals_one_fold(ledger, nights):
    ledger = sorted(ledger, key=lambda e: e.at)
    score = EMPTY
    at = START
    pending = list(ledger)
    for _ in range(min(nights, 60)):
        at += timedelta(days=7)
        due = [e for e in pending if e.at <= at]
        pending = [e for e in pending if e.at > at]
        score = advance(score, due, at)
    final = max(at, END)
    assert same_score(advance(score, pending, final), fold(ledger, final))


def test_decay_is_five_percent_every_thirty_days_and_continuous():
    assert decay(100.0, 30) == pytest.approx(95.0)
    assert decay(100.0, 60) == pytest.approx(90.25)
    assert decay(100.0, 15) == pytest.approx(100.0 * 0.95**0.5)
    assert decay(100.0, 0) == 100.0
    # r halves only after about 405 days, not sooner.
    half_life = 30 * math.log(0.5) / math.log(0.95)
    assert 405 < half_life < 406
    assert decay(1.0, half_life) == pytest.approx(0.5)
    assert decay(1.0, 400) > 0.5
    with pytest.raises(ValueError):
        decay(1.0, -1)


@given(st.floats(min_value=0, max_value=1000), st.floats(min_value=0, max_value=3000), st.floats(0, 3000))
def test_decay_composes(value, a, b):
    assert decay(decay(value, a), b) == pytest.approx(decay(value, a + b), rel=1e-9, abs=1e-12)


def test_one_event_decays_by_its_own_age():
    score = fold([Event(at=START, delta_r=10.0, delta_s=4.0)], START + timedelta(days=90))
    assert score.r == pytest.approx(10 * 0.95**3)
    assert score.s == pytest.approx(4 * 0.95**3)
    # Decay moves R towards 0.5, never past it.
    assert 0.5 < score.reputation() < reputation(10.0, 4.0)


@given(st.lists(st.builds(Event, at=st.just(START), strike=st.just(True)), min_size=0, max_size=5))
def test_strikes_never_fade_and_the_second_suspends(strikes):
    score = fold(strikes, START + timedelta(days=3650))
    assert score.strikes == len(strikes)
    assert (score.suspended_at is not None) == (len(strikes) >= 2)


def test_the_suspension_time_is_the_second_strikes_time():
    first, second = START + timedelta(days=1), START + timedelta(days=40)
    ledger = [Event(at=first, delta_s=10, strike=True), Event(at=second, delta_s=10, strike=True)]
    assert fold(ledger[:1], second).suspended_at is None
    assert fold(ledger, second + timedelta(days=5)).suspended_at == second


def test_a_score_is_never_moved_back_in_time_nor_given_future_events():
    with pytest.raises(ValueError):
        advance(Score(r=1, s=0, as_of=END), [], END - timedelta(seconds=1))
    with pytest.raises(ValueError):
        fold([Event(at=END)], END - timedelta(seconds=1))
    with pytest.raises(ValueError):
        Event(at=START, delta_r=-1.0)
    with pytest.raises(ValueError):
        Event(at=START, delta_s=float("nan"))


# --- Caps ----------------------------------------------------------------------------------


@given(st.lists(requests, max_size=80))
def test_gains_never_pass_ten_r_per_utc_day(stream):
    per_day: dict = defaultdict(float)
    for event in apply_caps(stream):
        per_day[utc_day_bounds(event.at)[0]] += event.delta_r
    assert all(total <= P.daily_gain_cap_r + 1e-9 for total in per_day.values())


@given(st.lists(requests, max_size=80))
def test_at_most_five_flow_confirmations_per_model_per_day_earn(stream):
    earned: dict = defaultdict(int)
    for request, event in zip(stream, apply_caps(stream), strict=True):
        if request.flow_confirmation and event.delta_r > 0:
            earned[(utc_day_bounds(event.at)[0], request.model)] += 1
    assert all(count <= P.flow_confirmations_per_model_per_day for count in earned.values())


@given(st.lists(requests, max_size=80))
def test_caps_only_cut_gains_never_losses_or_strikes(stream):
    for request, event in zip(stream, apply_caps(stream), strict=True):
        assert 0.0 <= event.delta_r <= request.delta_r
        assert event.delta_s == request.delta_s
        assert event.strike == request.strike
        assert event.at == request.at


def test_caps_reset_at_utc_midnight():
    night = START + timedelta(hours=23)
    stream = [Request(at=night, delta_r=1.0, flow_confirmation=True, model=7) for _ in range(6)]
    stream.append(Request(at=night + timedelta(hours=2), delta_r=1.0, flow_confirmation=True, model=7))
    gained = [e.delta_r for e in apply_caps(stream)]
    assert gained == [1.0] * 5 + [0.0, 1.0]


def test_other_models_and_other_gains_still_earn_after_five_confirmations():
    stream = [Request(at=START, delta_r=1.0, flow_confirmation=True, model=1) for _ in range(5)]
    stream += [
        Request(at=START, delta_r=1.0, flow_confirmation=True, model=1),
        Request(at=START, delta_r=1.0, flow_confirmation=True, model=2),
        Request(at=START, delta_r=0.25),
    ]
    assert [e.delta_r for e in apply_caps(stream)][5:] == [0.0, 1.0, 0.25]


def test_the_daily_cap_gives_what_is_left():
    assert capped_gain(1.0, flow_confirmation=False, today=GainsToday(r=9.5)) == 0.5
    assert capped_gain(1.0, flow_confirmation=False, today=GainsToday(r=10.0)) == 0.0
    assert capped_gain(1.0, flow_confirmation=True, today=GainsToday(r=0.0, flow_confirmations_for_model=5)) == 0.0


@given(st.lists(requests, min_size=1, max_size=40), st.integers(min_value=1, max_value=3))
def test_caps_counting_a_stored_ledger_equal_caps_over_the_whole_stream(stream, split):
    """What the ledger already holds (r per day, earning confirmations per day and model),
    given as a starting point, caps the rest exactly as one pass over everything would."""
    cut = len(stream) * split // 4
    whole = apply_caps(stream)
    gained: dict = defaultdict(float)
    confirmations: dict = defaultdict(int)
    for request, event in zip(stream[:cut], whole[:cut], strict=True):
        day = utc_day_bounds(event.at)[0].date()
        gained[day] += event.delta_r
        if request.flow_confirmation and event.delta_r > 0:
            confirmations[(day, request.model)] += 1
    assert apply_caps(stream[cut:], gained=gained, confirmations=confirmations) == whole[cut:]
