"""The shared setup captures of five real devices (../shared/datasets/pcap-iot-sentinel)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import dpkt
import pytest

from gateway.collect import collect
from gateway.collect.outputs import flows_json, mud_file
from profiles.mud import parse
from tests.support import require_pcaps, require_validate_mud

pytestmark = [pytest.mark.shared]

# What each device is known to do in its setup (SOURCES.md, and the captures' own DNS).
EXPECTED = {
    "TP-LinkPlugHS110": "from-device ipv4 dnsname=devs.tplinkcloud.com proto=6 dport=eq50443 init=from-device",
    "HueBridge": "from-device ipv4 dnsname=bridge.meethue.com proto=6 dport=eq80 init=from-device",
}


def _as_pcapng(pcap: Path, target: Path) -> Path:
    with open(pcap, "rb") as source, open(target, "wb") as out:
        writer = dpkt.pcapng.Writer(out)
        for ts, frame in dpkt.pcap.Reader(source):
            writer.writepkt(frame, ts=ts)
    return target


def _client_ports(capture: Path, mac: str) -> set[int]:
    """The source ports of the device's own TCP SYNs."""
    device = bytes.fromhex(mac.replace(":", ""))
    ports = set()
    with open(capture, "rb") as source:
        for _, frame in dpkt.pcap.Reader(source):
            eth = dpkt.ethernet.Ethernet(frame)
            tcp = getattr(eth.data, "data", None)
            if eth.src == device and isinstance(tcp, dpkt.tcp.TCP) and tcp.flags & 0x12 == 0x02:
                ports.add(tcp.sport)
    return ports


def test_every_shared_capture_gives_flows_a_valid_mud_file_and_the_same_bytes_twice(tmp_path: Path) -> None:
    validate = require_validate_mud()
    written = []
    for folder, mac, captures in require_pcaps():
        for capture in captures:
            first = collect([str(capture)], device_mac=mac)
            again = collect([str(capture)], device_mac=mac)
            label = f"{folder}/{capture.name}"
            assert first.device_frames > 0 and first.flows, label
            assert first.device_mac == mac
            mud = mud_file(first, manufacturer=folder, model="setup capture")
            assert mud == mud_file(again, manufacturer=folder, model="setup capture"), label
            assert flows_json(first) == flows_json(again), label
            assert parse(mud, mode="strict").flows == first.flow_set, label
            keys = {s.flow.key for s in first.flows}
            assert "from-device ipv4 my-controller proto=17 dport=eq53" in keys, label
            assert "from-device eth any ethertype=2054" in keys, label  # ARP
            if folder in EXPECTED:
                assert EXPECTED[folder] in keys, label
            # The ports the device opened its own connections from never become match values.
            ports = {p.lower for s in first.flows for p in (s.flow.src_port, s.flow.dst_port) if p}
            client_ports = _client_ports(capture, mac)
            assert client_ports and not ports & client_ports, label
            target = tmp_path / f"{folder}-{capture.stem}.json"
            target.write_bytes(mud)
            written.append(str(target))
    result = subprocess.run([sys.executable, str(validate), *written], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.count("OK ") == len(written) == 15


def test_pcap_and_pcapng_of_every_shared_capture_give_the_same_flows(tmp_path: Path) -> None:
    for folder, mac, captures in require_pcaps():
        for capture in captures:
            converted = _as_pcapng(capture, tmp_path / f"{folder}-{capture.stem}.pcapng")
            pcap, pcapng = collect([str(capture)], device_mac=mac), collect([str(converted)], device_mac=mac)
            assert pcap.flows == pcapng.flows, f"{folder}/{capture.name}"
            assert pcap.notes == pcapng.notes


def test_the_device_found_by_its_address_matches_the_device_found_by_its_mac() -> None:
    for folder, mac, captures in require_pcaps():
        by_mac = collect([str(captures[0])], device_mac=mac)
        address = next(ip for ip in by_mac.device_ips if "." in ip)
        by_ip = collect([str(captures[0])], device_ips=(address,))
        # By address, frames before the device had it (DHCP from 0.0.0.0) cannot be told apart.
        assert by_ip.flow_set <= by_mac.flow_set, folder
        assert len(by_ip.flow_set) >= len(by_mac.flow_set) - 4, folder
