"""The native flow list: for collectors that observe flows and have no MUD file to send.

Each item names the fields of a canonical flow (see profiles.mud.flows.Flow):

    {"direction": "from-device", "family": "ipv4", "peer_kind": "dnsname",
     "peer": "api.example.com", "protocol": 6, "dst_port": 443, "initiated": "from-device"}

A port is a number (equality), {"operator": "lte"|"gte"|"eq"|"neq", "port": N} or
{"lower": N, "upper": M}. Values are normalised exactly as the MUD codec does (lower-case
IDNA host names, prefixes with host bits cleared), so a flow sent natively and the same flow
in a MUD file are one flow.

A submission's list is read as the MUD codec imports a file (`native_flows_read`): a
to-device TCP flow that names the peer's source port and no `initiated`, sent beside the
device-initiated request to that peer and port, is that request's reply and gets
`initiated: from-device`, with the warning `tcp-reply-paired` (`profiles.mud.replies`).
The reason is the codec's: a reply is not a flow the Internet may initiate, and the
pairing only narrows what the flow permits.
"""

from __future__ import annotations

from typing import Any

from profiles.errors import problem, problems_from
from profiles.mud import replies
from profiles.mud.flows import DIRECTIONS, FAMILIES, PEER_KINDS, VALUELESS_PEERS, Flow, PortMatch
from profiles.mud.values import ValueProblem, canonical_host, canonical_mac, canonical_prefix, check_peer_uri

MAX_FLOWS = 2000
_FIELDS = {
    "direction", "family", "peer_kind", "peer", "network", "protocol", "src_port", "dst_port",
    "initiated", "icmp_type", "icmp_code", "ethertype",
}  # fmt: skip
_RANGES = {"protocol": 255, "icmp_type": 255, "icmp_code": 255, "ethertype": 65535}


class _Bad(Exception):
    def __init__(self, code: str, field: str, message: str) -> None:
        super().__init__(message)
        self.code, self.field, self.message = code, field, message


def _int(item: dict[str, Any], name: str) -> int | None:
    value = item.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= _RANGES[name]:
        raise _Bad("invalid_number", name, f"{name} must be an integer in 0..{_RANGES[name]}")
    return value


def _port(item: dict[str, Any], name: str) -> PortMatch | None:
    value = item.get(name)
    if value is None:
        return None
    try:
        if isinstance(value, int) and not isinstance(value, bool):
            return PortMatch.eq(value)
        if isinstance(value, dict) and set(value) == {"lower", "upper"}:
            return PortMatch("range", _strict_int(value["lower"]), _strict_int(value["upper"]))
        if isinstance(value, dict) and set(value) <= {"operator", "port"} and "port" in value:
            port = _strict_int(value["port"])
            return PortMatch(str(value.get("operator", "eq")), port, port)
    except (ValueError, TypeError) as exc:
        raise _Bad("invalid_port", name, str(exc)) from None
    raise _Bad("invalid_port", name, f"{name} must be a port number, {{operator, port}} or {{lower, upper}}")


def _strict_int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError("a port must be an integer")
    return value


def _peer(kind: str, value: Any, family: str) -> str:
    if kind in VALUELESS_PEERS:
        if value not in (None, ""):
            raise _Bad("unexpected_peer", "peer", f"peer kind {kind!r} takes no value")
        return ""
    if not isinstance(value, str) or not value:
        raise _Bad("missing_peer", "peer", f"peer kind {kind!r} needs a peer value")
    try:
        if kind == "dnsname":
            return canonical_host(value)
        if kind == "network":
            return canonical_prefix(value, family)[0]
        if kind == "mac":
            return canonical_mac(value)
        if kind == "manufacturer":
            return canonical_host(value)
        return check_peer_uri(kind, value)  # model, controller
    except ValueProblem as exc:
        raise _Bad(exc.code.replace("-", "_"), "peer", str(exc)) from None


