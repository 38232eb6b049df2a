"""Steps 1 and the weight table: how much one contributor's observation or vote counts.

The trust-level table of docs/consensus.md lives here and nowhere else.
"""

from __future__ import annotations

from datetime import datetime

from .inputs import ContributorSnapshot
from .params import ConsensusParams

MILLI = 1000


def allow_weight(contributor: ContributorSnapshot, params: ConsensusParams) -> float:
    """w towards ALLOWED: TL0 0, TL1 0.5 x R, TL2 R, TL3 1.0; a suspended account 0."""
    if contributor.suspended:
        return 0.0
    level = contributor.trust_level
    if level == 0:
        return params.tl0_weight
    if level == 1:
        return params.tl1_reputation_factor * contributor.reputation
    if level == 2:
        return params.tl2_reputation_factor * contributor.reputation
    return params.tl3_weight


def candidate_weight(contributor: ContributorSnapshot, params: ConsensusParams) -> float:
    """w in the CANDIDATE recount (rule 6.5): as towards ALLOWED, but TL0 counts 0.1."""
    if contributor.suspended:
        return 0.0
    if contributor.trust_level == 0:
        return params.tl0_candidate_weight
    return allow_weight(contributor, params)


def age_factor(last_seen: datetime, as_of: datetime, params: ConsensusParams) -> float:
    """2^(-age_days / half-life). An observation last seen after as_of (clock skew) counts as new."""
    age_days = max(0.0, (as_of - last_seen).total_seconds() / 86400.0)
    return float(2.0 ** (-age_days / params.age_half_life_days))


def firmware_factor(
    firmware: str | None, target: str | None, position: dict[str, int], params: ConsensusParams
) -> float:
    """1 for the target firmware, 0.5^k for k <= 2 versions older, 0.5 for unknown, else 0.

    `firmware` None means unknown; `target` None means the scope resolves to no known
    firmware, where an unknown-firmware observation is as informative as any (factor 1
    from params 2026-11-28 on).
    """
    if firmware is None:
        if target is None:
            return params.firmware_unknown_factor_without_known
        return params.firmware_unknown_factor
    if target is None:
        return 0.0
    if firmware == target:
        return 1.0
    older_by = position[target] - position[firmware]
    if 1 <= older_by <= params.firmware_max_older:
        return float(params.firmware_older_factor**older_by)
    return 0.0


def to_milli(value: float) -> int:
    """The one rounding of the engine: a non-negative float to integer milli-units (half to even)."""
    return round(value * MILLI)
