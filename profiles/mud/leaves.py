"""The leaves of an ACE's matches: host names, prefixes, MACs, ethertypes, ports, MUD abstractions.

Each reader takes one JSON value and returns its canonical spelling, or None with the problem
recorded in the Collector. matches.py puts the leaves of one ACE together into a Flow.
"""

from __future__ import annotations

import base64
import binascii
from functools import lru_cache

from .collector import PRE_RFC_MEMBERS, Collector, json_type, pointer
from .flows import PortMatch
from .values import ValueProblem, canonical_host, canonical_mac, canonical_prefix, check_peer_uri, ip_literal

MUD_MATCH = "ietf-mud:mud"
INITIATED = "ietf-mud:direction-initiated"
GATEWAY_URN = "urn:ietf:params:mud:gateway"
REGISTERED_CONTROLLERS = frozenset({"urn:ietf:params:mud:dns", "urn:ietf:params:mud:ntp"})

L4_PROTOCOL = {"tcp": 6, "udp": 17}
ICMP_PROTOCOL = {"ipv4": 1, "ipv6": 58}
# The ethertype each IP family implies: an ipv4 match with ethertype 0x0800 means no more
# than the ipv4 match alone, so the redundant ethertype is dropped (MUDgee writes it).
FAMILY_ETHERTYPE = {"ipv4": 0x0800, "ipv6": 0x86DD}

ETHERTYPE_NAMES: dict[str, int] = {
    "ipv4": 2048, "arp": 2054, "wlan": 2114, "trill": 8947, "srp": 8938, "decnet": 24579, "rarp": 32821,
    "appletalk": 32923, "aarp": 33011, "vlan": 33024, "ipx": 33079, "qnx": 33284, "ipv6": 34525, "efc": 34824,
    "esp": 34825, "cobranet": 34841, "mpls-unicast": 34887, "mpls-multicast": 34888, "pppoe-discovery": 34915,
    "pppoe-session": 34916, "intel-ans": 34925, "jumbo-frames": 34928, "homeplug": 34939, "eap": 34958,
    "profinet": 34962, "hyperscsi": 34970, "aoe": 34978, "ethercat": 34980, "provider-bridging": 34984,
    "ethernet-powerlink": 34987, "goose": 35000, "gse": 35001, "sv": 35002, "lldp": 35020, "sercos": 35021,
    "wsmp": 35036, "homeplug-av-mme": 35041, "mrp": 35043, "macsec": 35045, "pbb": 35047, "cfm": 35074,
    "fcoe": 35078, "fcoe-ip": 35092, "roce": 35093, "tte": 35101, "hsr": 35119,
}  # fmt: skip

# Match leaves that flows keep in `extra`: (container, leaf) -> (kind, low, high).
# Kinds: "int" (a JSON number), "bits:<names>" (a string of bit names), "binary" (base64).
_IP_COMMON = {"dscp": ("int", 0, 63), "ecn": ("int", 0, 3), "length": ("int", 0, 65535), "ttl": ("int", 0, 255)}
EXTRA_LEAVES: dict[str, dict[str, tuple[str, int, int]]] = {
    "ipv4": {
        **_IP_COMMON,
        "ihl": ("int", 5, 60),
        "flags": ("bits:reserved fragment more", 0, 0),
        "offset": ("int", 20, 65535),
        "identification": ("int", 0, 65535),
    },
    "ipv6": {**_IP_COMMON, "flow-label": ("int", 0, 1048575)},
    "tcp": {
        "sequence-number": ("int", 0, 2**32 - 1),
        "acknowledgement-number": ("int", 0, 2**32 - 1),
        "data-offset": ("int", 5, 15),
        "reserved": ("int", 0, 255),
        "flags": ("bits:cwr ece urg ack psh rst syn fin", 0, 0),
        "window-size": ("int", 0, 65535),
        "urgent-pointer": ("int", 0, 65535),
        "options": ("binary", 1, 40),
    },
    "udp": {"length": ("int", 0, 65535)},
    "icmp": {"rest-of-header": ("binary", 0, 2**16)},
}


@lru_cache(maxsize=65536)
def eq_port(port: int) -> PortMatch:
    return PortMatch.eq(port)


_VALUELESS = frozenset({"same-manufacturer", "local-networks", "my-controller"})


@lru_cache(maxsize=16384)
def _host_value(text: str) -> str:
    """An inet:host value: the canonical IP literal or DNS name."""
    literal = ip_literal(text)
    return str(literal) if literal is not None else canonical_host(text)


@lru_cache(maxsize=16384)
def quiet_host(text: str) -> str | None:
    """The canonical DNS name of a dnsname leaf that reads without a word, else None.

    None when `text` is not a host name, or names an IP address (which _host reads, with a
    warning, as a network): the general readers then say what is wrong.
    """
    try:
        host = _host_value(text)
    except ValueProblem:
        return None
    return None if ip_literal(host) is not None else host