def _flow(item: Any) -> Flow:
    if not isinstance(item, dict):
        raise _Bad("wrong_type", "", "each flow must be a JSON object")
    unknown = sorted(set(item) - _FIELDS)
    if unknown:
        raise _Bad("unknown_member", unknown[0], f"unknown member(s): {', '.join(unknown)}")
    direction, family = item.get("direction"), item.get("family", "ipv4")
    if direction not in DIRECTIONS:
        raise _Bad("invalid_choice", "direction", f"direction must be one of {', '.join(DIRECTIONS)}")
    if family not in FAMILIES:
        raise _Bad("invalid_choice", "family", f"family must be one of {', '.join(FAMILIES)}")
    kind = item.get("peer_kind", "dnsname" if item.get("peer") else "any")
    if kind not in PEER_KINDS:
        raise _Bad("invalid_choice", "peer_kind", f"peer_kind must be one of {', '.join(PEER_KINDS)}")
    initiated = item.get("initiated")
    if initiated is not None and initiated not in DIRECTIONS:
        raise _Bad("invalid_choice", "initiated", f"initiated must be one of {', '.join(DIRECTIONS)}")
    network = item.get("network")
    if network is not None:
        try:
            network = canonical_prefix(str(network), family)[0]
        except ValueProblem as exc:
            raise _Bad("invalid_prefix", "network", str(exc)) from None
    protocol = _int(item, "protocol")
    src_port, dst_port = _port(item, "src_port"), _port(item, "dst_port")
    if (src_port or dst_port) and protocol not in (6, 17):
        raise _Bad("port_without_protocol", "protocol", "ports need protocol 6 (TCP) or 17 (UDP)")
    if initiated is not None and protocol != 6:
        raise _Bad("initiated_outside_tcp", "initiated", "initiated applies only to TCP (protocol 6)")
    return Flow(
        direction=direction,
        family=family,
        peer_kind=kind,
        peer=_peer(kind, item.get("peer"), family),
        network=network,
        protocol=protocol,
        src_port=src_port,
        dst_port=dst_port,
        initiated=initiated,
        icmp_type=_int(item, "icmp_type"),
        icmp_code=_int(item, "icmp_code"),
        ethertype=_int(item, "ethertype"),
    )


def _read(items: Any, path: str) -> tuple[dict[Flow, str], list[dict[str, str]]]:
    """Each flow of a native list with the JSON pointer of its first item, or the problems."""
    if not isinstance(items, list) or not items:
        return {}, [problem("wrong_type", path, "flows must be a non-empty list")]
    if len(items) > MAX_FLOWS:
        return {}, [problem("too_many_flows", path, f"at most {MAX_FLOWS} flows per submission")]
    flows: dict[Flow, str] = {}
    problems = []
    for index, item in enumerate(items):
        try:
            flows.setdefault(_flow(item), f"{path}/{index}")
        except _Bad as bad:
            where = f"{path}/{index}" + (f"/{bad.field}" if bad.field else "")
            problems.append(problem(bad.code, where, bad.message))
        except ValueError as exc:  # the Flow dataclass's own consistency checks
            problems.append(problem("invalid_flow", f"{path}/{index}", str(exc)))
    return flows, problems


def flows_from_native(items: Any, path: str = "/flows") -> tuple[frozenset[Flow], list[dict[str, str]]]:
    """The flows of a native list exactly as written, or every problem found in it (with its JSON pointer)."""
    flows, problems = _read(items, path)
    return (frozenset(), problems) if problems else (frozenset(flows), [])


def native_flows_read(
    items: Any, path: str = "/flows"
) -> tuple[frozenset[Flow], list[dict[str, str]], list[dict[str, str]]]:
    """A submission's native list as mudhub imports it: (flows, warnings, problems).

    As the codec's import of a MUD file, TCP replies sent beside their requests are paired
    with them (a warning each); with any problem, no flow."""
    flows, problems = _read(items, path)
    if problems:
        return frozenset(), [], problems
    paired, warnings = replies.pair_replies(flows)
    return frozenset(paired), problems_from(warnings), []
