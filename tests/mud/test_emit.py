from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from profiles.mud import PLACEHOLDER_MUD_URL, Flow, MudMeta, emit, parse
from tests.support import require_validate_mud

from .helpers import doc, dump
from .strategies import flow_sets

META = MudMeta(
    mud_url="https://things.example.com/sensor-1",
    last_update=datetime(2024, 5, 1, 12, tzinfo=UTC),
    mfg_name="Example",
    model_name="sensor-1",
    cache_validity=48,
)


@settings(max_examples=150, deadline=None)
@given(flow_sets)
def test_parse_of_emit_gives_back_exactly_the_same_flows(flows: frozenset[Flow]) -> None:
    out = emit(META, flows)
    document = parse(out, mode="strict")
    assert document.flows == flows
    assert document.meta == META
    # Sorted by key: Flow(order=True) cannot compare None with an int in optional fields.
    assert emit(META, sorted(flows, key=lambda f: f.key, reverse=True)) == out


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(flow_sets)
def test_emitted_files_pass_validate_mud(flows: frozenset[Flow]) -> None:
    validate = require_validate_mud()
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "out.json"
        target.write_bytes(emit(META, flows))
        result = subprocess.run([sys.executable, str(validate), str(target)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_output_is_canonical_json_with_fixed_key_order_and_a_final_newline() -> None:
    out = emit(parse(dump(doc())).meta, parse(dump(doc())).flows)
    assert out.endswith(b"}\n")
    data = json.loads(out)
    assert list(data) == ["ietf-mud:mud", "ietf-access-control-list:acls"]
    assert list(data["ietf-mud:mud"])[:4] == ["mud-version", "mud-url", "last-update", "is-supported"]
    names = [acl["name"] for acl in data["ietf-access-control-list:acls"]["acl"]]
    assert names == ["from-ipv4", "to-ipv4"]
    ace = data["ietf-access-control-list:acls"]["acl"][0]["aces"]["ace"][0]
    assert ace["name"].startswith("from-") and len(ace["name"]) == 21
    assert ace["actions"] == {"forwarding": "accept"}


def test_ace_names_come_from_the_flows_not_the_input() -> None:
    renamed = doc()
    renamed["ietf-access-control-list:acls"]["acl"][0]["aces"]["ace"][0]["name"] = "something-else"
    a, b = parse(dump(doc())), parse(dump(renamed))
    assert emit(a.meta, a.flows) == emit(b.meta, b.flows)


def test_empty_leaves_are_written_as_null_in_an_array() -> None:
    flow = Flow("from-device", "ipv4", "local-networks")
    data = json.loads(emit(META, [flow]))
    ace = data["ietf-access-control-list:acls"]["acl"][0]["aces"]["ace"][0]
    assert ace["matches"] == {"ietf-mud:mud": {"local-networks": [None]}}


def test_a_missing_mud_url_is_written_as_the_placeholder() -> None:
    data = json.loads(emit(MudMeta(), []))
    assert data == {
        "ietf-mud:mud": {
            "mud-version": 1,
            "mud-url": PLACEHOLDER_MUD_URL,
            "last-update": "1970-01-01T00:00:00+00:00",
            "is-supported": True,
        }
    }


@pytest.mark.parametrize(
    "flow",
    [
        Flow("from-device", "ipv4", "dnsname", "UPPER.example.com"),
        Flow("from-device", "ipv4", "network", "10.0.0.1/8"),
        Flow("from-device", "ipv4", "any", src_port=None, dst_port=None, initiated="from-device"),
        Flow("from-device", "eth", "dnsname", "a.example"),
        Flow("from-device", "ipv4", "controller", "urn:ietf:params:mud:gateway"),
        Flow("from-device", "ipv4", "any", extra=(("ipv4/bogus", "1"),)),
        Flow("from-device", "ipv4", "any", ethertype=0x0800),
    ],
)
def test_it_refuses_flows_that_no_mud_file_can_express(flow: Flow) -> None:
    with pytest.raises(ValueError, match="cannot emit"):
        emit(META, [flow])