@lru_cache(maxsize=4096)
def quiet_uri(kind: str, text: str) -> bool:
    """Whether a model or controller URI reads without a word: a URI, and no warning for it."""
    try:
        check_peer_uri(kind, text)
    except ValueProblem:
        return False
    return text != GATEWAY_URN and (not text.startswith("urn:ietf:params:mud:") or text in REGISTERED_CONTROLLERS)


class LeafReader:
    """Reads the leaves of the matches of one ACE at a time; `skipped` says the ACE is dropped."""

    def __init__(self, col: Collector) -> None:
        self.col = col
        self.skipped = False
        self.max_string_length = col.limits.max_string_length

    def quick_abstraction(self, value: object) -> tuple[str, str] | None:
        """The MUD abstraction of an `ietf-mud:mud` match with one member that reads without a word."""
        if type(value) is not dict or len(value) != 1:
            return None
        ((key, leaf),) = value.items()
        if key in _VALUELESS:
            return (key, "") if leaf == [None] else None
        if type(leaf) is not str:
            return None
        if key == "controller" or key == "model":
            if leaf.isascii() and len(leaf) <= self.max_string_length and quiet_uri(key, leaf):
                return key, leaf
            return None
        if key == "manufacturer":
            try:
                return key, _host_value(leaf)
            except ValueProblem:
                return None
        return None

    def _skip(self, code: str, path: str, message: str) -> None:
        # Some ACEs of real files cannot mean anything (a wildcard name, an IPv4 address in an
        # ipv6 match). Strict refuses them; import drops the ACE, which can only narrow an
        # allow-list, never widen it, and says so in a warning.
        if self.col.strict:
            self.col.error(code, path, message)
        else:
            self.skipped = True
            self.col.warn("ace-skipped", path, f"{message}; this ACE is skipped on import")

    def _unknown_match(self, path: str, container: str, key: str) -> None:
        if key in PRE_RFC_MEMBERS:
            self.col.unknown(path, container, key)
            return
        self.col.error("unknown-member", path, f"{key!r} is not a match of {container}; it cannot be dropped")

    def _host(self, value: object, base: str, key: str) -> str | None:
        if type(value) is str:
            try:
                return _host_value(value)
            except ValueProblem:
                pass
        path = pointer(base, key)
        text = self.col.string(value, path)
        if text is None:
            return None
        if (literal := ip_literal(text)) is not None:
            return str(literal)
        try:
            return canonical_host(text)
        except ValueProblem as exc:
            if "*" in text:
                self._skip(exc.code, path, str(exc))
            else:
                self.col.error(exc.code, path, str(exc))
            return None

    def _prefix(self, value: object, base: str, key: str, family: str) -> str | None:
        if type(value) is str:
            try:
                prefix, host_bits = canonical_prefix(value, family)
                if not host_bits:
                    return prefix
            except ValueProblem:
                pass
        path = pointer(base, key)
        text = self.col.string(value, path)
        if text is None:
            return None
        if "/" not in text and (literal := ip_literal(text)) is not None:
            if f"ipv{literal.version}" != family:
                self._skip("family-mismatch", path, f"{text} is not an {family} address")
                return None
            # MUDgee writes some IPv6 host addresses without the /128.
            self.col.dialect("dialect-prefix-length", path, f"{text} has no prefix length, read as one host")
            text = f"{literal}/{literal.max_prefixlen}"
        try:
            prefix, host_bits = canonical_prefix(text, family)
        except ValueProblem as exc:
            self.col.error(exc.code, path, str(exc))
            return None
        if host_bits:
            self.col.warn("host-bits-set", path, f"{text} has host bits set; read as {prefix}")
        return prefix

    def _mac(self, value: object, path: str) -> str | None:
        text = self.col.string(value, path)
        if text is None:
            return None
        try:
            return canonical_mac(text)
        except ValueProblem as exc:
            self.col.error(exc.code, path, str(exc))
            return None

    def _ethertype(self, value: object, path: str) -> int | None:
        if type(value) is int:
            return self.col.integer(value, path, 0, 65535)
        if type(value) is not str:
            self.col.error("wrong-type", path, f"ethertype is a number or a name, not {json_type(value)}")
            return None
        if value in ETHERTYPE_NAMES:
            return ETHERTYPE_NAMES[value]
        try:
            number = int(value, 16) if value[:2].lower() == "0x" else int(value, 10)
        except ValueError:
            self.col.error("invalid-value", path, f"ethertype {value!r} is neither a number nor an ethertype name")
            return None
        if not 0 <= number <= 65535:
            self.col.error("out-of-range", path, f"ethertype {value!r} is outside 0..65535")
            return None
        # MUDgee writes ethertypes as hex strings ("0x0806"); RFC 7951 wants the number.
        self.col.dialect("dialect-ethertype-string", path, f"ethertype {value!r} written as a string")
        return number

    def _port(self, value: object, path: str) -> PortMatch | None:
        col = self.col
        port = col.obj(value, path)
        if port is None:
            return None
        keys = set(port)
        if keys & {"lower-port", "upper-port"}:
            if keys - {"lower-port", "upper-port"} == {"operator"} and type(port["operator"]) is str:
                # MUDgee writes ranges with an operator beside them ("eq" or "range"); the
                # bounds say all there is to say, so the operator is dropped.
                col.dialect("dialect-port-range-operator", path, "a port range with an operator")
                keys.discard("operator")
            if keys - {"lower-port", "upper-port"}:
                col.error("invalid-port", path, "a port match is either lower-port/upper-port or operator/port")
                return None
            if keys != {"lower-port", "upper-port"}:
                col.error("missing-member", path, "a port range needs both lower-port and upper-port")
                return None
            lower = col.integer(port["lower-port"], pointer(path, "lower-port"), 0, 65535)
            upper = col.integer(port["upper-port"], pointer(path, "upper-port"), 0, 65535)
            if lower is None or upper is None:
                return None
            if lower > upper:
                col.error("invalid-port", path, f"port range {lower}-{upper} has lower > upper")
                return None
            # A one-port range is the same match as eq: one spelling for one behaviour.
            return PortMatch.eq(lower) if lower == upper else PortMatch("range", lower, upper)
        for key in keys - {"operator", "port"}:
            col.error("unknown-member", pointer(path, key), f"{key!r} is not part of a port match")
        if "port" not in port:
            col.error("missing-member", pointer(path, "port"), "a port match needs a port")
            return None
        number = col.integer(port["port"], pointer(path, "port"), 0, 65535)
        operator = port.get("operator", "eq")
        if operator not in ("eq", "neq", "lte", "gte"):
            col.error("invalid-port", pointer(path, "operator"), f"operator {operator!r} is not lte, gte, eq or neq")
            return None
        if number is None or keys - {"operator", "port"}:
            return None
        return PortMatch(str(operator), number, number)

    def _extra(self, container: str, key: str, value: object, path: str, extra: list[tuple[str, str]]) -> None:
        col = self.col
        kind, low, high = EXTRA_LEAVES[container][key]
        if kind == "int":
            if (number := col.integer(value, path, low, high)) is not None:
                extra.append((f"{container}/{key}", str(number)))
            return
        text = col.string(value, path)
        if text is None:
            return
        if kind.startswith("bits:"):
            order = kind[5:].split()
            names = text.split()
            if any(n not in order for n in names):
                col.error("invalid-value", path, f"{key} takes the bits {', '.join(order)}")
                return
            extra.append((f"{container}/{key}", " ".join(n for n in order if n in names)))
            return
        try:
            decoded = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            col.error("invalid-value", path, f"{key} must be base64")
            return
        if not low <= len(decoded) <= high:
            col.error("out-of-range", path, f"{key} has {low}..{high} bytes")
            return
        extra.append((f"{container}/{key}", base64.b64encode(decoded).decode("ascii")))

    def _abstraction(self, value: object, path: str) -> tuple[str, str] | None:
        col = self.col
        if type(value) is dict and len(value) == 1:
            key, leaf = next(iter(value.items()))
            if key in _VALUELESS and leaf == [None]:
                return key, ""
        mud = col.obj(value, path)
        if mud is None:
            return None
        found: list[tuple[str, str]] = []
        for key, leaf in mud.items():
            kpath = pointer(path, key)
            if key in ("same-manufacturer", "local-networks", "my-controller"):
                if leaf != [None]:
                    if leaf is None or leaf is True or leaf == [] or leaf == {}:
                        col.dialect("dialect-empty-leaf", kpath, f"{key} is an empty leaf, written [null]")
                    else:
                        col.error("not-empty-leaf", kpath, f"{key} is an empty leaf, written [null]")
                        continue
                found.append((key, ""))
            elif key == "manufacturer":
                if (host := self._host(leaf, path, key)) is not None:
                    found.append((key, host))
            elif key in ("model", "controller"):
                text = col.string(leaf, kpath)
                if text is None:
                    continue
                try:
                    uri = check_peer_uri(key, text)
                except ValueProblem as exc:
                    col.error(exc.code, kpath, str(exc))
                    continue
                if key == "controller" and uri == GATEWAY_URN:
                    # MUDgee's "gateway" is not in the IANA registry, so no MUD manager can
                    # resolve it and the rule would match nothing. The intent is "the router
                    # this device uses" (DHCP, DNS, NTP, ping to it). my-controller is the
                    # abstraction a manager resolves from local configuration, where an admin
                    # can name the gateway; it is valueless, so nothing is invented, and it
                    # never widens the rule the way local-networks would.
                    col.warn("gateway-controller", kpath, f"{GATEWAY_URN} is not registered; read as my-controller")
                    found.append(("my-controller", ""))
                    continue
                if key == "controller" and uri.startswith("urn:ietf:params:mud:") and uri not in REGISTERED_CONTROLLERS:
                    col.warn("unregistered-controller-urn", kpath, f"{uri} is not a registered MUD controller URN")
                found.append((key, uri))
            else:
                col.error("unknown-member", kpath, f"{key!r} is not a MUD match; it cannot be dropped")
        if len(found) > 1:
            col.error("ambiguous-peer", path, "a flow has one peer; this ACE names " + ", ".join(k for k, _ in found))
            return None
        return found[0] if found else None
