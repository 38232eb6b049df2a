"""Reputation and trust levels as pure functions (CONSENSUS.md, "Contributors").

No Django here: the services in `profiles/services/reputation.py` read the ledger and the
submission counts, call these functions and write the results back.
"""

from .levels import Standing, evaluate_level, promotion_level, retains
from .params import DEFAULT_TRUST_PARAMS, TrustParams
from .reputation import (
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
from .verdicts import Verdict, submission_accepted, vote_verdict

__all__ = [
    "DEFAULT_TRUST_PARAMS",
    "EMPTY",
    "Event",
    "GainsToday",
    "Request",
    "Score",
    "Standing",
    "TrustParams",
    "Verdict",
    "advance",
    "apply_caps",
    "capped_gain",
    "decay",
    "evaluate_level",
    "fold",
    "promotion_level",
    "reputation",
    "retains",
    "same_score",
    "submission_accepted",
    "utc_day_bounds",
    "vote_verdict",
]
