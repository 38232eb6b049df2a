"""Synthetic traffic for the collector's tests: frames written with dpkt as pcap or pcapng,
and, for the same conversations, the dnsmasq log and conntrack events a router would keep.

Public peers use the documentation ranges (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24,
2001:db8::/32): the captures are only ever written to files, never sent.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import dpkt

DEVICE_MAC = "50:c7:bf:00:00:17"  # a TP-Link OUI
DEVICE_IP = "192.168.1.23"
DEVICE_IP6 = "2001:db8:1::23"
GATEWAY_MAC = "00:b5:6d:00:00:01"
GATEWAY_IP = "192.168.1.1"
OTHER_MAC = "3c:22:fb:00:00:05"  # someone else's phone on the same network
OTHER_IP = "192.168.1.50"
SIBLING_MAC = "50:c7:bf:00:00:99"  # another device of the same manufacturer
SIBLING_IP = "192.168.1.60"
BROADCAST = "ff:ff:ff:ff:ff:ff"
T0 = 1_790_000_000.0  # 2026-09-21


def _mac(text: str) -> bytes:
    return bytes.fromhex(text.replace(":", ""))


def _family(address: str) -> int:
    return socket.AF_INET6 if ":" in address else socket.AF_INET


@dataclass
class Traffic:
    """Frames in time order; `log` and `conntrack` hold the router's view of the same traffic."""

    device_mac: str = DEVICE_MAC
    device_ip: str = DEVICE_IP
    gateway_mac: str = GATEWAY_MAC
    gateway_ip: str = GATEWAY_IP
    frames: list[tuple[float, bytes]] = field(default_factory=list)
    log: list[tuple[float, str]] = field(default_factory=list)
    conntrack: list[str] = field(default_factory=list)
    _next_port: int = 40000

    # --- building blocks ----------------------------------------------------------------

    def ephemeral(self) -> int:
        self._next_port += 1
        return self._next_port

    def frame(self, ts: float, src: str, dst: str, kind: int, payload: bytes | dpkt.Packet) -> None:
        eth = dpkt.ethernet.Ethernet(src=_mac(src), dst=_mac(dst), type=kind, data=payload)
        self.frames.append((ts, bytes(eth)))

    def ip(self, ts: float, src: str, dst: str, l4: dpkt.Packet, protocol: int, *, src_mac: str, dst_mac: str) -> int:
        """One IP packet; returns its length as conntrack counts it."""
        if ":" in src:
            packet: dpkt.Packet = dpkt.ip6.IP6(
                src=socket.inet_pton(socket.AF_INET6, src), dst=socket.inet_pton(socket.AF_INET6, dst),
                nxt=protocol, hlim=64, data=l4, plen=len(bytes(l4)),
            )  # fmt: skip
            kind = dpkt.ethernet.ETH_TYPE_IP6
        else:
            packet = dpkt.ip.IP(src=socket.inet_aton(src), dst=socket.inet_aton(dst), p=protocol, ttl=64, data=l4)
            packet.len = len(bytes(packet))
            kind = dpkt.ethernet.ETH_TYPE_IP
        if isinstance(l4, dpkt.tcp.TCP | dpkt.udp.UDP):
            l4.sum = 0  # dpkt computes the checksum with the addresses it now knows
        data = bytes(packet)
        self.frame(ts, src_mac, dst_mac, kind, data)
        return len(data)

    def _log(self, ts: float, message: str) -> None:
        self.log.append((ts, message))

    # --- conversations ------------------------------------------------------------------

    def dns(
        self,
        ts: float,
        question: str,
        records: list[tuple[str, str, str, int]],
        *,
        server: str | None = None,
        server_mac: str | None = None,
        qtype: int = dpkt.dns.DNS_A,
    ) -> None:
        """The device asks `server` (the gateway by default) and gets `records`:
        (type, owner, value, ttl) with type "A", "AAAA" or "CNAME"."""
        server = server or self.gateway_ip
        port = self.ephemeral()
        query = dpkt.dns.DNS(id=port & 0xFFFF, qd=[dpkt.dns.DNS.Q(name=question, type=qtype)])
        sent = self.ip(ts, self.device_ip, server, dpkt.udp.UDP(sport=port, dport=53, data=bytes(query)), 17,
                       src_mac=self.device_mac, dst_mac=server_mac or self.gateway_mac)  # fmt: skip
        answer = dpkt.dns.DNS(
            id=port & 0xFFFF, op=0x8180, rcode=dpkt.dns.DNS_RCODE_NOERR,  # a response, recursion available
            qd=[dpkt.dns.DNS.Q(name=question, type=qtype)], an=[self._rr(*record) for record in records],
        )  # fmt: skip
        got = self.ip(ts + 0.01, server, self.device_ip, dpkt.udp.UDP(sport=53, dport=port, data=bytes(answer)), 17,
                      src_mac=server_mac or self.gateway_mac, dst_mac=self.device_mac)  # fmt: skip
        kind = {dpkt.dns.DNS_A: "A", dpkt.dns.DNS_AAAA: "AAAA"}[qtype]
        self._log(ts, f"query[{kind}] {question} from {self.device_ip}")
        self._log(ts, f"forwarded {question} to 198.51.100.53")
        for rtype, owner, value, _ in records:
            self._log(ts + 0.01, f"reply {owner} is {'<CNAME>' if rtype == 'CNAME' else value}")
        self._conntrack(ts + 0.01, 17, self.device_ip, port, server, 53, (1, sent), (1, got), answered=True)

    @staticmethod
    def _rr(rtype: str, owner: str, value: str, ttl: int) -> dpkt.dns.DNS.RR:
        if rtype == "CNAME":
            rr = dpkt.dns.DNS.RR(name=owner, type=dpkt.dns.DNS_CNAME, cls=dpkt.dns.DNS_IN, ttl=ttl)
            rr.cname = value
            rr.rdata = b""
            return rr
        kind = dpkt.dns.DNS_A if rtype == "A" else dpkt.dns.DNS_AAAA
        return dpkt.dns.DNS.RR(name=owner, type=kind, cls=dpkt.dns.DNS_IN, ttl=ttl,
                               rdata=socket.inet_pton(_family(value), value))  # fmt: skip

    def tcp(
        self,
        ts: float,
        peer: str,
        port: int,
        *,
        opened_by_device: bool = True,
        device_port: int | None = None,
        peer_mac: str | None = None,
        exchanges: int = 2,
        accept: bool = True,
        handshake: bool = True,
        device_ip: str | None = None,
    ) -> None:
        """A TCP connection: to `peer`:`port` (opened by the device), or from `peer` to the
        device's `port` (opened by the peer); `exchanges` request/answer data segments."""
        device_ip = device_ip or self.device_ip
        peer_mac = peer_mac or self.gateway_mac
        device_port = device_port or (self.ephemeral() if opened_by_device else port)
        peer_port = port if opened_by_device else self.ephemeral()
        counts = {True: [0, 0], False: [0, 0]}  # from the device, to it

        def seg(t: float, from_device: bool, flags: int, data: bytes = b"") -> None:
            sport, dport = (device_port, peer_port) if from_device else (peer_port, device_port)
            src, dst = (device_ip, peer) if from_device else (peer, device_ip)
            macs = (self.device_mac, peer_mac) if from_device else (peer_mac, self.device_mac)
            size = self.ip(t, src, dst, dpkt.tcp.TCP(sport=sport, dport=dport, flags=flags, data=data, off=5), 6,
                           src_mac=macs[0], dst_mac=macs[1])  # fmt: skip
            counts[from_device][0] += 1
            counts[from_device][1] += size

        opener = opened_by_device
        syn, ack = dpkt.tcp.TH_SYN, dpkt.tcp.TH_ACK
        t = ts
        if handshake:
            seg(t, opener, syn)
            if not accept:
                seg(t + 0.01, not opener, dpkt.tcp.TH_RST | ack)
                self._conntrack_tcp(t, device_ip, device_port, peer, peer_port, counts, opener, answered=False)
                return
            seg(t + 0.01, not opener, syn | ack)
            seg(t + 0.02, opener, ack)
        for n in range(exchanges):
            t = ts + 0.1 + n
            seg(t, opener, ack | dpkt.tcp.TH_PUSH, b"q" * 40)
            seg(t + 0.02, not opener, ack | dpkt.tcp.TH_PUSH, b"a" * 300)
        t += 0.1
        seg(t, opener, dpkt.tcp.TH_FIN | ack)
        seg(t + 0.01, not opener, dpkt.tcp.TH_FIN | ack)
        seg(t + 0.02, opener, ack)
        self._conntrack_tcp(t + 0.02, device_ip, device_port, peer, peer_port, counts, opener, answered=True)

    def _conntrack_tcp(
        self, ts: float, device_ip: str, device_port: int, peer: str, peer_port: int,
        counts: dict[bool, list[int]], opened_by_device: bool, *, answered: bool,
    ) -> None:  # fmt: skip
        if opened_by_device:
            self._conntrack(ts, 6, device_ip, device_port, peer, peer_port, counts[True], counts[False], answered)
        else:
            self._conntrack(ts, 6, peer, peer_port, device_ip, device_port, counts[False], counts[True], answered)

    def _conntrack(
        self, ts: float, protocol: int, src: str, sport: int, dst: str, dport: int,
        original: tuple[int, int] | list[int], reply: tuple[int, int] | list[int], answered: bool,
    ) -> None:  # fmt: skip
        name = {6: "tcp", 17: "udp"}[protocol]
        unreplied = "" if answered else " [UNREPLIED]"
        self.conntrack.append(
            f"[{ts:.6f}]\t[DESTROY] {name}      {protocol} src={src} dst={dst} sport={sport} dport={dport} "
            f"packets={original[0]} bytes={original[1]}{unreplied} src={dst} dst={src} sport={dport} dport={sport} "
            f"packets={reply[0]} bytes={reply[1]} mark=0 use=1"
        )

    def udp(
        self, ts: float, peer: str, port: int, *, device_port: int | None = None, peer_mac: str | None = None,
        opened_by_device: bool = True, answered: bool = True, peer_port: int | None = None,
    ) -> None:  # fmt: skip
        """A UDP request and its answer (to the device's service `port` when the peer opens it)."""
        peer_mac = peer_mac or self.gateway_mac
        device_port = device_port or (self.ephemeral() if opened_by_device else port)
        peer_port = peer_port or (port if opened_by_device else self.ephemeral())
        out = dpkt.udp.UDP(sport=device_port, dport=peer_port, data=b"r" * 48)
        back = dpkt.udp.UDP(sport=peer_port, dport=device_port, data=b"s" * 48)
        if opened_by_device:
            a = self.ip(ts, self.device_ip, peer, out, 17, src_mac=self.device_mac, dst_mac=peer_mac)
            b = (
                self.ip(ts + 0.01, peer, self.device_ip, back, 17, src_mac=peer_mac, dst_mac=self.device_mac)
                if answered
                else 0
            )
            self._conntrack(ts + 0.01, 17, self.device_ip, device_port, peer, peer_port, (1, a), (int(answered), b),
                            answered)  # fmt: skip
        else:
            b = self.ip(ts, peer, self.device_ip, back, 17, src_mac=peer_mac, dst_mac=self.device_mac)
            a = self.ip(ts + 0.01, self.device_ip, peer, out, 17, src_mac=self.device_mac, dst_mac=peer_mac)
            self._conntrack(ts + 0.01, 17, peer, peer_port, self.device_ip, device_port, (1, b), (1, a), True)

    def multicast(self, ts: float, group: str, port: int, group_mac: str) -> None:
        self.ip(ts, self.device_ip, group, dpkt.udp.UDP(sport=port, dport=port, data=b"m" * 30), 17,
                src_mac=self.device_mac, dst_mac=group_mac)  # fmt: skip

    def arp(self, ts: float, target: str) -> None:
        request = dpkt.arp.ARP(
            op=dpkt.arp.ARP_OP_REQUEST, sha=_mac(self.device_mac), spa=socket.inet_aton(self.device_ip),
            tha=b"\x00" * 6, tpa=socket.inet_aton(target),
        )  # fmt: skip
        self.frame(ts, self.device_mac, BROADCAST, dpkt.ethernet.ETH_TYPE_ARP, request)
        reply = dpkt.arp.ARP(
            op=dpkt.arp.ARP_OP_REPLY, sha=_mac(self.gateway_mac), spa=socket.inet_aton(target),
            tha=_mac(self.device_mac), tpa=socket.inet_aton(self.device_ip),
        )  # fmt: skip
        self.frame(ts + 0.001, self.gateway_mac, self.device_mac, dpkt.ethernet.ETH_TYPE_ARP, reply)

    def eapol(self, ts: float) -> None:
        self.frame(ts, self.device_mac, self.gateway_mac, 0x888E, b"\x02\x03\x00\x5f" + b"\x00" * 95)

    def dhcp(self, ts: float) -> None:
        """Discover and ack: the ack names the gateway as server and router."""
        discover = dpkt.dhcp.DHCP(chaddr=_mac(self.device_mac), opts=[(dpkt.dhcp.DHCP_OPT_MSGTYPE, b"\x01")])
        self.ip(ts, "0.0.0.0", "255.255.255.255", dpkt.udp.UDP(sport=68, dport=67, data=bytes(discover)), 17,
                src_mac=self.device_mac, dst_mac=BROADCAST)  # fmt: skip
        gateway = socket.inet_aton(self.gateway_ip)
        options = [(dpkt.dhcp.DHCP_OPT_MSGTYPE, b"\x05"), (dpkt.dhcp.DHCP_OPT_SERVER_ID, gateway),
                   (dpkt.dhcp.DHCP_OPT_ROUTER, gateway)]  # fmt: skip
        offered = int.from_bytes(socket.inet_aton(self.device_ip), "big")
        ack = dpkt.dhcp.DHCP(op=dpkt.dhcp.DHCP_OP_REPLY, chaddr=_mac(self.device_mac), yiaddr=offered, opts=options)
        self.ip(ts + 0.01, self.gateway_ip, self.device_ip, dpkt.udp.UDP(sport=67, dport=68, data=bytes(ack)), 17,
                src_mac=self.gateway_mac, dst_mac=self.device_mac)  # fmt: skip
        self._log(ts + 0.01, f"DHCPACK(br-lan) {self.device_ip} {self.device_mac} plug")

    # --- files --------------------------------------------------------------------------

    def ordered(self) -> list[tuple[float, bytes]]:
        return sorted(self.frames, key=lambda item: item[0])

    def write_pcap(self, path: Path) -> Path:
        with open(path, "wb") as out:
            writer = dpkt.pcap.Writer(out, nano=False)
            for ts, frame in self.ordered():
                writer.writepkt(frame, ts=ts)
        return path

    def write_pcapng(self, path: Path) -> Path:
        with open(path, "wb") as out:
            writer = dpkt.pcapng.Writer(out)
            for ts, frame in self.ordered():
                writer.writepkt(frame, ts=ts)
        return path

    def write_log(self, path: Path, utc_offset_hours: int = 0) -> Path:
        """logread's format, in the router's local time (`utc_offset_hours` east of UTC)."""
        zone = timezone(timedelta(hours=utc_offset_hours))
        lines = [
            f"{datetime.fromtimestamp(ts, zone).strftime('%a %b %d %H:%M:%S %Y')} daemon.info dnsmasq[812]: {message}"
            for ts, message in self.log
        ]
        path.write_text("\n".join(lines) + "\n")
        return path

    def write_conntrack(self, path: Path) -> Path:
        lines = sorted(self.conntrack, key=lambda line: float(line[1 : line.index("]")]))
        path.write_text("\n".join(lines) + "\n")
        return path
