"""Native flow lists get the import's TCP reply pairing (profiles.mud.replies), for the
same reason: a reply sent beside its device-initiated request is not a flow the Internet
may initiate. Checked on the real MUDgee files, and through the API."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from profiles import mud
from profiles.consensus import DEFAULT_PARAMS, ModelContext
from profiles.consensus.risk import Classifier
from profiles.mud.flows import Flow
from profiles.services.native_flows import flows_from_native, native_flows_read
from tests.helpers import flow, payload
from tests.support import require_shared

LOCATIONS = "deepness-lab-iot-mud-locations"
_NOW = datetime(2026, 11, 1, tzinfo=UTC)


def native(item: Flow) -> dict[str, Any]:
    """A flow as a native list item (every field the native format has)."""
    out: dict[str, Any] = {"direction": item.direction, "family": item.family, "peer_kind": item.peer_kind}
    if item.peer:
        out["peer"] = item.peer
    for name in ("network", "protocol", "initiated", "icmp_type", "icmp_code", "ethertype"):
        if getattr(item, name) is not None:
            out[name] = getattr(item, name)
    for name in ("src_port", "dst_port"):
        port = getattr(item, name)
        if port is not None:
            out[name] = port.lower if port.operator == "eq" else {"operator": port.operator, "port": port.lower}
    return out


def real_files() -> list[tuple[str, frozenset[Flow], mud.MudDocument]]:
    """(folder, the flows as MUDgee wrote them, the file as imported) for every location file
    that pairs at least one reply and whose flows the native format can carry. MUDgee writes
    no direction-initiated on a to-device entry, so the flows as written are the imported
    ones with the paired replies' `initiated` taken off again (one per pairing warning)."""
    found = []
    for path in sorted((require_shared() / LOCATIONS).glob("*/*Mud.json")):
        imported = mud.parse(path.read_bytes(), mode="import")
        paired = [f for f in imported.flows if f.direction == "to-device" and f.initiated == "from-device"]
        warned = [w for w in imported.warnings if w.code == "tcp-reply-paired"]
        assert len(paired) <= len(warned), path  # every such flow comes from a pairing
        if paired and not any(f.extra for f in imported.flows):
            literal = frozenset(replace(f, initiated=None) if f in paired else f for f in imported.flows)
            found.append((path.parent.name, literal, imported))
    return found


def test_a_native_list_of_a_real_mudgee_file_imports_as_the_file_does():
    files = real_files()
    assert len(files) >= 20  # the study's files nearly all pair their replies
    for folder, literal, imported in files:
        items = [native(f) for f in sorted(literal, key=lambda f: f.key)]
        as_written, problems = flows_from_native(items)
        assert not problems and as_written == literal, folder
        flows, warnings, problems = native_flows_read(items)
        assert not problems, folder
        assert flows == imported.flows, folder
        paired = [w for w in imported.warnings if w.code == "tcp-reply-paired"]
        assert len(warnings) == len(paired) and {w["code"] for w in warnings} == {"tcp-reply-paired"}, folder
        # Each warning points at the reply's own item, a to-device TCP flow sent with no initiated.
        for warning in warnings:
            item = items[int(warning["path"].rsplit("/", 1)[1])]
            assert (item["direction"], item["protocol"], "initiated" in item) == ("to-device", 6, False)


def test_pairing_takes_a_served_cloud_connection_out_of_the_high_risk_class():
    _, literal, _ = next(f for f in real_files() if f[0] == "uk_tp_plug")
    classifier = Classifier(ModelContext(manufacturer_domains=frozenset({"tplinkcloud.com"})), _NOW, DEFAULT_PARAMS)
    flows, _, _ = native_flows_read([native(f) for f in literal])
    replies = [f for f in flows if f.direction == "to-device" and f.peer.endswith("tplinkcloud.com")]
    assert replies and {classifier.classify(f).risk_class for f in replies} == {"V"}
    as_written = [f for f in literal if f.direction == "to-device" and f.peer.endswith("tplinkcloud.com")]
    assert {classifier.classify(f).reason for f in as_written} == {"internet-initiated"}


def test_a_reply_without_its_request_is_kept_as_written():
    reply = flow("cloud.example.com", direction="to-device")
    flows, warnings, problems = native_flows_read([reply, flow("cloud.example.com", 8883)])
    assert not problems and not warnings
    assert [f.initiated for f in flows if f.direction == "to-device"] == [None]


def test_a_bad_list_gives_every_problem_and_no_flow():
    flows, warnings, problems = native_flows_read([flow("cloud.example.com"), {"direction": "up"}, {"protocol": 999}])
    assert flows == frozenset() and warnings == []
    assert [p["path"] for p in problems] == ["/flows/1/direction", "/flows/2/direction"]


@pytest.mark.django_db
def test_a_native_submission_answers_with_the_pairing_warning(auth_api):
    client = auth_api(trust_level=2)
    body = payload(flow("cloud.example.com"), flow("cloud.example.com", direction="to-device"))
    response = client.post("/api/v1/submissions/", body, format="json")
    assert response.status_code == 201, response.content
    warnings = response.json()["warnings"]
    assert [(w["code"], w["path"]) for w in warnings] == [("tcp-reply-paired", "/flows/1")]
