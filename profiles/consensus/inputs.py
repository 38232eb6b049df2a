"""What the consensus engine is given: frozen snapshots, built by the caller from the database.

Identifiers are strings (pass `str(pk)`), so that every list sorts one way. Datetimes must
be timezone-aware. Collections may come in any order and with exact duplicates; two
different records with one id are an error.

Firmware scopes: a vote or a moderator decision names one firmware version or `None` (all
firmware); a manufacturer profile or statement names a set of versions or `None` (all).
A scope applies to a consensus when it is `None` or contains the consensus' resolved
firmware (see `ConsensusInput.resolved_firmware`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from profiles.mud.flows import Flow

from .params import DEFAULT_PARAMS, ConsensusParams

UNKNOWN_FIRMWARE = "unknown"
LATEST = "latest"

# The states a freeze holds: the crowd's own. DISCREPANCY and a manufacturer's ALLOWED
# belong to rule 6.1, which comes before any freeze.
HELD_STATES = frozenset({"ALLOWED", "CANDIDATE", "REJECTED", "OUT"})

DecisionKind = Literal["reject", "approve", "freeze"]
Verdict = Literal["allow", "reject"]


def _require_aware(name: str, value: datetime) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")


@dataclass(frozen=True, slots=True)
class ContributorSnapshot:
    """A contributor as the nightly reputation job left it: the engine reads, never computes, these."""

    id: str
    trust_level: int
    reputation: float
    group: str
    suspended: bool = False
    is_moderator: bool = False

    def __post_init__(self) -> None:
        if self.trust_level not in (0, 1, 2, 3):
            raise ValueError(f"contributor {self.id}: trust level {self.trust_level} outside 0..3")
        if not 0.0 <= self.reputation <= 1.0:
            raise ValueError(f"contributor {self.id}: reputation {self.reputation} outside [0, 1]")


@dataclass(frozen=True, slots=True)
class Observation:
    """One active submission's flows. `firmware` None or "unknown" means the observer did not know it."""

    submission_id: str
    contributor_id: str
    firmware: str | None
    last_seen: datetime
    window_hours: float
    flows: frozenset[Flow]
    # The observer's region (a UN M49 sub-region), or None when the submission named no country.
    region: str | None = None

    def __post_init__(self) -> None:
        _require_aware(f"observation {self.submission_id}: last_seen", self.last_seen)
        if not self.window_hours >= 0:
            raise ValueError(f"observation {self.submission_id}: negative window")
        if not isinstance(self.flows, frozenset):
            object.__setattr__(self, "flows", frozenset(self.flows))

    @property
    def known_firmware(self) -> str | None:
        return None if self.firmware in (None, UNKNOWN_FIRMWARE) else self.firmware


@dataclass(frozen=True, slots=True)
class Vote:
    id: str
    contributor_id: str
    flow_key: str
    value: int
    firmware: str | None = None

    def __post_init__(self) -> None:
        if self.value not in (1, -1):
            raise ValueError(f"vote {self.id}: value must be +1 or -1")


@dataclass(frozen=True, slots=True)
class ModeratorDecision:
    """`reject` makes the flow REJECTED; `approve` is the trusted approval an H flow needs;
    `freeze` holds the flow's state (params 2026-11-28; before, it held the flow out of
    ALLOWED) until a moderator lifts it."""

    id: str
    kind: DecisionKind
    flow_key: str
    firmware: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in ("reject", "approve", "freeze"):
            raise ValueError(f"moderator decision {self.id}: unknown kind {self.kind!r}")


@dataclass(frozen=True, slots=True)
class ManufacturerProfile:
    """A manufacturer's MUD file for this model. Only a valid one has any effect: verified
    signature, pinned certificate, neither withdrawn nor superseded. Among the valid ones that
    cover a firmware, the newest (issued_at, then id) wins, so an older one changes nothing."""

    id: str
    flows: frozenset[Flow]
    firmware: frozenset[str] | None
    issued_at: datetime
    signature_valid: bool
    certificate_pinned: bool
    withdrawn: bool = False
    superseded: bool = False

    def __post_init__(self) -> None:
        _require_aware(f"manufacturer profile {self.id}: issued_at", self.issued_at)
        if not isinstance(self.flows, frozenset):
            object.__setattr__(self, "flows", frozenset(self.flows))
        if self.firmware is not None and not isinstance(self.firmware, frozenset):
            object.__setattr__(self, "firmware", frozenset(self.firmware))

    @property
    def valid(self) -> bool:
        return self.signature_valid and self.certificate_pinned and not self.withdrawn and not self.superseded

    def covers(self, firmware: str | None) -> bool:
        return self.firmware is None or (firmware is not None and firmware in self.firmware)


