"""From the tallies of a whole input to flows: what each local address turned out to be, and
what the contributor should look at before sending (the warnings)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from profiles.mud.flows import Flow, PortMatch

from .observe import Observer, RawKey, Tally
from .peers import CONTROLLER_SERVICES, DHCP_SERVER_PORTS, host_prefix, is_public_resolver, mac_text, oui


@dataclass(frozen=True, slots=True)
class FlowStat:
    flow: Flow
    packets: int
    bytes: int
    first: float | None
    last: float | None


@dataclass(frozen=True, slots=True, order=True)
class Note:
    """A warning for the contributor: a stable code and a sentence."""

    code: str
    message: str


@dataclass(frozen=True, slots=True)
class Collection:
    flows: tuple[FlowStat, ...]
    notes: tuple[Note, ...]
    start: float | None
    end: float | None
    frames: int
    entries: int
    device_frames: int
    device_mac: str | None
    device_ips: tuple[str, ...]
    gateway_ips: tuple[str, ...]
    gateway_mac: str | None
    sources: tuple[str, ...] = field(default=())

    @property
    def flow_set(self) -> frozenset[Flow]:
        return frozenset(stat.flow for stat in self.flows)


def when(ts: float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _service(key: RawKey) -> int | None:
    direction, _, _, _, _, sport, dport = key[:7]
    return dport if direction == "from-device" else sport


def _guess_gateway(observer: Observer) -> tuple[set[str], bytes | None]:
    """The gateway's addresses and MAC: what was given, else what DHCP, DNS and routing showed."""
    mac = observer.gateway_mac
    if mac is None and observer.next_hops:
        mac = observer.next_hops.most_common(1)[0][0]
    addresses = set(observer.gateway_ips)
    if not observer.given_gateway:
        if not addresses and observer.dns_servers:
            addresses.add(observer.dns_servers.most_common(1)[0][0])
        if mac is not None:
            addresses.update(ip for ip, seen in observer.local_macs.items() if seen == mac)
    return addresses, mac


def _peer(
    key: RawKey, gateway: set[str], local_macs: dict[str, bytes], device_oui: str | None
) -> tuple[str, str, str | None]:
    """(peer kind, peer, network) of a raw flow."""
    kind, value, protocol = key[2], key[3], key[4]
    service = _service(key)
    if kind == "name":
        return "dnsname", value, None
    if kind == "ip":
        return "network", host_prefix(value), None
    if kind == "any":
        return "any", "", None
    if kind == "group":
        if protocol == 17 and service in DHCP_SERVER_PORTS:
            return "my-controller", "", None
        network = "ff02::1:ff00:0/104" if value.endswith(":ff") else host_prefix(value)
        return "local-networks", "", network
    if value in gateway and (protocol, service) in CONTROLLER_SERVICES:
        return "my-controller", "", None
    mac = local_macs.get(value)
    if device_oui is not None and mac is not None and value not in gateway and oui(mac_text(mac)) == device_oui:
        return "same-manufacturer", "", None
    return "local-networks", "", None


def _flow(key: RawKey, peer: tuple[str, str, str | None]) -> Flow:
    direction, family, _, _, protocol, sport, dport, initiated, icmp_type, ethertype = key
    return Flow(
        direction=direction,
        family=family,
        peer_kind=peer[0],
        peer=peer[1],
        network=peer[2],
        protocol=protocol,
        src_port=PortMatch.eq(sport) if sport is not None else None,
        dst_port=PortMatch.eq(dport) if dport is not None else None,
        initiated=initiated,
        icmp_type=icmp_type,
        ethertype=ethertype,
    )


def _protocol_text(protocol: int | None, port: int | None) -> str:
    name = {6: "TCP", 17: "UDP", 1: "ICMP", 58: "ICMPv6"}.get(protocol or -1, f"IP protocol {protocol}")
    return f"{name} {port}" if port is not None else name


def collection_from(observer: Observer, sources: Iterable[str] = ()) -> Collection:
    observer.close()
    gateway, gateway_mac = _guess_gateway(observer)
    device_mac = mac_text(observer.device_mac) if observer.device_mac else None
    device_oui = oui(device_mac) if device_mac else None
    merged: dict[Flow, Tally] = {}
    notes: set[Note] = set()
    for key, tally in observer.tallies.items():
        peer = _peer(key, gateway, observer.local_macs, device_oui)
        flow = _flow(key, peer)
        into = merged.get(flow)
        if into is None:
            into = merged[flow] = Tally(None)
        into.add(tally.packets, tally.bytes, tally.first, tally.last)
        service = _service(key)
        what = _protocol_text(key[4], service)
        if peer[0] == "network":
            notes.add(
                Note(
                    "ip-literal", f"{what} to {key[3]}: no DNS answer named this address, the flow keeps the IP literal"
                )
            )
        if is_public_resolver(peer[0], peer[1], key[4], service):
            notes.add(Note("public-resolver", f"{what} to {peer[1]}: a public DNS resolver (DNS, DoT or DoH)"))
    for inbound, tally in observer.inbound.items():
        if inbound.accepted and inbound.kind in ("local", "group"):
            continue  # a local peer using a service the device offers: expected
        peer_text = inbound.value if inbound.kind != "group" else f"the group {inbound.value}"
        what = _protocol_text(inbound.protocol, inbound.port)
        if inbound.accepted:
            message = f"{peer_text} opened {what} on the device, and the device answered"
        else:
            message = f"{peer_text} tried {what} on the device, which did not accept it ({tally.packets} packets)"
        notes.add(Note("unexpected-inbound", message))
    if observer.guessed_direction:
        notes.add(
            Note(
                "no-handshake",
                f"{observer.guessed_direction} TCP connection(s) began before the capture: who opened them was "
                "guessed from their ports",
            )
        )
    if observer.frames and not observer.device_frames:
        notes.add(Note("no-device-packets", f"none of the {observer.frames} frames is the device's"))
    if observer.undecodable:
        notes.add(Note("undecodable", f"{observer.undecodable} frame(s) could not be decoded and were skipped"))
    stats = tuple(
        FlowStat(flow, tally.packets, tally.bytes, tally.first, tally.last)
        for flow, tally in sorted(merged.items(), key=lambda item: item[0].key)
    )
    return Collection(
        flows=stats,
        notes=tuple(sorted(notes)),
        start=observer.start,
        end=observer.end,
        frames=observer.frames,
        entries=observer.entries,
        device_frames=observer.device_frames,
        device_mac=device_mac,
        device_ips=tuple(sorted(observer.device_ips)),
        gateway_ips=tuple(sorted(gateway)),
        gateway_mac=mac_text(gateway_mac) if gateway_mac else None,
        sources=tuple(sources),
    )
