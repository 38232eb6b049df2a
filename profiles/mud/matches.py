"""One ACE's `matches` to one Flow: the peer, the protocol, the ports, and every other leaf.

Direction decides which side is the peer: in from-device policies the peer is the
destination (dst-dnsname, destination-ipv4-network, destination-mac-address), in to-device
policies the source. The device-side leaves are kept in `extra`, never dropped.
"""

from __future__ import annotations

import base64
import binascii
from functools import lru_cache

from .collector import PRE_RFC_MEMBERS, Collector, json_type, pointer
from .flows import Flow, PortMatch
from .values import ValueProblem, canonical_host, canonical_mac, canonical_prefix, check_uri, ip_literal

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

_MATCH_KEYS = frozenset({"eth", "ipv4", "ipv6", "tcp", "udp", "icmp", MUD_MATCH})
_L3 = ("ipv4", "ipv6")
_L4 = ("tcp", "udp", "icmp")


@lru_cache(maxsize=65536)
def _eq(port: int) -> PortMatch:
    return PortMatch.eq(port)


_VALUELESS = frozenset({"same-manufacturer", "local-networks", "my-controller"})


@lru_cache(maxsize=16384)
def _host_value(text: str) -> str:
    """An inet:host value: the canonical IP literal or DNS name."""
    literal = ip_literal(text)
    return str(literal) if literal is not None else canonical_host(text)


_SIDES = {"from-device": ("destination", "source"), "to-device": ("source", "destination")}
_DNS_SIDES = {"from-device": ("dst", "src"), "to-device": ("src", "dst")}


