"""One ACE's `matches` to one Flow: the peer, the protocol, the ports, and every other leaf.

Direction decides which side is the peer: in from-device policies the peer is the
destination (dst-dnsname, destination-ipv4-network, destination-mac-address), in to-device
policies the source. The device-side leaves are kept in `extra`, never dropped.
"""

from __future__ import annotations

from .collector import PRE_RFC_MEMBERS, Collector, pointer
from .flows import Flow, PortMatch, build_flow
from .leaves import (
    EXTRA_LEAVES,
    FAMILY_ETHERTYPE,
    ICMP_PROTOCOL,
    INITIATED,
    L4_PROTOCOL,
    MUD_MATCH,
    LeafReader,
    eq_port,
    quiet_host,
)
from .values import ValueProblem, canonical_prefix, ip_literal

_MATCH_KEYS = frozenset({"eth", "ipv4", "ipv6", "tcp", "udp", "icmp", MUD_MATCH})
_L3 = ("ipv4", "ipv6")
_L4 = ("tcp", "udp", "icmp")
_PORTS = ("source-port", "destination-port")
_SIDES = {"from-device": ("destination", "source"), "to-device": ("source", "destination")}
_DNS_SIDES = {"from-device": ("dst", "src"), "to-device": ("src", "dst")}
_SIMPLE_FAMILY = {"ipv4-acl-type": "ipv4", "ipv6-acl-type": "ipv6"}


def _direction_leaves(direction: str) -> tuple[str, frozenset[str], dict[str, tuple[str, str, str, str]]]:
    """The names of the match leaves that depend on the direction (computed once per direction)."""
    peer, device = _SIDES[direction]
    dns_peer, dns_device = _DNS_SIDES[direction]
    eth_macs = frozenset(f"{side}-mac-address{m}" for side in (peer, device) for m in ("", "-mask"))
    # Per family: (peer network leaf, peer dnsname leaf, device network leaf, device dnsname leaf)
    l3_leaves = {
        fam: (f"{peer}-{fam}-network", f"ietf-acldns:{dns_peer}-dnsname", f"{device}-{fam}-network",
              f"ietf-acldns:{dns_device}-dnsname")
        for fam in ("ipv4", "ipv6")
    }  # fmt: skip
    return peer, eth_macs, l3_leaves


_DIRECTION_LEAVES = {direction: _direction_leaves(direction) for direction in _SIDES}


