"""Judging a submission 72 h after it arrived, and a vote 7 days after it was cast.

Both look only at what the contributor said: the flows a submission reported, the flow a
vote named. Flows the contributor did not report are not inputs at all, so an observer who
saw only part of a device's behaviour, all of it true, is judged on that part alone
(reputation rewards precision, not recall).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from .params import DEFAULT_TRUST_PARAMS, TrustParams

Verdict = Literal["agree", "disagree"]

# Consensus flow states (profiles.models.ConsensusFlow.State); None: not in the consensus.
ALLOWED = "allowed"
CANDIDATE = "candidate"
REJECTED = "rejected"
DISCREPANCY = "discrepancy"
OUT = "out"


def submission_accepted(states: Iterable[str | None], params: TrustParams = DEFAULT_TRUST_PARAMS) -> bool:
    """Whether >= 80% of the submission's own flows are ALLOWED or CANDIDATE.

    `states` holds one entry per reported flow. A submission with no flows is never
    accepted: there is nothing it was right about.
    """
    total = good = 0
    for state in states:
        total += 1
        good += state in (ALLOWED, CANDIDATE)
    return total > 0 and good >= params.acceptance_share * total - 1e-9


def vote_verdict(value: int, state: str | None) -> Verdict | None:
    """How a vote compares with its flow's state 7 days later.

    +1 agrees with ALLOWED, -1 with REJECTED or left out (OUT, or no row: the crowd did
    not keep the flow); the opposite vote disagrees. CANDIDATE (the crowd has not decided)
    and DISCREPANCY (the crowd and the manufacturer disagree) judge neither way: the vote
    is marked judged with no event, since the judgement happens once, at 7 days.
    """
    if value not in (1, -1):
        raise ValueError(f"a vote is +1 or -1, not {value!r}")
    if state == ALLOWED:
        return "agree" if value == 1 else "disagree"
    if state in (REJECTED, OUT, None):
        return "agree" if value == -1 else "disagree"
    if state in (CANDIDATE, DISCREPANCY):
        return None
    raise ValueError(f"unknown flow state {state!r}")
