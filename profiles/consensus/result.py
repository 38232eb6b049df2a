"""What the consensus engine returns: one row per flow, with the provenance of its decision."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from profiles.mud.flows import Flow

from .rules import Evidence, State
from .weights import MILLI


@dataclass(frozen=True, slots=True)
class FlowDecision:
    """One flow's state and everything that decided it (step 7).

    Support, opposition and exposure are integer milli-units (`a_milli` is A_f x 1000);
    `lb` and `wilson` are the floats the rules compared. `as_of` and `params_version` make
    the row self-contained: `provenance.reproduce` re-derives `state` and `rule` from it.
    Flows the rules leave out are kept with state "OUT" (rule 6.6), so their raw support
    stays visible.
    """

    key: str
    flow: Flow
    state: State
    rule: str
    risk_class: str
    risk_reason: str
    evidence: Evidence
    lb: float
    wilson: float
    conditions_met: bool
    condition_since: datetime | None
    submission_ids: tuple[str, ...]
    vote_ids: tuple[str, ...]
    decision_ids: tuple[str, ...]
    statement_ids: tuple[str, ...]
    profile_id: str | None
    as_of: datetime
    params_version: str

    @property
    def support(self) -> float:
        return self.evidence.a_milli / MILLI

    @property
    def opposition(self) -> float:
        return self.evidence.b_milli / MILLI

    @property
    def groups(self) -> int:
        return self.evidence.k

    @property
    def exposure(self) -> float:
        return self.evidence.n_milli / MILLI


@dataclass(frozen=True, slots=True)
class ConsensusResult:
    """The consensus of one (model, firmware) at `as_of`.

    `decisions` is sorted by flow key; `allowed_flows` are the ALLOWED flows in that order
    (what the served MUD file contains). `condition_since` is the hold state to pass as
    `ConsensusInput.condition_since` next time: for each flow whose rule-6.4 conditions
    hold now, since when they have held.
    """

    model_id: str
    firmware: str
    resolved_firmware: str | None
    as_of: datetime
    params_version: str
    input_digest: str
    exposure_milli: int
    profile_id: str | None
    decisions: tuple[FlowDecision, ...]
    allowed_flows: tuple[Flow, ...]
    condition_since: Mapping[str, datetime]
    region: str | None = None

    def decision(self, key: str) -> FlowDecision | None:
        for row in self.decisions:
            if row.key == key:
                return row
        return None

    def keys_in(self, state: State) -> tuple[str, ...]:
        return tuple(row.key for row in self.decisions if row.state == state)
