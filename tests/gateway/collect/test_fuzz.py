"""Damaged frames never break the collector: whatever it reads becomes flows a MUD file can hold."""

from __future__ import annotations

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from gateway.collect.collection import collection_from
from gateway.collect.observe import Observer
from gateway.collect.outputs import mud_file
from tests.gateway.collect.traffic import DEVICE_MAC, GATEWAY_IP, T0, Traffic


def _frames() -> list[tuple[float, bytes]]:
    traffic = Traffic()
    traffic.dhcp(T0)
    traffic.arp(T0, GATEWAY_IP)
    chain = [("CNAME", "api.example.com", "e.example.net", 60), ("A", "e.example.net", "192.0.2.1", 60)]
    traffic.dns(T0 + 1, "api.example.com", chain)
    traffic.dns(T0 + 1, "v6.example.com", [("AAAA", "v6.example.com", "2001:db8::1", 60)], qtype=28)
    traffic.tcp(T0 + 2, "192.0.2.1", 443)
    traffic.udp(T0 + 3, "198.51.100.1", 123)
    traffic.multicast(T0 + 4, "239.255.255.250", 1900, "01:00:5e:7f:ff:fa")
    return traffic.ordered()


FRAMES = _frames()
# The first TCP segment, its IPv4 protocol byte: ICMPv6 inside IPv4 once made an ICMP type
# that no MUD file can hold (icmp type/code need protocol 1 in ipv4).
_TCP = next(i for i, (_, frame) in enumerate(FRAMES) if frame[12:14] == b"\x08\x00" and frame[23] == 6)
damage = st.lists(
    st.tuples(st.integers(0, len(FRAMES) - 1), st.integers(0, 1500), st.integers(0, 255), st.booleans()),
    max_size=40,
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(damage)
@example([(_TCP, 23, 58, False)])
def test_damaged_frames_give_flows_that_emit(changes: list[tuple[int, int, int, bool]]) -> None:
    frames = [bytearray(frame) for _, frame in FRAMES]
    for which, offset, value, cut in changes:
        frame = frames[which]
        if cut:
            del frame[offset % (len(frame) + 1) :]
        elif frame:
            frame[offset % len(frame)] = value
    observer = Observer(device_mac=DEVICE_MAC)
    for (ts, _), frame in zip(FRAMES, frames, strict=True):
        observer.frame(ts, bytes(frame))
    collection = collection_from(observer)
    assert collection.frames == len(FRAMES)
    mud_file(collection)  # raises ValueError for a flow no MUD file can express
