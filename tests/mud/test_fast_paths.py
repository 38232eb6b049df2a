"""The shortcuts parse takes for speed give exactly what the general code gives."""

from __future__ import annotations

import copy
import json
from dataclasses import astuple, fields
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given

from profiles.mud import DEFAULT_LIMITS, Flow, MudValidationError, parse
from profiles.mud.collector import Collector
from profiles.mud.flows import PortMatch, build_flow
from profiles.mud.matches import AceReader
from tests.support import require_shared

from .helpers import doc, first_ace
from .strategies import flows


@given(flows())
def test_build_flow_is_flow(flow: Flow) -> None:
    built = build_flow(*astuple(flow)[:6], flow.src_port, flow.dst_port, *astuple(flow)[8:12], flow.extra)
    assert built == flow
    assert hash(built) == hash(flow)
    assert built.key == flow.key
    assert repr(built) == repr(flow)


def test_build_flow_checks_what_flow_checks() -> None:
    args = ["from-device", "ipv4", "any", "", None, None, None, None, None, None, None, None, ()]
    assert len([f for f in fields(Flow) if f.init]) == len(args)
    for position, bad in ((0, "sideways"), (1, "ipx"), (2, "anything"), (3, "x"), (8, "both")):
        wrong = list(args)
        wrong[position] = bad
        with pytest.raises(ValueError):
            Flow(*wrong)
        with pytest.raises(ValueError):
            build_flow(*wrong)


def _aces(root: Any) -> list[tuple[str, dict[str, Any]]]:
    acls = root.get("ietf-access-control-list:acls") or root.get("ietf-access-control-list:access-lists") or {}
    out = []
    for acl in acls.get("acl", []) if isinstance(acls, dict) else []:
        acl_type = str(acl.get("type", "")).removeprefix("ietf-access-control-list:")
        acl_type = "eth-acl-type" if acl_type == "ethernet-acl-type" else acl_type
        for ace in (acl.get("aces") or {}).get("ace", []):
            if isinstance(ace.get("matches"), dict):
                out.append((acl_type, ace["matches"]))
    return out


def _agree(acl_type: str, matches: dict[str, Any]) -> bool:
    """Whether the quick reader, where it answers, answers as the general one; True if it answered."""
    taken = False
    for mode in ("import", "strict"):
        for direction in ("from-device", "to-device"):
            quick_col = Collector(mode, DEFAULT_LIMITS)  # type: ignore[arg-type]
            quick = AceReader(quick_col, direction, acl_type, "/acl").quick(matches)
            assert not quick_col.errors and not quick_col.warnings and not quick_col.pre_rfc
            if quick is None:
                continue
            taken = True
            col = Collector(mode, DEFAULT_LIMITS)  # type: ignore[arg-type]
            general = AceReader(col, direction, acl_type, "/acl").read(matches, "/acl/aces/ace/0/matches")
            assert (general, col.errors, col.warnings, col.pre_rfc) == (quick, [], [], [])
    return taken


def test_the_quick_reader_agrees_with_the_general_one_on_every_real_ace() -> None:
    dataset = require_shared()
    taken = total = 0
    for path in sorted(p for p in dataset.rglob("*") if p.is_file() and p.name != "SOURCES.md"):
        root = json.loads(path.read_bytes())
        if isinstance(root, str):
            root = json.loads(root)
        for acl_type, matches in _aces(root):
            if acl_type in ("ipv4-acl-type", "ipv6-acl-type"):
                total += 1
                taken += _agree(acl_type, matches)
    assert total > 3000
    assert taken > total * 0.8  # the common shapes do take the quick reader


