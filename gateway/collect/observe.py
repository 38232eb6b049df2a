"""The device's conversations, tallied as they stream by: frames, DNS answers, connection entries.

Every source ends up in the same few calls: `frame` for a captured Ethernet frame, `answers`
for the DNS answers the device received, `conversation` for a connection table entry. A
conversation is decided once, on its first packet: who opened it (the TCP handshake, or for
UDP and handshake-less TCP the port that looks like a service), what the peer is called
(the DNS name valid at that moment, else the address) and which port is the service. Its
packets then only add to two tallies (one per direction), so memory follows the number of
distinct flows and open conversations, never the number of packets: idle conversations and
expired names are swept away as the capture's clock moves on.
"""

from __future__ import annotations

import socket
from collections import Counter
from dataclasses import dataclass

import dpkt

from .names import Answer, NameTable, answers_from_dns
from .peers import DHCP_SERVER_PORTS, classify

_ntop = socket.inet_ntop
_AF4, _AF6 = socket.AF_INET, socket.AF_INET6
_IP4, _IP6, _ARP = dpkt.ethernet.ETH_TYPE_IP, dpkt.ethernet.ETH_TYPE_IP6, dpkt.ethernet.ETH_TYPE_ARP
_TCP, _UDP, _ICMP, _ICMP6 = 6, 17, 1, 58
_SYN, _ACK, _FIN, _RST = dpkt.tcp.TH_SYN, dpkt.tcp.TH_ACK, dpkt.tcp.TH_FIN, dpkt.tcp.TH_RST
_BROADCAST_MAC = b"\xff" * 6
_IP4_TYPE, _IP6_TYPE = b"\x08\x00", b"\x86\xdd"
# Ports of services devices and gateways commonly offer: the side that uses one is the server
# when no handshake says so (UDP always, TCP when the capture began mid-connection).
SERVICE_PORTS = frozenset(
    {53, 67, 68, 69, 123, 137, 138, 161, 162, 500, 514, 546, 547, 1812, 1813, 1900, 3478, 4500, 5353, 5683, 5684}
)
EPHEMERAL_FROM = 32768
UDP_IDLE_SECONDS = 120.0
TCP_IDLE_SECONDS = 900.0
TCP_CLOSED_SECONDS = 30.0
_SWEEP_FRAMES = 65536
# Solicited-node multicast (RFC 4291): one group per device address; kept as the one prefix.
_SOLICITED_NODE = "ff02::1:ff"

# A raw flow: (direction, family, peer kind, peer value, protocol, src port, dst port,
# initiated, icmp type, ethertype). The peer is still raw here ("name", "ip", "local",
# "group", "any"): what a local address is (the gateway, a same-manufacturer device) is
# only known once the whole capture was read.
RawKey = tuple[str, str, str, str, "int | None", "int | None", "int | None", "str | None", "int | None", "int | None"]


class Tally:
    __slots__ = ("bytes", "first", "last", "packets")

    def __init__(self, first: float | None) -> None:
        self.packets = 0
        self.bytes = 0
        self.first = first
        self.last = first

    def add(self, packets: int, size: int, first: float | None, last: float | None) -> None:
        self.packets += packets
        self.bytes += size
        if first is not None and (self.first is None or first < self.first):
            self.first = first
        if last is not None and (self.last is None or last > self.last):
            self.last = last


@dataclass(frozen=True, slots=True)
class Inbound:
    """A conversation a peer opened towards the device."""

    family: str
    kind: str
    value: str
    protocol: int
    port: int
    accepted: bool


class _Conversation:
    __slots__ = ("closed", "inbound", "last", "outbound", "pending")

    def __init__(self, outbound: Tally, inbound: Tally, last: float, pending: Inbound | None = None) -> None:
        self.outbound = outbound
        self.inbound = inbound
        self.last = last
        # A peer's SYN the device has not answered yet: its packets wait in a tally of their own.
        self.pending = pending
        self.closed = False


def server_side(device_port: int, peer_port: int, device_sent_first: bool) -> bool:
    """Whether the device is the server of a conversation whose opening was not seen.

    A well-known port marks the server; else a port in the ephemeral range (32768 and up:
    Linux's 32768-60999 and IANA's 49152-65535) marks the client, so that the device's answer
    to a request it got by broadcast (port 9999 to a phone's 51000) makes 9999 the service;
    else whoever spoke first is the client.
    """
    if peer_port in DHCP_SERVER_PORTS:
        return False
    device_service = device_port in SERVICE_PORTS or device_port < 1024
    peer_service = peer_port in SERVICE_PORTS or peer_port < 1024
    if device_service != peer_service:
        return device_service
    device_ephemeral, peer_ephemeral = device_port >= EPHEMERAL_FROM, peer_port >= EPHEMERAL_FROM
    if device_ephemeral != peer_ephemeral:
        return peer_ephemeral
    return not device_sent_first


