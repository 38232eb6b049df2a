"""The reputation and trust-level numbers of CONSENSUS.md, in one versioned, immutable set.

`profiles.consensus.params` holds only what the merge itself reads (the weight of each
trust level); everything the ledger and the nightly job need is here. A changed value
needs a new `version` (`dataclasses.replace(DEFAULT_TRUST_PARAMS, version=..., ...)`).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class TrustParams:
    version: str = "2026-11-trust-1"

    # R = (r + prior_r) / (r + s + prior_r + prior_s): 0.5 with no events.
    prior_r: float = 1.0
    prior_s: float = 1.0
    # r and s shrink by 5% every 30 days, continuously: x 0.95 ** (age_days / 30).
    decay_per_period: float = 0.95
    decay_period_days: float = 30.0
    strikes_to_suspend: int = 2

    # Ledger events (points before caps).
    flow_confirmed_r: float = 1.0
    submission_accepted_r: float = 0.25
    flow_rejected_s: float = 2.0
    malicious_s: float = 10.0
    manufacturer_rejected_s: float = 1.0
    vote_agreed_r: float = 0.1
    vote_disagreed_s: float = 0.1

    # Caps, per contributor and UTC day of the event.
    daily_gain_cap_r: float = 10.0
    flow_confirmations_per_model_per_day: int = 5

    # When submissions and votes are judged.
    acceptance_age_hours: float = 72.0
    acceptance_share: float = 0.80
    vote_judge_age_days: float = 7.0

    # Trust levels (promotion bars; a level is kept while its bars hold at demotion_margin).
    tl1_min_age_days: float = 3.0
    tl1_min_valid: int = 3
    tl2_min_age_days: float = 30.0
    tl2_min_accepted: int = 10
    tl2_min_models: int = 3
    tl2_min_reputation: float = 0.70
    tl3_min_age_days: float = 90.0
    tl3_min_accepted: int = 50
    tl3_min_reputation: float = 0.85
    demotion_margin: float = 0.90


DEFAULT_TRUST_PARAMS = TrustParams()
