"""Flows and metadata out as canonical RFC 8520 JSON: same input, same bytes.

ACL and ACE names are derived from the flows, never carried over from an input file: one
ACL per direction and family ("from-ipv4", "to-ipv6", "from-ipv4-eth" for a mixed one), and
ACE names from a hash of the flow key, so a flow keeps its name from one version of a
profile to the next and text diffs of published files stay small.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Any

from .flows import Flow, PortMatch
from .leaves import EXTRA_LEAVES, FAMILY_ETHERTYPE, GATEWAY_URN, ICMP_PROTOCOL, INITIATED, L4_PROTOCOL
from .meta import PLACEHOLDER_MUD_URL, MudMeta
from .values import ValueProblem, canonical_host, canonical_prefix, format_date

_L4_BY_PROTOCOL = {6: "tcp", 17: "udp"}
_FAMILY_ORDER = {"ipv4": 0, "ipv6": 1, "eth": 2}
_ACL_TYPE = {
    ("ipv4", False): "ipv4-acl-type",
    ("ipv6", False): "ipv6-acl-type",
    ("eth", False): "eth-acl-type",
    ("ipv4", True): "mixed-eth-ipv4-acl-type",
    ("ipv6", True): "mixed-eth-ipv6-acl-type",
}
_PEER_SIDE = {"from-device": ("destination", "dst"), "to-device": ("source", "src")}
# osMUD, the OpenWrt MUD manager, reads at most this many ACEs into an ACL and silently drops
# the rest (a fixed array); a longer ACL is written as several, listed in order in the policy.
MAX_ACES_PER_ACL = 50


def emit(meta: MudMeta, flows: Iterable[Flow], *, max_aces_per_acl: int = MAX_ACES_PER_ACL) -> bytes:
    """The canonical MUD file for `flows`; raises ValueError for a flow no MUD file can express.

    An ACL of more than `max_aces_per_acl` ACEs is split into "<name>", "<name>-2", ... in
    order: still one policy, and no ACL longer than a deployed manager keeps."""
    groups: dict[tuple[str, str, bool], list[Flow]] = {}
    for flow in set(flows):
        check_emittable(flow)
        groups.setdefault((flow.direction, flow.family, _is_mixed(flow)), []).append(flow)

    acls: list[dict[str, Any]] = []
    policy: dict[str, list[dict[str, str]]] = {"from-device": [], "to-device": []}
    for direction, family, mixed in sorted(groups, key=lambda g: (g[0], _FAMILY_ORDER[g[1]], g[2])):
        short = "from" if direction == "from-device" else "to"
        name = f"{short}-{family}" + ("-eth" if mixed else "")
        aces: list[dict[str, Any]] = []
        used: set[str] = set()
        for flow in sorted(groups[direction, family, mixed], key=lambda f: f.key):
            ace_name = f"{short}-{hashlib.sha256(flow.key.encode()).hexdigest()[:16]}"
            suffix = 2
            while ace_name in used:  # a 64-bit prefix collision: keep names unique anyway
                ace_name = f"{ace_name[:19]}-{suffix}"
                suffix += 1
            used.add(ace_name)
            aces.append({"name": ace_name, "matches": _matches(flow, mixed), "actions": {"forwarding": "accept"}})
        for part, start in enumerate(range(0, len(aces), max_aces_per_acl), start=1):
            part_name = name if part == 1 else f"{name}-{part}"
            policy[direction].append({"name": part_name})
            chunk = aces[start : start + max_aces_per_acl]
            acls.append({"name": part_name, "type": _ACL_TYPE[family, mixed], "aces": {"ace": chunk}})

    mud: dict[str, Any] = {
        "mud-version": 1,
        "mud-url": meta.mud_url or PLACEHOLDER_MUD_URL,
        "last-update": format_date(meta.last_update),
    }
    if meta.mud_signature is not None:
        mud["mud-signature"] = meta.mud_signature
    if meta.cache_validity is not None:
        mud["cache-validity"] = meta.cache_validity
    mud["is-supported"] = meta.is_supported
    for key, value in (
        ("systeminfo", meta.systeminfo),
        ("mfg-name", meta.mfg_name),
        ("model-name", meta.model_name),
        ("firmware-rev", meta.firmware_rev),
        ("software-rev", meta.software_rev),
        ("documentation", meta.documentation),
    ):
        if value is not None:
            mud[key] = value
    if meta.extensions:
        mud["extensions"] = list(meta.extensions)
    for direction in ("from-device", "to-device"):
        if policy[direction]:
            mud[f"{direction}-policy"] = {"access-lists": {"access-list": policy[direction]}}
    document: dict[str, Any] = {"ietf-mud:mud": mud}
    if acls:
        document["ietf-access-control-list:acls"] = {"acl": acls}
    return (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def _is_mixed(flow: Flow) -> bool:
    return flow.family != "eth" and (flow.ethertype is not None or any(p.startswith("eth/") for p, _ in flow.extra))


def _port(port: PortMatch) -> dict[str, Any]:
    if port.operator == "range":
        return {"lower-port": port.lower, "upper-port": port.upper}
    return {"operator": port.operator, "port": port.lower}


def _leaf_value(container: str, leaf: str, value: str) -> Any:
    spec = EXTRA_LEAVES.get(container, {}).get(leaf)
    return int(value) if spec is not None and spec[0] == "int" else value


def _matches(flow: Flow, mixed: bool) -> dict[str, Any]:
    side, dns_side = _PEER_SIDE[flow.direction]
    matches: dict[str, Any] = {}
    containers: dict[str, dict[str, Any]] = {}
    if flow.family == "eth" or mixed:
        eth = containers.setdefault("eth", {})
        if flow.peer_kind == "mac":
            mac, _, mask = flow.peer.partition("/")
            eth[f"{side}-mac-address"] = mac
            if mask:
                eth[f"{side}-mac-address-mask"] = mask
        if flow.ethertype is not None:
            eth["ethertype"] = flow.ethertype
    if flow.family != "eth":
        l3 = containers.setdefault(flow.family, {})
        if flow.protocol is not None:
            l3["protocol"] = flow.protocol
        if flow.peer_kind == "dnsname":
            l3[f"ietf-acldns:{dns_side}-dnsname"] = flow.peer
        elif flow.peer_kind == "network":
            l3[f"{side}-{flow.family}-network"] = flow.peer
        if flow.network is not None:
            l3[f"{side}-{flow.family}-network"] = flow.network
        l4_name = _L4_BY_PROTOCOL.get(flow.protocol or -1)
        if flow.protocol == ICMP_PROTOCOL[flow.family]:
            l4_name = "icmp"
        if l4_name is not None:
            l4 = containers.setdefault(l4_name, {})
            if flow.src_port is not None:
                l4["source-port"] = _port(flow.src_port)
            if flow.dst_port is not None:
                l4["destination-port"] = _port(flow.dst_port)
            if flow.initiated is not None:
                l4[INITIATED] = flow.initiated
            if flow.icmp_type is not None:
                l4["type"] = flow.icmp_type
            if flow.icmp_code is not None:
                l4["code"] = flow.icmp_code
    for path, value in flow.extra:
        container, _, leaf = path.partition("/")
        containers.setdefault(container, {})[leaf] = _leaf_value(container, leaf, value)
    for name in ("eth", "ipv4", "ipv6", "tcp", "udp", "icmp"):
        # Empty L4 containers say nothing the protocol does not; an empty L3 container in a
        # mixed ACL is kept, because it is what tells a reader the ACE is IP, not Ethernet.
        if name in containers and (containers[name] or (mixed and name == flow.family)):
            matches[name] = containers[name]
    if flow.peer_kind not in ("any", "dnsname", "network", "mac"):
        matches["ietf-mud:mud"] = {flow.peer_kind: flow.peer if flow.peer else [None]}
    return matches


def _has_ip_match(flow: Flow) -> bool:
    return (
        flow.protocol is not None
        or flow.network is not None
        or flow.peer_kind in ("dnsname", "network")
        or any(not path.startswith("eth/") for path, _ in flow.extra)
    )


def check_emittable(flow: Flow) -> None:
    """Raise ValueError unless `flow` is one that parse could have produced."""
    problem = _emit_problem(flow)
    if problem:
        raise ValueError(f"cannot emit flow {flow.key!r}: {problem}")


def _emit_problem(flow: Flow) -> str | None:
    fam = flow.family
    l4 = _L4_BY_PROTOCOL.get(flow.protocol or -1)
    if fam == "eth":
        if flow.protocol is not None or flow.network is not None or flow.peer_kind in ("dnsname", "network"):
            return "an eth flow has no IP fields"
    elif flow.peer_kind == "mac":
        return "a MAC peer needs the eth family"
    if flow.peer_kind in ("dnsname", "manufacturer"):
        try:
            if canonical_host(flow.peer) != flow.peer:
                return "the DNS name is not canonical"
        except ValueProblem as exc:
            return str(exc)
    for prefix in (flow.peer if flow.peer_kind == "network" else None, flow.network):
        if prefix is not None:
            try:
                if canonical_prefix(prefix, fam) != (prefix, False):
                    return f"{prefix} is not a canonical {fam} prefix"
            except ValueProblem as exc:
                return str(exc)
    if flow.network is not None and flow.peer_kind in ("any", "dnsname", "network", "mac"):
        return "network narrows only an abstraction peer"
    if flow.peer_kind == "controller" and flow.peer == GATEWAY_URN:
        return "the gateway controller is read as my-controller"
    if (flow.src_port or flow.dst_port) and l4 is None:
        return "ports need protocol 6 or 17"
    if flow.initiated is not None and flow.protocol != 6:
        return "direction-initiated needs tcp"
    if (flow.icmp_type is not None or flow.icmp_code is not None) and flow.protocol != ICMP_PROTOCOL.get(fam):
        return "icmp type/code need protocol 1 (ipv4) or 58 (ipv6)"
    if flow.ethertype is not None and FAMILY_ETHERTYPE.get(fam) == flow.ethertype:
        return "the ethertype is implied by the family"
    if fam != "eth" and _is_mixed(flow) and not _has_ip_match(flow):
        # Written out, its L3 container would be empty: parse reads such an ACE as Ethernet,
        # and yanglint 2.1 crashes (SIGSEGV) on an empty ipv4/ipv6 container beside eth.
        return "an IP flow with eth matches needs an IP or transport match as well"
    side, dns_side = _PEER_SIDE[flow.direction]
    device = "source" if side == "destination" else "destination"
    device_dns = "src" if dns_side == "dst" else "dst"
    for path, value in flow.extra:
        container, _, leaf = path.partition("/")
        if container == "eth":
            if leaf not in (f"{s}-mac-address{m}" for s in (side, device) for m in ("", "-mask")):
                return f"unknown extra {path}"
            if leaf.startswith(side) and fam == "eth" and flow.peer_kind in ("any", "mac"):
                return f"{path} is the peer of an eth flow"
            continue
        if container in ("ipv4", "ipv6"):
            if container != fam:
                return f"{path} in a {fam} flow"
            if leaf in (f"{device}-{fam}-network", f"ietf-acldns:{device_dns}-dnsname"):
                continue
        elif container in L4_PROTOCOL and flow.protocol != L4_PROTOCOL[container]:
            return f"{path} needs protocol {L4_PROTOCOL[container]}"
        elif container == "icmp" and flow.protocol != ICMP_PROTOCOL.get(fam):
            return f"{path} needs icmp"
        spec = EXTRA_LEAVES.get(container, {}).get(leaf)
        if spec is None:
            return f"unknown extra {path}"
        if spec[0] == "int" and not (value.isdigit() and spec[1] <= int(value) <= spec[2]):
            return f"{path}={value} is out of range"
    return None
