"""Reads of the catalogue and its consensus, shared by the API and the web pages."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Prefetch, QuerySet

from profiles import mud
from profiles.consensus.bar import flow_bar
from profiles.consensus.params import params_for_version
from profiles.errors import DomainError, NotFound, problem
from profiles.models import LATEST, ConsensusFlow, ConsensusProfile, DeviceModel, FirmwareVersion
from profiles.regions import region_resolve, variant_scope
from profiles.selectors.manufacturers import decision_source


def device_model_queryset() -> QuerySet[DeviceModel]:
    """Device models with what a listing shows: the manufacturer and the firmware versions."""
    return DeviceModel.objects.select_related("manufacturer").prefetch_related(
        Prefetch("firmware_versions", queryset=FirmwareVersion.objects.order_by("first_seen", "id"))
    )


def catalogue_queryset() -> QuerySet[DeviceModel]:
    """The models a catalogue lists (the page and the API's list alike): every model but those
    merged into another (the target answers to their names). Withdrawn models stay listed,
    marked by `withdrawn_at`; their pages say why nothing is served."""
    return device_model_queryset().filter(merged_into__isnull=True)


def votes_refused(*, device_model: DeviceModel, scope: str) -> str:
    """Why votes on this model's `scope` (`latest` or a firmware version) are not taken, or ""."""
    if device_model.merged_into_id is not None:
        return "merged"
    if device_model.withdrawn_at is not None:
        return "withdrawn"
    if scope in device_model.withdrawn_scopes:
        return "scope_withdrawn"
    return ""


def device_model_get(*, manufacturer_slug: str, model_slug: str) -> DeviceModel:
    found = device_model_queryset().filter(manufacturer__slug=manufacturer_slug, slug=model_slug).first()
    if found is None:
        raise NotFound(f"No device model {manufacturer_slug}/{model_slug} is known.", code="unknown_device_model")
    return found


def firmware_scope_check(*, device_model: DeviceModel, scope: str | None) -> str:
    """`latest` or a known firmware version of the model; anything else is a 400."""
    scope = scope or LATEST
    if scope != LATEST and not FirmwareVersion.objects.filter(device_model=device_model, version=scope).exists():
        raise DomainError(
            "invalid_input",
            "Unknown firmware for this model.",
            problems=[problem("unknown_firmware", "/firmware", f"{scope!r} is not a known firmware of this model")],
        )
    return scope


# A regional variant of a scope is stored under `<scope>@<region slug>` (UN M49 sub-regions).
VARIANT_SEPARATOR = "@"


def regional_variants(*, device_model: DeviceModel, scope: str) -> list[str]:
    """The region slugs that have a current regional variant of `scope`, sorted."""
    prefix = scope + VARIANT_SEPARATOR
    keys = ConsensusProfile.objects.filter(device_model=device_model, is_current=True, scope__startswith=prefix)
    return sorted(key.removeprefix(prefix) for key in keys.values_list("scope", flat=True))


def variant_scope_check(*, device_model: DeviceModel, scope: str, region: str | None) -> str:
    """The scope key to read: `scope` itself, or its variant for `region` (a 400 if it has none)."""
    if not region:
        return scope
    if region not in regional_variants(device_model=device_model, scope=scope):
        raise DomainError(
            "invalid_input",
            "Unknown region for this model.",
            problems=[problem("unknown_region", "/region", f"{scope!r} has no regional variant {region!r}")],
        )
    return scope + VARIANT_SEPARATOR + region


def region_scope_resolve(*, device_model: DeviceModel, scope: str, region: str | None) -> str:
    """What the API reads for `?region=` (a country code or a region slug), as gateways are
    served: the scope's variant for that region when the model has one, else `scope` itself.
    Neither a country nor a region: a 400 at /region."""
    if region is None:
        return scope
    slug = region_resolve(region)
    if slug is None:
        raise DomainError(
            "invalid_input",
            "Unknown region.",
            problems=[
                problem(
                    "unknown_region", "/region", "not an ISO 3166-1 alpha-2 country code nor a UN M49 sub-region slug"
                )
            ],
        )
    key = variant_scope(scope, slug)
    exists = ConsensusProfile.objects.filter(device_model=device_model, scope=key, is_current=True).exists()
    return key if exists else scope


def consensus_profiles(*, device_model: DeviceModel, scope: str) -> QuerySet[ConsensusProfile]:
    return ConsensusProfile.objects.filter(device_model=device_model, scope=scope)


def consensus_current_get(*, device_model: DeviceModel, scope: str) -> ConsensusProfile | None:
    return consensus_profiles(device_model=device_model, scope=scope).filter(is_current=True).first()


def consensus_flows(*, profile: ConsensusProfile) -> QuerySet[ConsensusFlow]:
    return profile.flows.select_related("flow").order_by("flow__key")


@dataclass(frozen=True)
class ConsensusDiff:
    a: int
    b: int
    added: list[str]
    removed: list[str]
    meta_changes: dict[str, list[str]]


def consensus_diff(*, device_model: DeviceModel, scope: str, a: int, b: int) -> ConsensusDiff:
    """What changed in the served file between versions `a` and `b` of one scope."""
    profiles = {
        p.version: p for p in consensus_profiles(device_model=device_model, scope=scope).filter(version__in=[a, b])
    }
    missing = [v for v in (a, b) if v not in profiles]
    if missing:
        raise NotFound(f"No version {missing[0]} of this consensus.")
    old = mud.parse(bytes(profiles[a].mud_bytes), mode="strict")
    new = mud.parse(bytes(profiles[b].mud_bytes), mode="strict")
    change = mud.diff(old, new)
    return ConsensusDiff(
        a=a,
        b=b,
        added=[flow.key for flow in change.added],
        removed=[flow.key for flow in change.removed],
        meta_changes={k: [str(v[0]), str(v[1])] for k, v in change.meta_changes.items()},
    )


# --- the flows of a consensus, as people read them ------------------------------------------

PROTOCOLS = {1: "ICMP", 6: "TCP", 17: "UDP", 58: "ICMPv6"}


_SOURCE_LABELS = {
    "manufacturer_profile": "manufacturer profile",
    "manufacturer_statement": "manufacturer statement",
}


def decided_by(rule: str) -> str:
    """Who decided a flow's state, in words: the crowd, a moderator, the manufacturer's signed
    profile or its statement (the API's `source`, from the same rule)."""
    source = decision_source(rule)
    return _SOURCE_LABELS.get(source, source)


def _port(spec: dict[str, Any], name: str) -> str:
    port = spec.get(name)
    if not port:
        return ""
    if port["operator"] == "range":
        return f"{port['lower']}-{port['upper']}"
    if port["operator"] == "eq":
        return str(port["lower"])
    return f"{port['operator']} {port['lower']}"


@dataclass(frozen=True)
class FlowView:
    """One decided flow with everything its row on a page shows."""

    key: str
    direction: str
    peer_kind: str
    peer: str
    protocol: str
    remote_port: str
    local_port: str
    initiated: str
    state: str
    risk_class: str
    class_reason: str
    rule: str
    decided_by: str
    support: float
    opposition: float
    groups: int
    # the support rule 6.4 asks (the keep threshold's for a flow whose conditions held)
    bar: float
    # groups with TL2+ support, and how many the class needs (T one, H two): support from
    # TL0/TL1 accounts never makes up for a missing one
    trusted_groups: int
    trusted_groups_needed: int
    # every number of rule 6.4 is met (support, groups, TL2+ groups, approval); the hold
    # and a freeze are apart
    bar_reached: bool
    lower_bound: float
    approved: bool
    frozen: bool


def flow_view(row: ConsensusFlow) -> FlowView:
    spec, prov = row.flow.spec, row.provenance
    outgoing = spec["direction"] == "from-device"
    protocol = spec.get("protocol")
    # The stored exposure is max(A, N_exp); only a larger value tells N_exp itself.
    exposure = row.exposure if row.exposure > row.support else 0.0
    params = params_for_version(str(prov.get("params_version", row.profile.params_version)))
    bar = flow_bar(
        row.risk_class,
        opposition=round(row.opposition, 3),
        exposure=round(exposure, 3),
        params=params,
        was_met=bool(prov.get("was_met")),
    )
    trusted_groups = int(prov.get("K2", 0))
    approved = bool(prov.get("approved"))
    return FlowView(
        key=row.flow.key,
        direction=spec["direction"],
        peer_kind=spec["peer_kind"],
        peer=spec.get("peer", "") or spec.get("network", ""),
        protocol="any" if protocol is None else PROTOCOLS.get(protocol, str(protocol)),
        remote_port=_port(spec, "dst_port" if outgoing else "src_port"),
        local_port=_port(spec, "src_port" if outgoing else "dst_port"),
        initiated=spec.get("initiated", "") or "",
        state=row.state,
        risk_class=row.risk_class,
        class_reason=str(prov.get("class_reason") or ""),
        rule=row.rule,
        decided_by=decided_by(row.rule),
        support=round(row.support, 2),
        opposition=round(row.opposition, 2),
        groups=row.groups,
        bar=bar.support,
        trusted_groups=trusted_groups,
        trusted_groups_needed=bar.trusted_groups,
        bar_reached=bar.reached(
            support=row.support, groups=row.groups, trusted_groups=trusted_groups, approved=approved
        ),
        lower_bound=round(row.lower_bound, 3),
        approved=approved,
        frozen=bool(prov.get("frozen")),
    )


@dataclass(frozen=True)
class ConsensusView:
    profile: ConsensusProfile | None
    served: list[FlowView]
    candidates: list[FlowView]
    discrepancies: list[FlowView]
    rejected: list[FlowView]
    left_out: int


def consensus_view_get(*, device_model: DeviceModel, scope: str) -> ConsensusView:
    """The current consensus of one scope, its flows grouped by state (served first)."""
    profile = consensus_current_get(device_model=device_model, scope=scope)
    if profile is None:
        return ConsensusView(None, [], [], [], [], 0)
    rows = [flow_view(row) for row in consensus_flows(profile=profile).select_related("profile")]
    by_state: dict[str, list[FlowView]] = {state: [] for state in ConsensusFlow.State.values}
    for view in rows:
        by_state[view.state].append(view)
    # Candidates are read by how close they are to being served.
    candidates = sorted(by_state["candidate"], key=lambda v: (-(v.support / v.bar if v.bar else 0.0), v.key))
    return ConsensusView(
        profile=profile,
        served=by_state["allowed"],
        candidates=candidates,
        discrepancies=by_state["discrepancy"],
        rejected=by_state["rejected"],
        left_out=len(by_state["out"]),
    )
