"""Every number of docs/consensus.md, in one versioned, immutable parameter set.

A consensus records `params.version`; the input digest covers every field, so a changed
value under an unchanged version still changes the digest. Settings that override a value
must also give the set a new version string (`dataclasses.replace(DEFAULT_PARAMS, ...)`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal

from profiles.mud import resolvers

RiskClass = Literal["V", "T", "H"]
RISK_CLASSES: tuple[RiskClass, ...] = ("V", "T", "H")

# Public DNS / DoH resolvers (the list lives with the codec, which warns about them too). A
# device that talks to one of them bypasses the gateway's resolver (and with DoH, its
# visibility), so such a flow is high risk whoever asks for it. Names match themselves and
# their subdomains. A change of the list is a change of parameters: give them a new version.
PUBLIC_RESOLVER_NAMES: frozenset[str] = resolvers.PUBLIC_RESOLVER_NAMES
PUBLIC_RESOLVER_ADDRESSES: frozenset[str] = resolvers.PUBLIC_RESOLVER_ADDRESSES


@dataclass(frozen=True, slots=True)
class ClassParams:
    """The numbers that depend on a flow's risk class."""

    prior_alpha: float
    prior_beta: float
    # Dilution floor for the Wilson bound; None means the class has no Wilson condition (V).
    phi: float | None
    hold_hours: float
    needs_approval: bool
    # Groups with support from a TL2+ member (an observation or an up-vote) that rule 6.4
    # needs, whatever the TL0/TL1 numbers: low trust levels corroborate, they never decide.
    min_trusted_groups: int = 0


@dataclass(frozen=True, slots=True)
class ConsensusParams:
    version: str = "2026-11-1"

    # Trust-level weights towards ALLOWED (docs/consensus.md, "Contributors").
    tl0_weight: float = 0.0
    tl0_candidate_weight: float = 0.1
    tl1_reputation_factor: float = 0.5
    tl2_reputation_factor: float = 1.0
    tl3_weight: float = 1.0

    # Step 1: multiplier of an observation.
    age_half_life_days: float = 365.0
    firmware_older_factor: float = 0.5
    firmware_max_older: int = 2
    firmware_unknown_factor: float = 0.5
    # The unknown-firmware factor when the scope resolves to no known firmware at all: there
    # is then nothing an observation could have named better, so it counts in full.
    firmware_unknown_factor_without_known: float = 0.5
    # A regional variant weighs an observation from another region (or from no known one)
    # like one of a firmware one version older: half.
    region_other_factor: float = 0.5

    # Step 2-3: support, opposition.
    group_cap: float = 1.0
    upvote_factor: float = 0.5
    min_vote_level: int = 2
    min_approval_level: int = 3
    # The lowest trust level whose support counts towards ClassParams.min_trusted_groups.
    trusted_level: int = 2

    # Step 4: exposure.
    window_normaliser_hours: float = 168.0
    # The lowest trust level whose observations count towards the exposure N_exp. The
    # crowd's silence about a flow weighs against it as opposition does, and opposition
    # (a down-vote) takes a TL2+ member; 0 is the first parameter sets' meaning.
    exposure_min_level: int = 0

    # Step 5: statistics.
    lb_percentile: float = 0.10
    wilson_z: float = 1.2816

    # Step 6: state.
    opposition_min: float = 3.0
    opposition_ratio: float = 2.0
    min_groups: int = 2
    lb_threshold: float = 0.40
    # Once a flow's rule-6.4 conditions hold, they keep holding while LB stays at or above
    # this (None: lb_threshold). Without it, age decay alone flips a flow at the threshold
    # in and out of the served file (three full observers of a T flow fall below 2.81 after
    # 35 days), and every flip is a new version for every gateway.
    lb_keep_threshold: float | None = None
    candidate_threshold: float = 0.3
    # A freeze holds a flow's previous state (no promotion, no demotion) instead of taking
    # it out of ALLOWED; False is the first parameter set's meaning.
    freeze_holds_state: bool = False

    vendor: ClassParams = ClassParams(prior_alpha=1.0, prior_beta=1.0, phi=None, hold_hours=0.0, needs_approval=False)
    third_party: ClassParams = ClassParams(
        prior_alpha=1.0, prior_beta=2.0, phi=0.01, hold_hours=24.0, needs_approval=False
    )
    high_risk: ClassParams = ClassParams(
        prior_alpha=1.0, prior_beta=5.0, phi=0.05, hold_hours=72.0, needs_approval=True
    )

    # Risk classification.
    allowed_ports: frozenset[int] = frozenset({53, 67, 68, 123, 443, 853, 5353, 8883})
    new_domain_days: float = 30.0
    public_resolver_names: frozenset[str] = field(default=PUBLIC_RESOLVER_NAMES)
    public_resolver_addresses: frozenset[str] = field(default=PUBLIC_RESOLVER_ADDRESSES)

    def for_class(self, risk_class: str) -> ClassParams:
        if risk_class == "V":
            return self.vendor
        if risk_class == "T":
            return self.third_party
        if risk_class == "H":
            return self.high_risk
        raise ValueError(f"unknown risk class {risk_class!r}")


# The first published set (docs/consensus.md as it started). Kept so its rows still reproduce.
PARAMS_2026_11_1 = ConsensusParams()

# Issue 9, measured on real data and attacks (docs/consensus.md gives each change its reason):
# unknown firmware counts in full where no firmware is known; a T flow needs one TL2+ group
# and an H flow two; the T dilution floor is 0.05 (as H's); a freeze holds a flow's state;
# conditions that hold keep holding down to LB 0.35; regional variants weigh others at 0.5.
PARAMS_2026_11_28 = ConsensusParams(
    version="2026-11-28",
    firmware_unknown_factor_without_known=1.0,
    freeze_holds_state=True,
    lb_keep_threshold=0.35,
    third_party=ClassParams(
        prior_alpha=1.0, prior_beta=2.0, phi=0.05, hold_hours=24.0, needs_approval=False, min_trusted_groups=1
    ),
    high_risk=ClassParams(
        prior_alpha=1.0, prior_beta=5.0, phi=0.05, hold_hours=72.0, needs_approval=True, min_trusted_groups=2
    ),
)

# Issue 9, the crowd's silence: only TL2+ members' observations make the exposure that the
# Wilson condition weighs a flow against. In 2026-11-28, 120 aged TL1 accounts (R = 0.5),
# each submitting the model without a flow, took out of the served file a T flow that three
# TL3 members had seen: silence decided what a vote of theirs could not.
PARAMS_2026_11_28_2 = replace(PARAMS_2026_11_28, version="2026-11-28.2", exposure_min_level=2)

DEFAULT_PARAMS = PARAMS_2026_11_28_2

# Every parameter set a stored consensus may name, so a provenance row can be re-derived
# from its `params_version` alone. Add a new set here; never change a published one.
PARAMS_BY_VERSION: dict[str, ConsensusParams] = {
    params.version: params for params in (PARAMS_2026_11_1, PARAMS_2026_11_28, PARAMS_2026_11_28_2)
}


def params_for_version(version: str) -> ConsensusParams:
    try:
        return PARAMS_BY_VERSION[version]
    except KeyError:
        raise ValueError(f"unknown consensus parameter version {version!r}") from None
