"""The canonical flow: the unit that mudhub merges, votes on and serves.

A flow is never an ACL or an ACE name. It is what one ACE permits, with every value in
one canonical spelling, so that two MUD files written by different tools for the same
behaviour produce equal flows. The from-device and to-device halves of one conversation
are two flows: gateways enforce them separately, and the crowd may see one without the
other.

This module imports nothing from Django; the consensus engine and the database layer both
build on it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any, Literal

Direction = Literal["from-device", "to-device"]
Family = Literal["ipv4", "ipv6", "eth"]

DIRECTIONS: tuple[str, ...] = ("from-device", "to-device")
FAMILIES: tuple[str, ...] = ("ipv4", "ipv6", "eth")

# Peer kinds, in the order the key sorts them. The MUD abstractions (RFC 8520 section 8)
# name a class of peers that the gateway resolves; "dnsname", "network" and "mac" name a
# concrete peer; "any" means the ACE does not restrict the peer at all.
PEER_ABSTRACTIONS: tuple[str, ...] = (
    "local-networks",
    "same-manufacturer",
    "manufacturer",
    "model",
    "controller",
    "my-controller",
)
PEER_KINDS: tuple[str, ...] = ("any", "dnsname", "network", "mac", *PEER_ABSTRACTIONS)
# Abstractions that carry no value (YANG `empty` leaves, `[null]` in JSON).
VALUELESS_PEERS: frozenset[str] = frozenset({"any", "local-networks", "same-manufacturer", "my-controller"})

PORT_OPERATORS: tuple[str, ...] = ("eq", "neq", "lte", "gte", "range")


@dataclass(frozen=True, slots=True, order=True)
class PortMatch:
    """One port match of RFC 8519: an operator and a port, or an inclusive range.

    For every operator but "range", `upper` equals `lower`.
    """

    operator: str
    lower: int
    upper: int

    def __post_init__(self) -> None:
        if self.operator not in PORT_OPERATORS:
            raise ValueError(f"unknown port operator {self.operator!r}")
        if not (0 <= self.lower <= 65535 and 0 <= self.upper <= 65535):
            raise ValueError("port outside 0..65535")
        if self.operator == "range":
            if self.lower > self.upper:
                raise ValueError("port range with lower > upper")
        elif self.lower != self.upper:
            raise ValueError("only a range has distinct lower and upper ports")

    @classmethod
    def eq(cls, port: int) -> PortMatch:
        return cls("eq", port, port)

    @property
    def text(self) -> str:
        if self.operator == "range":
            return f"{self.lower}-{self.upper}"
        return f"{self.operator}{self.lower}"


@dataclass(frozen=True, slots=True, order=True)
class Flow:
    """One permitted flow, seen from the device.

    `peer` is the value for the `peer_kind`: a lower-case A-label DNS name without the
    trailing dot, a normalised prefix ("192.0.2.0/24", "2001:db8::/32"), a lower-case MAC
    (optionally "mac/mask"), a host for "manufacturer", a URI for "model" and "controller",
    and "" for the valueless kinds. `network` is an address prefix that narrows an
    abstraction peer (MUDgee writes local-networks together with a multicast address).
    `extra` keeps any other match leaf as sorted (path, value) pairs, so that nothing a
    file restricted is silently widened.
    """

    direction: str
    family: str
    peer_kind: str
    peer: str = ""
    network: str | None = None
    protocol: int | None = None
    src_port: PortMatch | None = None
    dst_port: PortMatch | None = None
    initiated: str | None = None
    icmp_type: int | None = None
    icmp_code: int | None = None
    ethertype: int | None = None
    extra: tuple[tuple[str, str], ...] = field(default=())
    # The hash, computed on first use and kept: sets and dicts of flows are everywhere (one
    # frozenset per observation when a model is recomputed), and the generated hash of
    # thirteen fields cost as much as the rest of reading a model's inputs. Not compared,
    # not printed, and not pickled (string hashes differ between processes).
    _hash: int | None = field(default=None, init=False, repr=False, compare=False)

    def __hash__(self) -> int:
        cached = self._hash
        if cached is None:
            cached = hash(
                (self.direction, self.family, self.peer_kind, self.peer, self.network, self.protocol, self.src_port,
                 self.dst_port, self.initiated, self.icmp_type, self.icmp_code, self.ethertype, self.extra)
            )  # fmt: skip
            _set_hash(self, cached)
        return cached

    def __reduce__(self) -> tuple[type[Flow], tuple[Any, ...]]:
        return Flow, tuple(getattr(self, name) for name in FLOW_FIELDS)

    def __post_init__(self) -> None:
        if self.direction not in DIRECTIONS:
            raise ValueError(f"unknown direction {self.direction!r}")
        if self.family not in FAMILIES:
            raise ValueError(f"unknown family {self.family!r}")
        if self.peer_kind not in PEER_KINDS:
            raise ValueError(f"unknown peer kind {self.peer_kind!r}")
        if (self.peer_kind in VALUELESS_PEERS) != (self.peer == ""):
            raise ValueError(f"peer kind {self.peer_kind!r} with value {self.peer!r}")
        if self.initiated is not None and self.initiated not in DIRECTIONS:
            raise ValueError(f"unknown direction-initiated {self.initiated!r}")

    @property
    def key(self) -> str:
        """The one canonical string for this flow: stable, unique, human-readable.

        Fields are separated by spaces; absent fields are left out, so the key of a flow
        never changes when an unrelated optional field is added to this class.
        """
        parts = [self.direction, self.family, f"{self.peer_kind}={self.peer}" if self.peer else self.peer_kind]
        if self.network is not None:
            parts.append(f"net={self.network}")
        if self.ethertype is not None:
            parts.append(f"ethertype={self.ethertype}")
        if self.protocol is not None:
            parts.append(f"proto={self.protocol}")
        if self.src_port is not None:
            parts.append(f"sport={self.src_port.text}")
        if self.dst_port is not None:
            parts.append(f"dport={self.dst_port.text}")
        if self.initiated is not None:
            parts.append(f"init={self.initiated}")
        if self.icmp_type is not None:
            parts.append(f"icmp-type={self.icmp_type}")
        if self.icmp_code is not None:
            parts.append(f"icmp-code={self.icmp_code}")
        parts.extend(f"{path}={value}" for path, value in self.extra)
        return " ".join(parts)

    @property
    def peer_port(self) -> PortMatch | None:
        """The port on the peer's side: the destination port of traffic from the device,
        the source port of traffic to it."""
        return self.dst_port if self.direction == "from-device" else self.src_port

    def __str__(self) -> str:
        return self.key


def _slot_setters() -> tuple[Callable[[Flow, Any], None], ...]:
    names = tuple(f.name for f in fields(Flow))
    if names != _BUILD_ORDER:  # build_flow spells the fields in this order: a new field goes there too
        raise RuntimeError(f"build_flow does not know the fields {names}")
    return tuple(getattr(Flow, name).__set__ for name in names)


_BUILD_ORDER = (
    "direction",
    "family",
    "peer_kind",
    "peer",
    "network",
    "protocol",
    "src_port",
    "dst_port",
    "initiated",
    "icmp_type",
    "icmp_code",
    "ethertype",
    "extra",
    "_hash",
)
(
    _direction, _family, _kind, _peer, _network, _protocol, _sport, _dport, _init, _itype, _icode, _etype, _extra,
    _set_hash,
) = _slot_setters()  # fmt: skip
# The fields that make a flow (its value), in order: every field but the cached hash.
FLOW_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(Flow) if f.compare)
_new = object.__new__
_check = Flow.__post_init__


def build_flow(
    direction: str,
    family: str,
    peer_kind: str,
    peer: str,
    network: str | None,
    protocol: int | None,
    src_port: PortMatch | None,
    dst_port: PortMatch | None,
    initiated: str | None,
    icmp_type: int | None,
    icmp_code: int | None,
    ethertype: int | None,
    extra: tuple[tuple[str, str], ...],
) -> Flow:
    """Flow(...) with every field given, in field order: the same value, the same checks, faster.

    A frozen dataclass sets each field through object.__setattr__ in its __init__; parse makes
    one Flow per ACE, and that alone cost as much as reading the ACE. The slot descriptors set
    the fields directly, and __post_init__ checks them exactly as Flow(...) would.
    """
    flow: Flow = _new(Flow)
    _direction(flow, direction)
    _family(flow, family)
    _kind(flow, peer_kind)
    _peer(flow, peer)
    _network(flow, network)
    _protocol(flow, protocol)
    _sport(flow, src_port)
    _dport(flow, dst_port)
    _init(flow, initiated)
    _itype(flow, icmp_type)
    _icode(flow, icmp_code)
    _etype(flow, ethertype)
    _extra(flow, extra)
    _set_hash(flow, None)
    _check(flow)
    return flow
