"""Reputation as a fold over the ledger: R = (r + 1) / (r + s + 2), r and s decayed by age.

Every point decays on its own: an event of r +d at time t counts d x 0.95 ** (age_days / 30)
at time T. Decay is multiplicative and the sum is linear, so a score as of t0 decayed to t1
plus the new events up to t1 equals the fold of every event as of t1 (`advance` ==
`fold`), whatever order the events arrive in. Strikes never fade.

Caps are applied once, when an event is added (`capped_gain`, `apply_caps`): the ledger
stores the capped delta, so replaying it is a plain fold with no cap logic and no clock.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from .params import DEFAULT_TRUST_PARAMS, TrustParams

SECONDS_PER_DAY = 86400.0


def _require_aware(name: str, value: datetime) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")


@dataclass(frozen=True, slots=True)
class Event:
    """One ledger entry as the fold sees it: the stored (already capped) deltas."""

    at: datetime
    delta_r: float = 0.0
    delta_s: float = 0.0
    strike: bool = False

    def __post_init__(self) -> None:
        _require_aware("event time", self.at)
        for name in ("delta_r", "delta_s"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0.0):
                raise ValueError(f"{name} must be a finite number >= 0, not {value!r}")


@dataclass(frozen=True, slots=True)
class Score:
    """r and s decayed to `as_of` (None: no event yet), the strikes, and when the strike
    that suspended the account was recorded."""

    r: float
    s: float
    strikes: int = 0
    as_of: datetime | None = None
    suspended_at: datetime | None = None

    def reputation(self, params: TrustParams = DEFAULT_TRUST_PARAMS) -> float:
        return reputation(self.r, self.s, params)


EMPTY = Score(r=0.0, s=0.0)


def reputation(r: float, s: float, params: TrustParams = DEFAULT_TRUST_PARAMS) -> float:
    """R in [0, 1]; 0.5 with no points."""
    return (r + params.prior_r) / (r + s + params.prior_r + params.prior_s)


def decay(value: float, days: float, params: TrustParams = DEFAULT_TRUST_PARAMS) -> float:
    """`value` after `days` of decay (0.95 every 30 days, continuously)."""
    if days < 0:
        raise ValueError(f"cannot decay over a negative time ({days} days)")
    if value == 0.0 or days == 0.0:
        return value
    return value * float(params.decay_per_period ** (days / params.decay_period_days))


def _days(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds() / SECONDS_PER_DAY


def advance(
    score: Score, events: Iterable[Event], as_of: datetime, params: TrustParams = DEFAULT_TRUST_PARAMS
) -> Score:
    """`score` decayed to `as_of` plus `events` (each decayed from its own time).

    Events may be older than `score.as_of` (a late entry), never newer than `as_of`. Give
    them in ledger order: the suspending strike is the one that reaches the threshold first.
    """
    _require_aware("as_of", as_of)
    if score.as_of is not None and as_of < score.as_of:
        raise ValueError(f"cannot move a score back from {score.as_of.isoformat()} to {as_of.isoformat()}")
    days = _days(score.as_of, as_of) if score.as_of is not None else 0.0
    r = decay(score.r, days, params)
    s = decay(score.s, days, params)
    strikes = score.strikes
    suspended_at = score.suspended_at
    for event in events:
        if event.at > as_of:
            raise ValueError(f"event at {event.at.isoformat()} is after as_of {as_of.isoformat()}")
        age = _days(event.at, as_of)
        if event.delta_r:
            r += decay(event.delta_r, age, params)
        if event.delta_s:
            s += decay(event.delta_s, age, params)
        if event.strike:
            strikes += 1
            if suspended_at is None and strikes >= params.strikes_to_suspend:
                suspended_at = event.at
    return Score(r=r, s=s, strikes=strikes, as_of=as_of, suspended_at=suspended_at)


def fold(events: Iterable[Event], as_of: datetime, params: TrustParams = DEFAULT_TRUST_PARAMS) -> Score:
    """The score of a whole ledger as of `as_of`: what `manage.py recompute_reputation` computes."""
    return advance(EMPTY, events, as_of, params)


def same_score(a: Score, b: Score, *, tolerance: float = 1e-9) -> bool:
    """Equal up to float rounding (the running sum and the fold add in different orders)."""
    return (
        math.isclose(a.r, b.r, rel_tol=tolerance, abs_tol=tolerance)
        and math.isclose(a.s, b.s, rel_tol=tolerance, abs_tol=tolerance)
        and a.strikes == b.strikes
    )


# --- Caps ----------------------------------------------------------------------------------


def utc_day_bounds(at: datetime) -> tuple[datetime, datetime]:
    """The UTC day holding `at`, as [start, end)."""
    _require_aware("at", at)
    start = datetime.combine(at.astimezone(UTC).date(), datetime.min.time(), tzinfo=UTC)
    return start, start + timedelta(days=1)


@dataclass(frozen=True, slots=True)
class GainsToday:
    """What the contributor's stored ledger already holds for the UTC day of a new event:
    the r gained (capped values), and the flow confirmations on the event's model that
    earned points."""

    r: float = 0.0
    flow_confirmations_for_model: int = 0


def capped_gain(
    delta_r: float, *, flow_confirmation: bool, today: GainsToday, params: TrustParams = DEFAULT_TRUST_PARAMS
) -> float:
    """The r a new event may add: at most 5 earning flow confirmations per model and day,
    and never past +10 r in the day. Losses (s) are never capped."""
    if delta_r <= 0.0:
        return 0.0
    if flow_confirmation and today.flow_confirmations_for_model >= params.flow_confirmations_per_model_per_day:
        return 0.0
    return max(0.0, min(delta_r, params.daily_gain_cap_r - today.r))


@dataclass(frozen=True, slots=True)
class Request:
    """An event as its cause asks for it, before the caps."""

    at: datetime
    delta_r: float = 0.0
    delta_s: float = 0.0
    strike: bool = False
    flow_confirmation: bool = False
    model: int | None = None


def apply_caps(
    requests: Iterable[Request],
    params: TrustParams = DEFAULT_TRUST_PARAMS,
    *,
    gained: Mapping[date, float] | None = None,
    confirmations: Mapping[tuple[date, int | None], int] | None = None,
) -> list[Event]:
    """One contributor's requests, in the order they are added, as the events the ledger stores.

    `gained` (r per UTC day) and `confirmations` (earning flow confirmations per UTC day and
    model) are what the stored ledger already holds; the caps count them too."""
    gained = dict(gained or {})
    confirmations = dict(confirmations or {})
    events = []
    for request in requests:
        day = utc_day_bounds(request.at)[0].date()
        today = GainsToday(
            r=gained.get(day, 0.0), flow_confirmations_for_model=confirmations.get((day, request.model), 0)
        )
        delta_r = capped_gain(request.delta_r, flow_confirmation=request.flow_confirmation, today=today, params=params)
        gained[day] = today.r + delta_r
        if request.flow_confirmation and delta_r > 0.0:
            confirmations[(day, request.model)] = today.flow_confirmations_for_model + 1
        events.append(Event(at=request.at, delta_r=delta_r, delta_s=request.delta_s, strike=request.strike))
    return events
