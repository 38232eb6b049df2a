"""Trust levels (CONSENSUS.md, "Contributors"): promotion by the table, demotion with a margin.

Promotion climbs as far as the bars allow; the bars are cumulative (TL2 also needs TL1's).

    TL1  account >= 3 days, >= 3 valid submissions, none rejected, 0 strikes
    TL2  TL1 + account >= 30 days, >= 10 accepted submissions on >= 3 models, R >= 0.70
    TL3  TL2 + account >= 90 days, >= 50 accepted, R >= 0.85, and a moderator's grant

Demotion (hysteresis): a contributor keeps a level while every *numeric* bar of that level
and the ones below holds at 90% of its value: R >= 0.63 (TL2) / 0.765 (TL3); counts at
ceil(90%): accepted >= 9 (TL2) / 45 (TL3), models >= 3, valid >= 3. Age only grows, so it
is never a reason to demote. The bars that are not numbers have no margin: a strike or a
rejected submission (both moderator rulings) drop the contributor to TL0, and a revoked
TL3 grant drops to the highest level still held. When the held level's bars fail, the
contributor lands on the highest lower level whose retention bars hold.

Suspension is not a level: a suspended account keeps the level it has (it is never
promoted), and the engine gives it weight 0 (`profiles.consensus.weights`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .params import DEFAULT_TRUST_PARAMS, TrustParams

TOP_LEVEL = 3


@dataclass(frozen=True, slots=True)
class Standing:
    """What the level depends on, as of the evaluation."""

    level: int
    age_days: float
    valid_submissions: int
    rejected_submissions: int
    accepted_submissions: int
    accepted_models: int
    reputation: float
    strikes: int
    tl3_granted: bool = False
    suspended: bool = False

    def __post_init__(self) -> None:
        if self.level not in (0, 1, 2, 3):
            raise ValueError(f"trust level {self.level} outside 0..3")


def _at_least(value: float, bar: float, margin: float) -> bool:
    return value >= bar * margin


def _count_at_least(value: int, bar: int, margin: float) -> bool:
    # 90% of a count, rounded up: 9 of 10, 45 of 50, 3 of 3 (a count below the bar but
    # within a rounding error of it is not a count the contributor has).
    return value >= math.ceil(bar * margin - 1e-9)


def _holds(standing: Standing, level: int, margin: float, params: TrustParams) -> bool:
    """Whether the bars of `level` (not those below) hold, numeric ones scaled by `margin`."""
    p = params
    if level == 1:
        return (
            standing.age_days >= p.tl1_min_age_days
            and _count_at_least(standing.valid_submissions, p.tl1_min_valid, margin)
            and standing.rejected_submissions == 0
            and standing.strikes == 0
        )
    if level == 2:
        return (
            standing.age_days >= p.tl2_min_age_days
            and _count_at_least(standing.accepted_submissions, p.tl2_min_accepted, margin)
            and _count_at_least(standing.accepted_models, p.tl2_min_models, margin)
            and _at_least(standing.reputation, p.tl2_min_reputation, margin)
        )
    if level == 3:
        return (
            standing.age_days >= p.tl3_min_age_days
            and _count_at_least(standing.accepted_submissions, p.tl3_min_accepted, margin)
            and _at_least(standing.reputation, p.tl3_min_reputation, margin)
            and standing.tl3_granted
        )
    return True


def _highest(standing: Standing, margin: float, params: TrustParams, ceiling: int = TOP_LEVEL) -> int:
    level = 0
    while level < ceiling and _holds(standing, level + 1, margin, params):
        level += 1
    return level


def promotion_level(standing: Standing, params: TrustParams = DEFAULT_TRUST_PARAMS) -> int:
    """The highest level whose full bars (and all below) hold today."""
    return _highest(standing, 1.0, params)


def retains(standing: Standing, params: TrustParams = DEFAULT_TRUST_PARAMS) -> bool:
    """Whether the contributor keeps their current level (bars at the demotion margin)."""
    return _highest(standing, params.demotion_margin, params, ceiling=standing.level) == standing.level


def evaluate_level(standing: Standing, params: TrustParams = DEFAULT_TRUST_PARAMS) -> int:
    """The level after tonight's evaluation."""
    promoted = promotion_level(standing, params)
    if promoted > standing.level and not standing.suspended:
        return promoted
    # Keep what is held at the margin, never more than the current level; the promotion
    # bars are stricter than the retention bars, so this is never below `promoted`.
    return _highest(standing, params.demotion_margin, params, ceiling=standing.level)


def next_level_needs(standing: Standing, params: TrustParams = DEFAULT_TRUST_PARAMS) -> list[str]:
    """What stands between the contributor and the next level, one plain sentence per bar
    not yet met (an empty list at the top level, or when only the nightly run is missing)."""
    target = standing.level + 1
    if target > TOP_LEVEL:
        return []
    p = params
    needs: list[str] = []
    if target == 1:
        if standing.age_days < p.tl1_min_age_days:
            needs.append(f"an account at least {p.tl1_min_age_days:g} days old")
        if standing.valid_submissions < p.tl1_min_valid:
            needs.append(f"{p.tl1_min_valid - standing.valid_submissions} more valid submission(s)")
        if standing.rejected_submissions:
            needs.append("no rejected submission")
        if standing.strikes:
            needs.append("no strike")
    elif target == 2:
        if standing.age_days < p.tl2_min_age_days:
            needs.append(f"an account at least {p.tl2_min_age_days:g} days old")
        if standing.accepted_submissions < p.tl2_min_accepted:
            needs.append(f"{p.tl2_min_accepted - standing.accepted_submissions} more accepted submission(s)")
        if standing.accepted_models < p.tl2_min_models:
            needs.append(f"accepted submissions on {p.tl2_min_models - standing.accepted_models} more model(s)")
        if standing.reputation < p.tl2_min_reputation:
            needs.append(f"a reputation of at least {p.tl2_min_reputation:.2f}")
    else:
        if standing.age_days < p.tl3_min_age_days:
            needs.append(f"an account at least {p.tl3_min_age_days:g} days old")
        if standing.accepted_submissions < p.tl3_min_accepted:
            needs.append(f"{p.tl3_min_accepted - standing.accepted_submissions} more accepted submission(s)")
        if standing.reputation < p.tl3_min_reputation:
            needs.append(f"a reputation of at least {p.tl3_min_reputation:.2f}")
        if not standing.tl3_granted:
            needs.append("a moderator's grant")
    return needs
