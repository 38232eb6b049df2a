from __future__ import annotations

from hypothesis import given, settings

from profiles.mud import Flow, MudDocument, MudMeta, diff, parse

from .helpers import doc, dump, first_ace
from .strategies import flow_sets


def test_diff_of_a_document_with_itself_is_empty() -> None:
    a = parse(dump(doc()))
    assert diff(a, a).empty


def test_diff_ignores_acl_and_ace_names_and_order() -> None:
    b = doc()
    acls = b["ietf-access-control-list:acls"]["acl"]
    acls.reverse()
    for i, acl in enumerate(acls):
        acl["aces"]["ace"][0]["name"] = f"renamed-{i}"
    assert diff(parse(dump(doc())), parse(dump(b))).empty


def test_diff_lists_added_removed_flows_and_changed_metadata() -> None:
    b = doc()
    first_ace(b)["matches"]["tcp"]["destination-port"]["port"] = 8443
    b["ietf-mud:mud"]["model-name"] = "sensor-2"
    result = diff(parse(dump(doc())), parse(dump(b)))
    assert [f.key for f in result.added] == [
        "from-device ipv4 dnsname=cloud.example.com proto=6 dport=eq8443 init=from-device"
    ]
    assert [f.key for f in result.removed] == [
        "from-device ipv4 dnsname=cloud.example.com proto=6 dport=eq443 init=from-device"
    ]
    assert result.meta_changes == {"model_name": ("sensor-1", "sensor-2")}
    assert result.as_dict()["meta_changes"] == {"model_name": ["sensor-1", "sensor-2"]}


@settings(max_examples=100, deadline=None)
@given(flow_sets, flow_sets)
def test_diff_is_symmetric(a_flows: frozenset[Flow], b_flows: frozenset[Flow]) -> None:
    a = MudDocument(MudMeta(mud_url="https://a.example/x"), a_flows)
    b = MudDocument(MudMeta(mud_url="https://b.example/x"), b_flows)
    forward, backward = diff(a, b), diff(b, a)
    assert forward.added == backward.removed and forward.removed == backward.added
    assert {k: (new, old) for k, (old, new) in forward.meta_changes.items()} == backward.meta_changes
    assert diff(a, a).empty
    assert set(forward.added) == b_flows - a_flows
