"""The consensus engine: pure (no Django, no database, no clock, no randomness).

`compute(ConsensusInput) -> ConsensusResult` implements steps 1-8 of
docs/consensus.md (`compute_scopes` for every firmware scope of one model at once);
`reproduce(provenance_row(decision))` re-derives one flow's decision.
"""

from .engine import compute, compute_scopes, covering_profile, input_digest
from .inputs import (
    LATEST,
    UNKNOWN_FIRMWARE,
    ConsensusInput,
    ContributorSnapshot,
    ManufacturerProfile,
    ManufacturerStatement,
    ModelContext,
    ModeratorDecision,
    Observation,
    Vote,
)
from .params import DEFAULT_PARAMS, PARAMS_BY_VERSION, ClassParams, ConsensusParams, params_for_version
from .provenance import Reproduction, provenance_row, reproduce, result_bytes
from .result import ConsensusResult, FlowDecision
from .risk import Classification, Classifier, classify
from .rules import RULES, Evidence, State
from .stats import beta_lower_bound, wilson_lower_bound
from .weights import allow_weight, candidate_weight

__all__ = [
    "DEFAULT_PARAMS",
    "LATEST",
    "PARAMS_BY_VERSION",
    "RULES",
    "UNKNOWN_FIRMWARE",
    "ClassParams",
    "Classification",
    "Classifier",
    "ConsensusInput",
    "ConsensusParams",
    "ConsensusResult",
    "ContributorSnapshot",
    "Evidence",
    "FlowDecision",
    "ManufacturerProfile",
    "ManufacturerStatement",
    "ModelContext",
    "ModeratorDecision",
    "Observation",
    "Reproduction",
    "State",
    "Vote",
    "allow_weight",
    "beta_lower_bound",
    "candidate_weight",
    "classify",
    "compute",
    "compute_scopes",
    "covering_profile",
    "input_digest",
    "params_for_version",
    "provenance_row",
    "reproduce",
    "result_bytes",
    "wilson_lower_bound",
]