@dataclass(frozen=True, slots=True)
class ManufacturerStatement:
    """A signed per-flow allow/reject by a claimed manufacturer, for firmware no profile covers.
    `valid` is the caller's verdict on its signature and the claim."""

    id: str
    flow: Flow
    verdict: Verdict
    firmware: frozenset[str] | None
    valid: bool

    def __post_init__(self) -> None:
        if self.verdict not in ("allow", "reject"):
            raise ValueError(f"manufacturer statement {self.id}: unknown verdict {self.verdict!r}")
        if self.firmware is not None and not isinstance(self.firmware, frozenset):
            object.__setattr__(self, "firmware", frozenset(self.firmware))

    def covers(self, firmware: str | None) -> bool:
        return self.firmware is None or (firmware is not None and firmware in self.firmware)


@dataclass(frozen=True, slots=True)
class ModelContext:
    """What the risk classes and firmware factors need to know about the model.

    `manufacturer_domains`: verified domains and authorities of verified manufacturer MUD
    URLs (any host: each is reduced to its registrable domain). `domain_first_seen`: keyed
    by registrable domain; a domain missing from it counts as first seen at `as_of` (new).
    `firmware_order`: every known firmware of the model, oldest first, without "unknown".
    """

    manufacturer_domains: frozenset[str] = frozenset()
    domain_first_seen: Mapping[str, datetime] = field(default_factory=dict)
    firmware_order: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.manufacturer_domains, frozenset):
            object.__setattr__(self, "manufacturer_domains", frozenset(self.manufacturer_domains))
        object.__setattr__(self, "firmware_order", tuple(self.firmware_order))
        if len(set(self.firmware_order)) != len(self.firmware_order):
            raise ValueError("firmware_order repeats a version")
        if UNKNOWN_FIRMWARE in self.firmware_order or LATEST in self.firmware_order:
            raise ValueError("firmware_order must not contain 'unknown' or 'latest'")
        for domain, seen in self.domain_first_seen.items():
            _require_aware(f"domain_first_seen[{domain}]", seen)


_SEQUENCES = (
    "contributors",
    "observations",
    "votes",
    "moderator_decisions",
    "manufacturer_profiles",
    "manufacturer_statements",
)


@dataclass(frozen=True, slots=True)
class ConsensusInput:
    """Everything one consensus of (model, firmware) depends on.

    `firmware` is a version of `context.firmware_order` or "latest": the newest version in
    that order (observations of older versions then count at 0.5 ** k, "unknown" at 0.5).
    With an empty order, "latest" resolves to no version: only unknown-firmware observations
    (at 0.5) and all-firmware scopes apply. `condition_since` is the previous run's hold
    state for this (model, firmware), as returned in `ConsensusResult.condition_since`.
    """

    model_id: str
    firmware: str
    as_of: datetime
    context: ModelContext
    contributors: tuple[ContributorSnapshot, ...]
    observations: tuple[Observation, ...]
    votes: tuple[Vote, ...] = ()
    moderator_decisions: tuple[ModeratorDecision, ...] = ()
    manufacturer_profiles: tuple[ManufacturerProfile, ...] = ()
    manufacturer_statements: tuple[ManufacturerStatement, ...] = ()
    condition_since: Mapping[str, datetime] = field(default_factory=dict)
    params: ConsensusParams = DEFAULT_PARAMS
    # The previous consensus' state of flows (by key), as ConsensusResult states: what a
    # freeze holds. Only frozen flows read it; callers may pass just those.
    previous_states: Mapping[str, str] = field(default_factory=dict)
    # A regional variant: observations from this region count in full, the others (and those
    # of no known region) at `params.region_other_factor`. None is the global consensus.
    region: str | None = None

    def __post_init__(self) -> None:
        _require_aware("as_of", self.as_of)
        for name in _SEQUENCES:
            object.__setattr__(self, name, tuple(getattr(self, name)))
        for key, since in self.condition_since.items():
            _require_aware(f"condition_since[{key}]", since)
        for key, state in self.previous_states.items():
            if state not in HELD_STATES:
                raise ValueError(f"previous_states[{key}]: {state!r} is not a state a freeze can hold")
        if self.firmware == UNKNOWN_FIRMWARE:
            raise ValueError("a consensus is for a firmware version or 'latest', not 'unknown'")
        if self.firmware != LATEST and self.firmware not in self.context.firmware_order:
            raise ValueError(f"firmware {self.firmware!r} is not in the model's firmware order")
        known = set(self.context.firmware_order)
        for obs in self.observations:
            if obs.known_firmware is not None and obs.known_firmware not in known:
                raise ValueError(f"observation {obs.submission_id}: firmware {obs.firmware!r} is not in the order")

    @property
    def resolved_firmware(self) -> str | None:
        if self.firmware != LATEST:
            return self.firmware
        return self.context.firmware_order[-1] if self.context.firmware_order else None
