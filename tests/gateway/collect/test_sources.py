"""A router's log and connection table tell the same flows as a capture of the same traffic."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.collect import InputError, collect
from tests.gateway.collect.helpers import collected, keys
from tests.gateway.collect.traffic import DEVICE_IP, DEVICE_MAC, GATEWAY_IP, OTHER_IP, OTHER_MAC, T0, Traffic


def _day() -> Traffic:
    """What both a capture and the router see: DNS through the router, and routed conversations."""
    traffic = Traffic()
    traffic.dns(T0, "api.example.com", [("CNAME", "api.example.com", "edge.example.net", 300),
                                        ("A", "edge.example.net", "192.0.2.10", 300)])  # fmt: skip
    traffic.tcp(T0 + 1, "192.0.2.10", 443)
    traffic.dns(T0 + 10, "time.example.org", [("A", "time.example.org", "198.51.100.123", 600)])
    traffic.udp(T0 + 11, "198.51.100.123", 123)
    traffic.tcp(T0 + 20, "203.0.113.5", 8883)  # no DNS: an IP literal either way
    traffic.tcp(T0 + 30, "203.0.113.9", 80, opened_by_device=False)  # a port forward
    traffic.tcp(T0 + 40, "203.0.113.66", 23, opened_by_device=False, accept=False)
    traffic.tcp(T0 + 50, OTHER_IP, 8080, peer_mac=OTHER_MAC)
    traffic.tcp(T0 + 60, "192.0.2.10", 443)
    return traffic


def test_dnsmasq_log_and_conntrack_give_the_flows_of_the_capture(tmp_path: Path) -> None:
    traffic = _day()
    from_capture = collected(traffic, tmp_path)
    log = traffic.write_log(tmp_path / "dnsmasq.log")
    table = traffic.write_conntrack(tmp_path / "conntrack.txt")
    from_router = collect([str(log), str(table)], device_ips=(DEVICE_IP,), gateway_ips=(GATEWAY_IP,))
    assert from_router.flow_set == from_capture.flow_set
    assert len(from_router.flows) == 12  # six conversations, each a pair
    # conntrack counts IP packets and bytes, as the capture's tallies do.
    assert [(s.flow.key, s.packets, s.bytes) for s in from_router.flows] == [
        (s.flow.key, s.packets, s.bytes) for s in from_capture.flows
    ]
    assert from_router.notes == from_capture.notes


def test_a_plain_dump_without_timestamps_is_named_by_the_newest_answers(tmp_path: Path) -> None:
    traffic = _day()
    log = traffic.write_log(tmp_path / "dnsmasq.log")
    table = tmp_path / "dump.txt"
    table.write_text("".join(line.split("[DESTROY] ", 1)[1] + "\n" for line in traffic.conntrack))
    result = collect([str(log), str(table)], device_ips=(DEVICE_IP,), gateway_ips=(GATEWAY_IP,))
    assert "from-device ipv4 dnsname=api.example.com proto=6 dport=eq443 init=from-device" in keys(result)
    assert result.flow_set == collected(traffic, tmp_path).flow_set


def test_the_device_is_found_from_its_mac_through_the_dhcp_lines(tmp_path: Path) -> None:
    traffic = Traffic()
    traffic.dhcp(T0)
    traffic.dns(T0 + 1, "api.example.com", [("A", "api.example.com", "192.0.2.10", 300)])
    traffic.tcp(T0 + 2, "192.0.2.10", 443)
    log = traffic.write_log(tmp_path / "dnsmasq.log")
    table = traffic.write_conntrack(tmp_path / "conntrack.txt")
    for inputs in ([str(log), str(table)], [str(table), str(log)]):
        result = collect(inputs, device_mac=DEVICE_MAC, gateway_ips=(GATEWAY_IP,))
        assert "from-device ipv4 my-controller proto=17 dport=eq53" in keys(result)
        assert "from-device ipv4 dnsname=api.example.com proto=6 dport=eq443 init=from-device" in keys(result)


def test_a_conntrack_dump_alone_needs_the_devices_address(tmp_path: Path) -> None:
    table = _day().write_conntrack(tmp_path / "conntrack.txt")
    with pytest.raises(InputError, match="--device-ip"):
        collect([str(table)], device_mac=DEVICE_MAC)


def test_a_log_in_local_time_needs_its_utc_offset(tmp_path: Path) -> None:
    from datetime import timedelta, timezone

    traffic = _day()
    log = traffic.write_log(tmp_path / "dnsmasq.log", utc_offset_hours=-2)
    table = traffic.write_conntrack(tmp_path / "conntrack.txt")
    inputs = [str(log), str(table)]
    told = collect(inputs, device_ips=(DEVICE_IP,), gateway_ips=(GATEWAY_IP,), log_zone=timezone(timedelta(hours=-2)))
    assert told.flow_set == collected(traffic, tmp_path).flow_set
    # Read as UTC, every answer seems to come two hours before its connection: long expired.
    untold = collect(inputs, device_ips=(DEVICE_IP,), gateway_ips=(GATEWAY_IP,))
    assert not any(s.flow.peer_kind == "dnsname" for s in untold.flows)