class AceReader(LeafReader):
    """Reads the matches of the ACEs of one ACL in one direction."""

    def __init__(self, col: Collector, direction: str, acl_type: str, acl_path: str) -> None:
        super().__init__(col)
        self.direction = direction
        self.acl_type = acl_type
        self.acl_path = acl_path
        # The family of an ACE in a single-family IP ACL is known without asking _family.
        self.simple_family = fam = _SIMPLE_FAMILY.get(acl_type)
        self.peer_side, self.eth_macs, self.l3_leaves = _DIRECTION_LEAVES[direction]
        if fam is not None:
            self.quick_leaves = self.l3_leaves[fam][:2]
            self.icmp_protocol = ICMP_PROTOCOL[fam]

    def flow(self, matches: dict[str, object], path: str) -> Flow | None:
        """The Flow of one ACE, or None with the problems recorded; `path` is the ACE's."""
        if self.simple_family is not None and (flow := self.quick(matches)) is not None:
            return flow
        return self.read(matches, path + "/matches")

    def quick(self, matches: dict[str, object]) -> Flow | None:
        """The Flow of an ACE of a single-family ACL written the common way, else None.

        Real files write most ACEs the same few ways: an L3 container with a protocol and one
        peer, at most one L4 container with eq ports, at most one MUD abstraction. Such an ACE
        has nothing to report, so it is read here in one pass without paths or problems. This
        returns a Flow only for an ACE that _read takes without a single error or warning, and
        then the same Flow; at the first thing it does not know it returns None, and _read
        reads the ACE again from the start and says what there is to say.
        """
        fam = self.simple_family
        if fam is None or type(l3 := matches.get(fam)) is not dict:
            return None
        l4_name: str | None = None
        abstraction: tuple[str, str] | None = None
        for key in matches:
            if key == fam:
                continue
            if key in _L4:
                if l4_name is not None:
                    return None
                l4_name = key
            elif key == MUD_MATCH:
                if (abstraction := self.quick_abstraction(matches[key])) is None:
                    return None
            else:
                return None

        protocol: int | None = None
        network: str | None = None
        dnsname: str | None = None
        peer_net, peer_dns = self.quick_leaves
        for key, value in l3.items():
            if key == "protocol":
                if type(value) is not int or not 0 <= value <= 255:
                    return None
                protocol = value
            elif key == peer_net:
                if type(value) is not str:
                    return None
                try:
                    network, host_bits = canonical_prefix(value, fam)
                except ValueProblem:
                    return None
                if host_bits:
                    return None
            elif key == peer_dns:
                if type(value) is not str or (dnsname := quiet_host(value)) is None:
                    return None
            else:
                return None
        if dnsname is not None and (network is not None or abstraction is not None):
            return None

        src_port: PortMatch | None = None
        dst_port: PortMatch | None = None
        initiated: str | None = None
        icmp_type: int | None = None
        icmp_code: int | None = None
        if l4_name is not None:
            expected = self.icmp_protocol if l4_name == "icmp" else L4_PROTOCOL[l4_name]
            if protocol is None:
                protocol = expected
            elif protocol != expected:
                return None
            l4 = matches[l4_name]
            if type(l4) is not dict:
                return None
            if l4_name == "icmp":
                for key, value in l4.items():
                    if type(value) is not int or not 0 <= value <= 255:
                        return None
                    if key == "type":
                        icmp_type = value
                    elif key == "code":
                        icmp_code = value
                    else:
                        return None
            else:
                for key, value in l4.items():
                    if key in _PORTS:
                        if type(value) is not dict or len(value) != 2 or value.get("operator") != "eq":
                            return None
                        number = value.get("port")
                        if type(number) is not int or not 0 <= number <= 65535:
                            return None
                        if key == "source-port":
                            src_port = eq_port(number)
                        else:
                            dst_port = eq_port(number)
                    elif key == INITIATED and l4_name == "tcp" and value in ("from-device", "to-device"):
                        initiated = value
                    else:
                        return None

        kind, peer, narrow = peer_of(abstraction, dnsname, network, None)
        try:
            return build_flow(
                self.direction, fam, kind, peer, narrow, protocol, src_port, dst_port, initiated, icmp_type, icmp_code,
                None, (),
            )  # fmt: skip
        except ValueError:  # pragma: no cover - _read says what is wrong
            return None

    def read(self, matches: dict[str, object], path: str) -> Flow | None:
        """The general reader: every match leaf, with every problem recorded at its path."""
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
                            ports[key] = eq_port(number)
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
        kind, peer, narrow = peer_of(abstraction, dnsname, network, mac)
        try:
            # Positional, in the order Flow declares its fields.
            return build_flow(
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
        # An ACE that matches only Ethernet fields (MUDgee's ARP rule inside an ipv4 ACL) is
        # an Ethernet flow, whatever the ACL's type says.
        if has_l4 or not has_eth:
            if len(ip_families) == 1:
                return ip_families[0]
            col.error(
                "ambiguous-family", path, f"no ipv4 or ipv6 match says which family this ACE of {acl_type} is for"
            )
            return None
        return "eth"


def peer_of(
    abstraction: tuple[str, str] | None, dnsname: str | None, network: str | None, mac: str | None
) -> tuple[str, str, str | None]:
    """(peer kind, peer, narrowing network) of an ACE: a MUD abstraction names the peer and a
    prefix beside it only narrows it; otherwise the DNS name, the prefix or the MAC is the peer."""
    if abstraction is not None:
        return abstraction[0], abstraction[1], network
    if dnsname is not None:
        return "dnsname", dnsname, None
    if network is not None:
        return "network", network, None
    if mac is not None:
        return "mac", mac, None
    return "any", "", None
