"""Reading conntrack dumps and events."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.collect.conntrack import ConntrackFormatError, parse_line, read_conversations

DEVICE = "192.168.1.23"


def test_conntrack_list_proc_and_event_lines_are_read_alike() -> None:
    listed = parse_line(
        "tcp      6 431999 ESTABLISHED src=192.168.1.23 dst=192.0.2.10 sport=40001 dport=443 packets=10 bytes=1200 "
        "src=192.0.2.10 dst=198.51.100.2 sport=443 dport=40001 packets=8 bytes=5000 [ASSURED] mark=0 use=1"
    )
    proc = parse_line(
        "ipv4     2 tcp      6 431999 ESTABLISHED src=192.168.1.23 dst=192.0.2.10 sport=40001 dport=443 "
        "packets=10 bytes=1200 src=192.0.2.10 dst=198.51.100.2 sport=443 dport=40001 packets=8 bytes=5000 "
        "[ASSURED] mark=0 zone=0 use=2"
    )
    event = parse_line(
        "[1790000000.250000]\t[DESTROY] tcp      6 src=192.168.1.23 dst=192.0.2.10 sport=40001 dport=443 "
        "packets=10 bytes=1200 src=192.0.2.10 dst=198.51.100.2 sport=443 dport=40001 packets=8 bytes=5000 [ASSURED]"
    )
    assert listed is not None and proc is not None and event is not None
    assert listed.original == proc.original == event.original
    assert (listed.ts, event.ts, event.event) == (None, 1790000000.25, "DESTROY")
    assert listed.reply["dst"] == "198.51.100.2"  # the router's public address: NAT


def test_a_connection_seen_in_two_dumps_counts_only_what_its_counters_grew(tmp_path: Path) -> None:
    line = (
        "udp      17 29 src=192.168.1.23 dst=192.0.2.10 sport=40001 dport=123 packets={} bytes={} "
        "src=192.0.2.10 dst=198.51.100.2 sport=123 dport=40001 packets={} bytes={} mark=0 use=1\n"
    )
    path = tmp_path / "dumps.txt"
    path.write_text(line.format(1, 76, 1, 76) + line.format(3, 228, 2, 152))
    seen = list(read_conversations(str(path), {DEVICE}))
    assert [(c.sent, c.received) for c in seen] == [((1, 76), (1, 76)), ((2, 152), (1, 76))]
    assert all(c.device_initiated and c.peer_port == 123 for c in seen)


def test_a_port_forward_to_the_device_is_opened_by_the_peer(tmp_path: Path) -> None:
    path = tmp_path / "dump.txt"
    path.write_text(
        "tcp      6 300 ESTABLISHED src=203.0.113.9 dst=198.51.100.2 sport=51000 dport=8080 packets=3 bytes=180 "
        "src=192.168.1.23 dst=203.0.113.9 sport=80 dport=51000 packets=2 bytes=120 [ASSURED] mark=0 use=1\n"
    )
    (conversation,) = read_conversations(str(path), {DEVICE})
    assert not conversation.device_initiated
    assert (conversation.device_port, conversation.peer_ip, conversation.peer_port) == (80, "203.0.113.9", 51000)
    assert conversation.received == (3, 180) and conversation.sent == (2, 120)


def test_a_file_with_no_connection_entry_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "not-conntrack.txt"
    path.write_text("src= dst= but nothing else\n" * 30)
    with pytest.raises(ConntrackFormatError, match="no connection entry"):
        list(read_conversations(str(path), {DEVICE}))