@pytest.mark.parametrize(
    ("leaf", "value"),
    [
        (("ipv4", "ietf-acldns:dst-dnsname"), "192.0.2.1"),  # an IP address, read as a network
        (("ipv4", "ietf-acldns:dst-dnsname"), "1.2.3.4."),  # a host name that is an IP address
        (("ipv4", "ietf-acldns:dst-dnsname"), "*.example.com"),  # a wildcard
        (("ipv4", "ietf-acldns:dst-dnsname"), 7),
        (("ipv4", "destination-ipv4-network"), "192.0.2.1/24"),  # host bits
        (("ipv4", "destination-ipv4-network"), "192.0.2.1"),  # no length
        (("ipv4", "destination-ipv4-network"), "2001:db8::/32"),
        (("ipv4", "protocol"), 17),  # contradicts tcp
        (("ipv4", "protocol"), True),
        (("ipv4", "ttl"), 300),
        (("tcp", "ietf-mud:direction-initiated"), "both"),
        (("tcp", "destination-port"), {"operator": "eq", "port": 70000}),
        (("tcp", "destination-port"), {"operator": "eq", "lower-port": 1, "upper-port": 1}),
        (("tcp", "destination-port"), {"operator": "eq", "port": 443, "port2": 1}),
        (("tcp", "zzz"), 1),
        (("ietf-mud:mud",), {"controller": "urn:ietf:params:mud:gateway"}),
        (("ietf-mud:mud",), {"controller": "urn:ietf:params:mud:foo"}),
        (("ietf-mud:mud",), {"controller": "a b"}),
        (("ietf-mud:mud",), {"controller": "x" * 2000}),
        (("ietf-mud:mud",), {"local-networks": None}),
        (("ietf-mud:mud",), {"local-networks": [None], "my-controller": [None]}),
        (("eth",), {"ethertype": 2048}),
        (("ipv6",), {}),
        (("udp",), {}),
        (("zzz",), 1),
    ],
)
def test_the_quick_reader_declines_whatever_has_something_to_say(leaf: tuple[str, ...], value: object) -> None:
    d = doc()
    matches = first_ace(d)["matches"]
    node = matches
    for key in leaf[:-1]:
        node = node[key]
    node[leaf[-1]] = copy.deepcopy(value)
    if leaf[-1] == "destination-ipv4-network":
        del node["ietf-acldns:dst-dnsname"]  # one peer, so that only the network is in question
    assert not _agree("ipv4-acl-type", matches)
    # and what parse says is said by the general reader, at its path
    try:
        problems = [*parse(json.dumps(d)).warnings]
    except MudValidationError as exc:
        problems = exc.problems
    assert problems


def test_quick_reader_reads_the_common_shapes() -> None:
    d = doc()
    assert _agree("ipv4-acl-type", first_ace(d)["matches"])
    assert _agree("ipv4-acl-type", d["ietf-access-control-list:acls"]["acl"][1]["aces"]["ace"][0]["matches"])


@given(flows())
def test_a_flow_keeps_its_hash_but_never_carries_it_elsewhere(flow: Flow) -> None:
    import pickle

    assert flow._hash is None or flow._hash == hash(flow)
    first = hash(flow)
    assert flow._hash == first == hash(flow)
    again = pickle.loads(pickle.dumps(flow))
    assert again == flow and again._hash is None and hash(again) == first
    assert copy.copy(flow) == flow and copy.deepcopy(flow) == flow
    assert "_hash" not in repr(flow)


def test_a_pickled_flow_hashes_afresh_in_another_process() -> None:
    """String hashes are salted per process: a hash carried over in a pickle would make an
    equal flow miss in the other process's sets."""
    import pickle
    import subprocess
    import sys

    flow = Flow("from-device", "ipv4", "dnsname", "api.example.com", protocol=6, dst_port=PortMatch.eq(443))
    hash(flow)
    script = (
        "import pickle, sys; from profiles.mud.flows import Flow, PortMatch; "
        "f = pickle.loads(sys.stdin.buffer.read()); "
        "g = Flow('from-device', 'ipv4', 'dnsname', 'api.example.com', protocol=6, dst_port=PortMatch.eq(443)); "
        "print(f in {g}, hash(f) == hash(g))"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], input=pickle.dumps(flow), capture_output=True, check=True,
        env={"PYTHONHASHSEED": "random", "PATH": ""}, cwd=str(Path(__file__).resolve().parents[2]),
    )  # fmt: skip
    assert out.stdout.split() == [b"True", b"True"]