class Observer:
    def __init__(
        self,
        *,
        device_mac: str | None = None,
        device_ips: tuple[str, ...] = (),
        gateway_ips: tuple[str, ...] = (),
        gateway_mac: str | None = None,
    ) -> None:
        self.device_mac = bytes.fromhex(device_mac.replace(":", "")) if device_mac else None
        self.device_ips: set[str] = set(device_ips)
        self.gateway_ips: set[str] = set(gateway_ips)
        self.gateway_mac = bytes.fromhex(gateway_mac.replace(":", "")) if gateway_mac else None
        self.given_gateway = bool(gateway_ips)
        self.names = NameTable()
        self.tallies: dict[RawKey, Tally] = {}
        self.inbound: dict[Inbound, Tally] = {}
        self.local_macs: dict[str, bytes] = {}  # local peer address -> its MAC, as the device's frames show it
        self.next_hops: Counter[bytes] = Counter()  # MACs the device reaches public addresses through
        self.dns_servers: Counter[str] = Counter()  # local addresses the device asks DNS questions
        self._conversations: dict[tuple[int, str, int, str, int], _Conversation] = {}
        self.frames = 0
        self.entries = 0  # log lines and connection table entries read
        self.device_frames = 0
        self.undecodable = 0
        self.guessed_direction = 0
        self.start: float | None = None
        self.end: float | None = None
        self._swept = 0

    # --- the clock -------------------------------------------------------------------------

    def _tick(self, ts: float) -> None:
        if self.start is None or ts < self.start:
            self.start = ts
        if self.end is None or ts > self.end:
            self.end = ts

    def sweep(self, now: float) -> None:
        """Forget conversations idle past their timeout (their tallies stay)."""
        dead = [
            key
            for key, conv in self._conversations.items()
            if now - conv.last
            > (TCP_CLOSED_SECONDS if conv.closed else TCP_IDLE_SECONDS if key[0] == _TCP else UDP_IDLE_SECONDS)
        ]
        for key in dead:
            self._settle(self._conversations.pop(key))

    def close(self) -> None:
        """The input ended: inbound attempts still unanswered are counted as such."""
        for conv in self._conversations.values():
            self._settle(conv)
        self._conversations.clear()

    def _settle(self, conv: _Conversation) -> None:
        if conv.pending is not None:
            waiting = conv.inbound
            self._inbound_tally(conv.pending, False).add(waiting.packets, waiting.bytes, waiting.first, waiting.last)
            conv.pending = None

    # --- frames ----------------------------------------------------------------------------

    def frame(self, ts: float, buf: bytes) -> None:
        """One captured Ethernet frame."""
        self.frames += 1
        self._tick(ts)
        if self.frames - self._swept >= _SWEEP_FRAMES:
            self._swept = self.frames
            self.sweep(ts)
        device = self.device_mac
        if device is not None:
            # By MAC, a frame is the device's or not before anything is decoded: on a mirror
            # port most frames are other devices', and decoding is most of the cost.
            if buf[6:12] == device:
                outgoing = True
            elif buf[:6] == device:
                outgoing = False
            else:
                return
            # Untagged IP, the bulk of a capture: dpkt decodes it from the IP header on, which
            # spares the Ethernet layer's search for VLAN, MPLS and LLC headers.
            kind = buf[12:14]
            try:
                if kind == _IP4_TYPE:
                    ip4 = dpkt.ip.IP(buf[14:])
                    self.device_frames += 1
                    self._ip(ts, outgoing, buf, ip4, "ipv4", _ntop(_AF4, ip4.src), _ntop(_AF4, ip4.dst), ip4.len)
                    return
                if kind == _IP6_TYPE:
                    ip6 = dpkt.ip6.IP6(buf[14:])
                    self.device_frames += 1
                    self._ip(ts, outgoing, buf, ip6, "ipv6", _ntop(_AF6, ip6.src), _ntop(_AF6, ip6.dst), 40 + ip6.plen)
                    return
            except (dpkt.UnpackError, ValueError, IndexError):
                self.device_frames += 1
                self.undecodable += 1
                return
        try:
            eth = dpkt.ethernet.Ethernet(buf)
        except (dpkt.UnpackError, ValueError, IndexError):
            self.undecodable += 1
            return
        if device is None:
            found = self._by_address(eth)
            if found is None:
                return
            outgoing = found
        self.device_frames += 1
        kind, data = eth.type, eth.data
        macs = eth.dst + eth.src  # the frame's own MAC header, VLAN tags left out
        if kind == _IP4 and isinstance(data, dpkt.ip.IP):
            self._ip(ts, outgoing, macs, data, "ipv4", _ntop(_AF4, data.src), _ntop(_AF4, data.dst), data.len)
        elif kind == _IP6 and isinstance(data, dpkt.ip6.IP6):
            self._ip(ts, outgoing, macs, data, "ipv6", _ntop(_AF6, data.src), _ntop(_AF6, data.dst), 40 + data.plen)
        elif kind in (_IP4, _IP6):
            self.undecodable += 1
        elif kind >= 0x0600:  # an EtherType (below it, an 802.3 length: LLC frames carry no flow a MUD file names)
            direction = "from-device" if outgoing else "to-device"
            key: RawKey = (direction, "eth", "any", "", None, None, None, None, None, kind)
            self._add(key, ts, len(buf))

    def _by_address(self, eth: dpkt.ethernet.Ethernet) -> bool | None:
        """Without the device's MAC: whether the frame is from (True) or to (False) the device's
        address, learning the MAC from the first frame the device sends."""
        data = eth.data
        if isinstance(data, dpkt.ip.IP):
            src, dst = _ntop(_AF4, data.src), _ntop(_AF4, data.dst)
        elif isinstance(data, dpkt.ip6.IP6):
            src, dst = _ntop(_AF6, data.src), _ntop(_AF6, data.dst)
        elif isinstance(data, dpkt.arp.ARP) and len(data.spa) == 4 and len(data.tpa) == 4:
            src, dst = _ntop(_AF4, data.spa), _ntop(_AF4, data.tpa)
        else:
            return None
        if src in self.device_ips:
            self.device_mac = eth.src  # from now on, frames are the device's by MAC
            return True
        if dst in self.device_ips:
            return False
        return None

    def _ip(
        self, ts: float, outgoing: bool, macs: bytes, ip: dpkt.Packet, family: str, src: str, dst: str, size: int,
    ) -> None:  # fmt: skip
        """One IP packet of the device; `macs` begins with the frame's destination and source MACs."""
        if outgoing:
            device_ip, peer_ip = src, dst
            if device_ip not in self.device_ips and not device_ip.startswith(("0.", "::")) and device_ip != "::":
                self.device_ips.add(device_ip)
        else:
            device_ip, peer_ip = dst, src
        where = classify(peer_ip)
        if where == "public":
            self.next_hops[macs[:6] if outgoing else macs[6:12]] += 1
        elif outgoing and macs[:6] == _BROADCAST_MAC and where == "local":
            where = "group"  # a directed broadcast (192.168.1.255): a group, not a peer
        elif where == "local" and peer_ip not in self.local_macs and len(self.local_macs) < 4096:
            self.local_macs[peer_ip] = macs[:6] if outgoing else macs[6:12]
        if where == "group":
            kind, value = "group", (_SOLICITED_NODE if peer_ip.startswith(_SOLICITED_NODE) else peer_ip)
        elif where == "public":
            kind, value = "ip", peer_ip  # named below, once per conversation
        else:
            kind, value = "local", peer_ip
        protocol = ip.p
        l4 = ip.data
        if protocol == _TCP and isinstance(l4, dpkt.tcp.TCP):
            if not outgoing and l4.sport == 53 and len(l4.data) > 14:
                self._dns(ts, bytes(l4.data)[2:])  # DNS over TCP: a length, then the message (if whole)
            self._tcp(ts, outgoing, family, kind, value, device_ip, peer_ip, l4, size)
        elif protocol == _UDP and isinstance(l4, dpkt.udp.UDP):
            if not outgoing and l4.sport == 53:
                self._dns(ts, bytes(l4.data))
            elif not outgoing and l4.sport == 67:
                self._dhcp(bytes(l4.data))
            elif outgoing and l4.dport == 53 and where == "local":
                self.dns_servers[peer_ip] += 1
            self._udp(ts, outgoing, family, kind, value, device_ip, peer_ip, l4.sport, l4.dport, size)
        else:
            icmp_type = None
            if protocol == (_ICMP if family == "ipv4" else _ICMP6) and isinstance(l4, dpkt.Packet):
                icmp_type = l4.type
            if kind == "ip":
                kind, value = self._named(peer_ip, ts)
            direction = "from-device" if outgoing else "to-device"
            self._add((direction, family, kind, value, protocol, None, None, None, icmp_type, None), ts, size)

    def _named(self, address: str, ts: float | None) -> tuple[str, str]:
        name = self.names.name(address, ts)
        return ("name", name) if name is not None else ("ip", address)

    def _add(self, key: RawKey, ts: float, size: int) -> None:
        tally = self.tallies.get(key)
        if tally is None:
            tally = self.tallies[key] = Tally(ts)
        tally.packets += 1
        tally.bytes += size
        tally.last = ts

    def _pair(
        self, family: str, kind: str, value: str, protocol: int, service: int, device_initiated: bool
    ) -> tuple[Tally, Tally]:
        """The from-device and to-device tallies of one conversation's flow pair."""
        initiated = None
        if protocol == _TCP:
            initiated = "from-device" if device_initiated else "to-device"
        if device_initiated:
            out: RawKey = ("from-device", family, kind, value, protocol, None, service, initiated, None, None)
            back: RawKey = ("to-device", family, kind, value, protocol, service, None, initiated, None, None)
        else:
            out = ("from-device", family, kind, value, protocol, service, None, initiated, None, None)
            back = ("to-device", family, kind, value, protocol, None, service, initiated, None, None)
        tallies = self.tallies
        if out not in tallies:
            tallies[out] = Tally(None)
        if back not in tallies:
            tallies[back] = Tally(None)
        return tallies[out], tallies[back]

    def _inbound_tally(self, key: Inbound, accepted: bool = True) -> Tally:
        if key.accepted != accepted:
            key = Inbound(key.family, key.kind, key.value, key.protocol, key.port, accepted)
        tally = self.inbound.get(key)
        if tally is None:
            tally = self.inbound[key] = Tally(None)
        return tally

    def _tcp(
        self, ts: float, outgoing: bool, family: str, kind: str, value: str, device_ip: str, peer_ip: str,
        tcp: dpkt.tcp.TCP, size: int,
    ) -> None:  # fmt: skip
        device_port, peer_port = (tcp.sport, tcp.dport) if outgoing else (tcp.dport, tcp.sport)
        key = (_TCP, device_ip, device_port, peer_ip, peer_port)
        flags = tcp.flags
        conv = self._conversations.get(key)
        opening = flags & (_SYN | _ACK) == _SYN
        if conv is not None and ((opening and conv.closed) or ts - conv.last > TCP_IDLE_SECONDS):
            self._settle(conv)  # the four-tuple is reused for a new connection
            conv = None
        if conv is None:
            if opening:
                device_initiated = outgoing
            elif flags & (_SYN | _ACK) == _SYN | _ACK:
                device_initiated = not outgoing
            else:
                self.guessed_direction += 1
                device_initiated = not server_side(device_port, peer_port, outgoing)
            if kind == "ip":
                kind, value = self._named(peer_ip, ts)
            service = peer_port if device_initiated else device_port
            if device_initiated or (outgoing and not flags & _RST):
                out, back = self._pair(family, kind, value, _TCP, service, device_initiated)
                if not device_initiated:
                    self._inbound_tally(Inbound(family, kind, value, _TCP, service, True))
                conv = _Conversation(out, back, ts)
            else:  # a peer's SYN: flows only once the device accepts it
                waiting = Tally(None)
                conv = _Conversation(waiting, waiting, ts, Inbound(family, kind, value, _TCP, service, True))
            self._conversations[key] = conv
        elif conv.pending is not None and outgoing:
            pending, waiting = conv.pending, conv.inbound
            conv.pending = None
            if flags & _RST:  # refused: no flow, an unanswered inbound attempt
                self._inbound_tally(pending, False).add(waiting.packets, waiting.bytes, waiting.first, waiting.last)
                conv.outbound = conv.inbound = Tally(None)
            else:  # the device answers: it listens on this port
                conv.outbound, conv.inbound = self._pair(
                    pending.family, pending.kind, pending.value, pending.protocol, pending.port, False
                )
                conv.inbound.add(waiting.packets, waiting.bytes, waiting.first, waiting.last)
                self._inbound_tally(pending).add(waiting.packets, waiting.bytes, waiting.first, waiting.last)
        tally = conv.outbound if outgoing else conv.inbound
        tally.packets += 1
        tally.bytes += size
        if tally.first is None:
            tally.first = ts
        tally.last = ts
        conv.last = ts
        if flags & (_FIN | _RST):
            conv.closed = True

    def _udp(
        self, ts: float, outgoing: bool, family: str, kind: str, value: str, device_ip: str, peer_ip: str,
        sport: int, dport: int, size: int,
    ) -> None:  # fmt: skip
        device_port, peer_port = (sport, dport) if outgoing else (dport, sport)
        if kind == "group":
            # Sent to a group (or received from one: never, by MAC): no conversation to follow.
            if outgoing:
                self._add(("from-device", family, kind, value, _UDP, None, peer_port, None, None, None), ts, size)
            return
        key = (_UDP, device_ip, device_port, peer_ip, peer_port)
        conv = self._conversations.get(key)
        if conv is None or ts - conv.last > UDP_IDLE_SECONDS:
            device_initiated = not server_side(device_port, peer_port, outgoing)
            if kind == "ip":
                kind, value = self._named(peer_ip, ts)
            service = peer_port if device_initiated else device_port
            out, back = self._pair(family, kind, value, _UDP, service, device_initiated)
            if not device_initiated:
                self._inbound_tally(Inbound(family, kind, value, _UDP, service, True))
            conv = self._conversations[key] = _Conversation(out, back, ts)
        tally = conv.outbound if outgoing else conv.inbound
        tally.packets += 1
        tally.bytes += size
        if tally.first is None:
            tally.first = ts
        tally.last = ts
        conv.last = ts

    # --- what the device learns from the network --------------------------------------------

    def _dns(self, ts: float, payload: bytes) -> None:
        try:
            message = dpkt.dns.DNS(payload)
        except (dpkt.UnpackError, ValueError, IndexError):
            return
        self.names.add(answers_from_dns(ts, message))

    def _dhcp(self, payload: bytes) -> None:
        if self.given_gateway:
            return
        try:
            message = dpkt.dhcp.DHCP(payload)
        except (dpkt.UnpackError, ValueError, IndexError):
            return
        for code, data in message.opts:
            if code in (dpkt.dhcp.DHCP_OPT_SERVER_ID, dpkt.dhcp.DHCP_OPT_ROUTER) and len(data) >= 4:
                self.gateway_ips.add(_ntop(_AF4, data[:4]))

    def answers(self, answers: list[Answer]) -> None:
        """DNS answers the device received, from a resolver's log."""
        self.entries += 1
        for answer in answers:
            self._tick(answer.time)
        self.names.add(answers)

    # --- connection table entries -----------------------------------------------------------

    def conversation(
        self,
        *,
        ts: float | None,
        family: str,
        protocol: int,
        device_ip: str,
        device_port: int | None,
        peer_ip: str,
        peer_port: int | None,
        device_initiated: bool,
        answered: bool,
        sent: tuple[int, int],
        received: tuple[int, int],
        icmp_types: tuple[int | None, int | None] = (None, None),  # the opener's ICMP type, the answer's
    ) -> None:
        """One connection of a connection table (packets and bytes as (count, bytes) deltas)."""
        self.entries += 1
        if ts is not None:
            self._tick(ts)
        self.device_frames += sent[0] + received[0]
        where = classify(peer_ip)
        if where == "group":
            kind, value = "group", peer_ip
        elif where == "public":
            kind, value = self._named(peer_ip, ts)
        else:
            kind, value = "local", peer_ip
        if protocol == _UDP and device_initiated and peer_port == 53 and where == "local":
            self.dns_servers[peer_ip] += 1
        if protocol in (_TCP, _UDP) and device_port is not None and peer_port is not None:
            service = peer_port if device_initiated else device_port
            if not device_initiated:
                inbound = Inbound(family, kind, value, protocol, service, answered)
                self._inbound_tally(inbound, answered).add(received[0], received[1], ts, ts)
                if not answered:
                    return
            out, back = self._pair(family, kind, value, protocol, service, device_initiated)
        else:
            opener, answer = icmp_types if protocol == (_ICMP if family == "ipv4" else _ICMP6) else (None, None)
            out_type, back_type = (opener, answer) if device_initiated else (answer, opener)
            out = self._icmp_tally("from-device", family, kind, value, protocol, out_type)
            back = self._icmp_tally("to-device", family, kind, value, protocol, back_type)
        out.add(sent[0], sent[1], ts, ts)
        back.add(received[0], received[1], ts if received[0] else None, ts if received[0] else None)

    def _icmp_tally(self, direction: str, family: str, kind: str, value: str, protocol: int, icmp: int | None) -> Tally:
        key: RawKey = (direction, family, kind, value, protocol, None, None, None, icmp, None)
        tally = self.tallies.get(key)
        if tally is None:
            tally = self.tallies[key] = Tally(None)
        return tally
