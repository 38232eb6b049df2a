"""MUDgee's TCP replies paired with their requests on import (issue 9, cause 2)."""

from __future__ import annotations

import copy
import itertools
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from profiles.mud import Flow, parse
from tests.mud.helpers import BASE
from tests.support import require_shared

PEERS = ("cloud.example.com", "cdn.example.net", "198.51.100.7")
PORTS = (80, 443, 8883, 50000)
INITIATORS = ("from-device", "to-device")


def _peer_match(peer: str, side: str) -> dict[str, str]:
    if peer[0].isdigit():
        return {f"{'destination' if side == 'dst' else 'source'}-ipv4-network": f"{peer}/32"}
    return {f"ietf-acldns:{side}-dnsname": peer}


def _ace(name: str, direction: str, peer: str, peer_port: int, device_port: int | None, initiated: str | None) -> dict:
    side, peer_side, device_side = (
        ("dst", "destination", "source") if direction == "from" else ("src", "source", "destination")
    )
    tcp: dict[str, Any] = {f"{peer_side}-port": {"operator": "eq", "port": peer_port}}
    if device_port is not None:
        tcp[f"{device_side}-port"] = {"operator": "eq", "port": device_port}
    if initiated is not None:
        tcp["ietf-mud:direction-initiated"] = initiated
    return {
        "name": name,
        "matches": {"ipv4": {"protocol": 6, **_peer_match(peer, side)}, "tcp": tcp},
        "actions": {"forwarding": "accept"},
    }


def _document(from_aces: list[dict], to_aces: list[dict]) -> bytes:
    document = copy.deepcopy(BASE)
    acls = document["ietf-access-control-list:acls"]["acl"]
    acls[0]["aces"]["ace"] = from_aces
    acls[1]["aces"]["ace"] = to_aces
    return json.dumps(document).encode()


def _permits(flow: Flow, packet: tuple[str, str, int, int, str]) -> bool:
    """Whether `flow` lets through one TCP packet: (direction, peer, source port, destination
    port, who opened the connection). The oracle of what an ACE means, written from RFC 8519
    and RFC 8520 for this test."""
    direction, peer, sport, dport, opener = packet
    if flow.direction != direction or flow.protocol != 6:
        return False
    if flow.peer_kind == "dnsname" and flow.peer != peer:
        return False
    if flow.peer_kind == "network" and flow.peer != f"{peer}/32":
        return False
    for match, port in ((flow.src_port, sport), (flow.dst_port, dport)):
        if match is not None and not (match.operator == "eq" and match.lower == port):
            return False
    return flow.initiated is None or flow.initiated == opener


PACKETS = list(itertools.product(("from-device", "to-device"), PEERS, PORTS, PORTS, INITIATORS))

aces_st = st.lists(
    st.tuples(
        st.sampled_from(PEERS),
        st.sampled_from(PORTS),
        st.one_of(st.none(), st.sampled_from(PORTS)),
        st.sampled_from((None, "from-device", "from-device", "to-device")),
    ),
    max_size=5,
)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(aces_st, aces_st, st.data())
def test_pairing_never_widens_what_a_file_allows(from_aces: list, to_aces: list, data: st.DataObject) -> None:
    # Replies are most often mirrors of a request: draw some of them that way.
    mirrored = (
        [(peer, port, device, None) for peer, port, device, _ in data.draw(st.lists(st.sampled_from(from_aces)))]
        if from_aces
        else []
    )
    raw = _document(
        [_ace(f"f{i}", "from", *ace) for i, ace in enumerate(from_aces)],
        [_ace(f"t{i}", "to", *ace) for i, ace in enumerate([*to_aces, *mirrored])],
    )
    literal = parse(raw, mode="strict").flows
    imported = parse(raw, mode="import")
    for packet in PACKETS:
        if any(_permits(flow, packet) for flow in imported.flows):
            assert any(_permits(flow, packet) for flow in literal), packet
    changed = imported.flows - literal
    assert all(f.direction == "to-device" and f.initiated == "from-device" for f in changed)
    assert len([w for w in imported.warnings if w.code == "tcp-reply-paired"]) >= len(changed)


def test_a_reply_is_paired_only_when_the_file_permits_its_device_initiated_request() -> None:
    raw = _document(
        [
            _ace("f0", "from", "cloud.example.com", 443, None, "from-device"),
            _ace("f1", "from", "cdn.example.net", 443, None, None),
        ],
        [
            _ace("t0", "to", "cloud.example.com", 443, None, None),  # reply of f0
            _ace("t1", "to", "cdn.example.net", 443, None, None),  # f1 is not device-initiated
            _ace("t2", "to", "cloud.example.com", 8883, None, None),  # no request on 8883
        ],
    )
    document = parse(raw)
    keys = {f.key for f in document.flows if f.direction == "to-device"}
    assert keys == {
        "to-device ipv4 dnsname=cloud.example.com proto=6 sport=eq443 init=from-device",
        "to-device ipv4 dnsname=cdn.example.net proto=6 sport=eq443",
        "to-device ipv4 dnsname=cloud.example.com proto=6 sport=eq8883",
    }
    (warning,) = [w for w in document.warnings if w.code == "tcp-reply-paired"]
    assert warning.path.endswith("/acl/1/aces/ace/0") and "/acl/0/aces/ace/0" in warning.message
    # Strict mode reads the ACEs exactly as written.
    assert "to-device ipv4 dnsname=cloud.example.com proto=6 sport=eq443" in {
        f.key for f in parse(raw, mode="strict").flows
    }


def test_real_mudgee_files_pair_their_replies_and_keep_the_rest() -> None:
    folder = require_shared() / "deepness-lab-iot-mud-locations"
    raw = (folder / "uk_yi_camera" / "uk_yi_cameraMud.json").read_bytes()
    document = parse(raw)
    paired = [w for w in document.warnings if w.code == "tcp-reply-paired"]
    replies = {f for f in document.flows if f.direction == "to-device" and f.protocol == 6}
    assert "to-device ipv4 dnsname=api.eu.xiaoyi.com proto=6 sport=eq443 init=from-device" in {f.key for f in replies}
    assert len(paired) == len(replies) == 4
    # Every paired reply has its request in the file; nothing else changed.
    requests = {f.key for f in document.flows if f.direction == "from-device"}
    for flow in replies:
        assert f"from-device ipv4 {flow.key.split(' ', 2)[2].replace('sport=', 'dport=')}" in requests
    # Across the locations data set, most MUDgee files have such replies.
    files = sorted(folder.glob("*/*Mud.json"))
    with_pairs = [f for f in files if any(w.code == "tcp-reply-paired" for w in parse(f.read_bytes()).warnings)]
    assert len(with_pairs) >= len(files) // 2