class AceReader:
    """Reads the matches of the ACEs of one ACL in one direction."""

    def __init__(self, col: Collector, direction: str, acl_type: str, acl_path: str) -> None:
        self.col = col
        self.direction = direction
        self.acl_type = acl_type
        self.acl_path = acl_path
        self.skipped = False
        # The family of an ACE in a single-family IP ACL is known without asking _family.
        self.simple_family = {"ipv4-acl-type": "ipv4", "ipv6-acl-type": "ipv6"}.get(acl_type)
        peer, device = _SIDES[direction]
        dns_peer, dns_device = _DNS_SIDES[direction]
        self.peer_side = peer
        self.eth_macs = frozenset(f"{side}-mac-address{m}" for side in (peer, device) for m in ("", "-mask"))
        # Per family: (peer network leaf, peer dnsname leaf, device network leaf, device dnsname leaf)
        self.l3_leaves = {
            fam: (f"{peer}-{fam}-network", f"ietf-acldns:{dns_peer}-dnsname", f"{device}-{fam}-network",
                  f"ietf-acldns:{dns_device}-dnsname")
            for fam in ("ipv4", "ipv6")
        }  # fmt: skip

    def _skip(self, code: str, path: str, message: str) -> None:
        # Some ACEs of real files cannot mean anything (a wildcard name, an IPv4 address in an
        # ipv6 match). Strict refuses them; import drops the ACE, which can only narrow an
        # allow-list, never widen it, and says so in a warning.
        if self.col.strict:
            self.col.error(code, path, message)
        else:
            self.skipped = True
            self.col.warn("ace-skipped", path, f"{message}; this ACE is skipped on import")

    def flow(self, matches: dict[str, object], path: str) -> Flow | None:
        col = self.col
        errors_before = len(col.errors)
        self.skipped = False
        peer_side = self.peer_side
        extra: list[tuple[str, str]] = []
        abstraction: tuple[str, str] | None = None
        dnsname: str | None = None
        network: str | None = None
        mac: str | None = None
        protocol: int | None = None
        ethertype: int | None = None
        ports: dict[str, PortMatch] = {}
        initiated: str | None = None
        icmp: dict[str, int] = {}

        for key in () if _MATCH_KEYS.issuperset(matches) else matches:
            if key not in _MATCH_KEYS:
                kpath = pointer(path, key)
                if key in ("egress-interface", "ingress-interface"):
                    col.error("unsupported-match", kpath, f"{key} names an interface of one device, not a MUD peer")
                elif key.endswith("direction-initiated"):
                    col.error("direction-initiated-outside-tcp", kpath, "direction-initiated belongs under tcp")
                elif key in PRE_RFC_MEMBERS:
                    col.unknown(kpath, "matches", key)
                else:
                    # Never ignored, not even on import: dropping a match would widen the rule.
                    col.error("unknown-member", kpath, "unknown match; it cannot be dropped without widening the rule")

        l3 = [k for k in _L3 if k in matches] if "ipv4" in matches or "ipv6" in matches else []
        l4 = [k for k in _L4 if k in matches] if len(matches) > len(l3) else []
        if len(l3) > 1:
            col.error("family-mismatch", path, "an ACE matches either ipv4 or ipv6 headers, not both")
            return None
        if len(l4) > 1:
            col.error("conflicting-l4", path, f"an ACE has at most one of tcp, udp, icmp (found {', '.join(l4)})")
            return None
        if l3 and l3[0] == self.simple_family and "eth" not in matches:
            family: str | None = l3[0]
        else:
            family = self._family(l3[0] if l3 else None, "eth" in matches, bool(l4), path)
        if family is None:
            return None

        if "eth" in matches:
            eth_path = path + "/eth"
            eth = col.obj(matches["eth"], eth_path)
            for key, value in (eth or {}).items():
                if key == "ethertype":
                    ethertype = self._ethertype(value, pointer(eth_path, key))
                elif key in self.eth_macs:
                    if (mac_text := self._mac(value, pointer(eth_path, key))) is not None:
                        extra.append((f"eth/{key}", mac_text))
                else:
                    self._unknown_match(pointer(eth_path, key), "eth", key)
            if family == "eth":
                # A MAC on the peer side is the peer itself when nothing else names one.
                peer_mac = dict(extra).get(f"eth/{peer_side}-mac-address")
                if peer_mac is not None and MUD_MATCH not in matches:
                    mask = dict(extra).get(f"eth/{peer_side}-mac-address-mask")
                    mac = f"{peer_mac}/{mask}" if mask is not None else peer_mac
                    extra = [e for e in extra if not e[0].startswith(f"eth/{peer_side}-")]
            if ethertype is not None and FAMILY_ETHERTYPE.get(family) == ethertype:
                ethertype = None

        if l3:
            fam = l3[0]
            l3_path = path + "/" + fam
            peer_net, peer_dns, device_net, device_dns = self.l3_leaves[fam]
            container = matches[fam]
            if type(container) is not dict:
                container = col.obj(container, l3_path)
            for key, value in (container or {}).items():
                if key == "protocol":
                    if type(value) is int and 0 <= value <= 255:
                        protocol = value
                    else:
                        protocol = col.integer(value, pointer(l3_path, key), 0, 255)
                elif key == peer_net:
                    network = self._prefix(value, l3_path, key, fam)
                elif key == peer_dns:
                    host = self._host(value, l3_path, key)
                    kpath = pointer(l3_path, key)
                    if host is not None and (literal := ip_literal(host)) is not None:
                        col.warn("dnsname-ip-literal", kpath, f"{host} is an IP address, read as a network")
                        if f"ipv{literal.version}" != fam:
                            col.error("family-mismatch", kpath, f"{host} is not an {fam} address")
                        elif network is not None:
                            col.error("ambiguous-peer", kpath, "both a network and a dnsname name the peer")
                        else:
                            network = f"{literal}/{literal.max_prefixlen}"
                    else:
                        dnsname = host
                elif key == device_net:
                    if (prefix := self._prefix(value, l3_path, key, fam)) is not None:
                        extra.append((f"{fam}/{key}", prefix))
                elif key == device_dns:
                    if (host := self._host(value, l3_path, key)) is not None:
                        extra.append((f"{fam}/{key}", host))
                elif key in EXTRA_LEAVES[fam]:
                    self._extra(fam, key, value, pointer(l3_path, key), extra)
                else:
                    self._unknown_match(pointer(l3_path, key), fam, key)
            if dnsname is not None and network is not None:
                col.error("ambiguous-peer", l3_path, "both a network and a dnsname name the peer")

        if l4:
            name = l4[0]
            l4_path = path + "/" + name
            expected = ICMP_PROTOCOL.get(family, -1) if name == "icmp" else L4_PROTOCOL[name]
            if family == "eth":
                col.error("family-mismatch", l4_path, f"{name} matches need an ipv4 or ipv6 ACE")
            elif protocol is None:
                protocol = expected
            elif protocol != expected:
                col.error("protocol-mismatch", l4_path, f"protocol {protocol} contradicts {name} (protocol {expected})")
            container = col.obj(matches[name], l4_path)
            for key, value in (container or {}).items():
                if name != "icmp" and key in ("source-port", "destination-port"):
                    # The common spelling, {"operator": "eq", "port": N}, skips the general reader.
                    if type(value) is dict and len(value) == 2 and value.get("operator") == "eq":
                        number = value.get("port")
                        if type(number) is int and 0 <= number <= 65535:
                            ports[key] = _eq(number)
                            continue
                    port = self._port(value, pointer(l4_path, key))
                    if port is not None:
                        ports[key] = port
                    continue
                kpath = pointer(l4_path, key)
                if key == INITIATED and name == "tcp":
                    if value in ("from-device", "to-device"):
                        initiated = str(value)
                    else:
                        col.error(
                            "invalid-value", kpath, f"direction-initiated is from-device or to-device, not {value!r}"
                        )
                elif key.endswith("direction-initiated"):
                    col.error("direction-initiated-outside-tcp", kpath, f"direction-initiated in {name}")
                elif name == "icmp" and key in ("type", "code"):
                    if (number := col.integer(value, kpath, 0, 255)) is not None:
                        icmp[key] = number
                elif key in EXTRA_LEAVES[name]:
                    self._extra(name, key, value, kpath, extra)
                else:
                    self._unknown_match(kpath, name, key)

        if MUD_MATCH in matches:
            abstraction = self._abstraction(matches[MUD_MATCH], path + "/" + MUD_MATCH)
            if abstraction is not None and dnsname is not None:
                col.error("ambiguous-peer", path, "both a MUD abstraction and a dnsname name the peer")

        if len(col.errors) != errors_before or self.skipped:
            return None
        if abstraction is not None:
            kind, peer = abstraction
            narrow = network
        elif dnsname is not None:
            kind, peer, narrow = "dnsname", dnsname, None
        elif network is not None:
            kind, peer, narrow = "network", network, None
        elif mac is not None:
            kind, peer, narrow = "mac", mac, None
        else:
            kind, peer, narrow = "any", "", None
        try:
            # Positional, in the order Flow declares its fields: this is the hot path of parse.
            return Flow(
                self.direction,
                family,
                kind,
                peer,
                narrow,
                protocol,
                ports.get("source-port"),
                ports.get("destination-port"),
                initiated,
                icmp.get("type"),
                icmp.get("code"),
                ethertype,
                tuple(sorted(extra)) if extra else (),
            )
        except ValueError as exc:
            col.error("invalid-value", path, str(exc))
            return None

    def _family(self, l3: str | None, has_eth: bool, has_l4: bool, path: str) -> str | None:
        col, acl_type = self.col, self.acl_type
        allowed = {
            "ipv4-acl-type": ("ipv4",),
            "ipv6-acl-type": ("ipv6",),
            "eth-acl-type": ("eth",),
            "mixed-eth-ipv4-acl-type": ("ipv4", "eth"),
            "mixed-eth-ipv6-acl-type": ("ipv6", "eth"),
            "mixed-eth-ipv4-ipv6-acl-type": ("ipv4", "ipv6", "eth"),
        }[acl_type]
        if l3 is not None and l3 not in allowed:
            col.error("family-mismatch", pointer(path, l3), f"{l3} matches in an ACL of type {acl_type}")
            return None
        if has_eth and "eth" not in allowed:
            # MUDgee puts a broadcast MAC and ethertype 0x0800 beside ipv4 matches in ipv4 ACLs.
            col.dialect("dialect-eth-in-ip-acl", pointer(path, "eth"), f"eth matches in an ACL of type {acl_type}")
        if l3 is not None:
            return l3
        ip_families = [f for f in allowed if f != "eth"]
        if not ip_families:
            return "eth"
        if has_l4 or not (has_eth and "eth" in allowed):
            if len(ip_families) == 1:
                return ip_families[0]
            col.error(
                "ambiguous-family", path, f"no ipv4 or ipv6 match says which family this ACE of {acl_type} is for"
            )
            return None
        return "eth"

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
                    uri = check_uri(text)
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
