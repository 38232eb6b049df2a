from __future__ import annotations

from datetime import UTC, datetime

import pytest

from profiles.mud import Flow, MudValidationError, PortMatch, parse

from .helpers import codes, doc, dump, first_ace, warning_codes


def test_it_reads_the_minimal_document_into_two_flows() -> None:
    d = parse(dump(doc()), mode="strict")
    assert d.ace_count == 2
    assert d.flows == {
        Flow(
            "from-device", "ipv4", "dnsname", "cloud.example.com", protocol=6,
            dst_port=PortMatch.eq(443), initiated="from-device",
        ),
        Flow(
            "to-device", "ipv4", "dnsname", "cloud.example.com", protocol=6,
            src_port=PortMatch.eq(443), initiated="from-device",
        ),
    }  # fmt: skip
    assert d.meta.mfg_name == "Example"
    assert d.meta.last_update == datetime(2024, 5, 1, 12, tzinfo=UTC)


def test_it_accepts_str_input_as_well_as_bytes() -> None:
    assert parse(dump(doc()).decode()).flows == parse(dump(doc())).flows


def test_it_rejects_dangling_acl_name() -> None:
    d = doc()
    d["ietf-mud:mud"]["from-device-policy"]["access-lists"]["access-list"][0]["name"] = "nope"
    assert "dangling-acl-name" in codes(d, "import")


def test_it_rejects_duplicate_acl_and_ace_names() -> None:
    d = doc()
    d["ietf-access-control-list:acls"]["acl"][1]["name"] = "fr"
    assert "duplicate-name" in codes(d)
    d = doc()
    aces = d["ietf-access-control-list:acls"]["acl"][0]["aces"]["ace"]
    aces.append(dict(aces[0]))
    assert codes(d) == ["duplicate-name"]


def test_it_lists_every_problem_not_the_first() -> None:
    d = doc()
    d["ietf-mud:mud"]["cache-validity"] = 500
    d["ietf-mud:mud"]["is-supported"] = "true"
    first_ace(d)["matches"]["ipv4"]["protocol"] = 17
    with pytest.raises(MudValidationError) as info:
        parse(dump(d), mode="strict")
    found = {(p.code, p.path) for p in info.value.problems}
    assert ("out-of-range", "/ietf-mud:mud/cache-validity") in found
    assert ("wrong-type", "/ietf-mud:mud/is-supported") in found
    assert ("protocol-mismatch", "/ietf-access-control-list:acls/acl/0/aces/ace/0/matches/tcp") in found


@pytest.mark.parametrize(
    ("port", "code"),
    [
        ({"operator": "gt", "port": 1}, "invalid-port"),
        ({"operator": "eq", "port": 70000}, "out-of-range"),
        ({"lower-port": 9, "upper-port": 1}, "invalid-port"),
        ({"lower-port": 1}, "missing-member"),
        ({"operator": "eq", "port": "443"}, "wrong-type"),
        ({"operator": "eq", "port": True}, "wrong-type"),
        ({"operator": "eq", "port": 443.0}, "wrong-type"),
    ],
)
def test_it_rejects_bad_port_matches(port: dict[str, object], code: str) -> None:
    d = doc()
    first_ace(d)["matches"]["tcp"]["destination-port"] = port
    assert code in codes(d, "import")


def test_it_reads_ranges_and_operators() -> None:
    d = doc()
    first_ace(d)["matches"]["tcp"]["destination-port"] = {"lower-port": 8000, "upper-port": 8080}
    first_ace(d)["matches"]["tcp"]["source-port"] = {"operator": "gte", "port": 1024}
    flow = next(f for f in parse(dump(d), mode="strict").flows if f.direction == "from-device")
    assert flow.dst_port == PortMatch("range", 8000, 8080)
    assert flow.src_port == PortMatch("gte", 1024, 1024)


def test_a_one_port_range_is_the_same_flow_as_eq() -> None:
    d = doc()
    first_ace(d)["matches"]["tcp"]["destination-port"] = {"lower-port": 443, "upper-port": 443}
    assert parse(dump(d)).flows == parse(dump(doc())).flows


def test_the_port_operator_defaults_to_eq() -> None:
    d = doc()
    first_ace(d)["matches"]["tcp"]["destination-port"] = {"port": 443}
    assert parse(dump(d), mode="strict").flows == parse(dump(doc())).flows


def test_it_rejects_direction_initiated_outside_tcp() -> None:
    d = doc()
    m = first_ace(d)["matches"]
    m["ipv4"]["protocol"] = 17
    m["udp"] = m.pop("tcp")
    assert "direction-initiated-outside-tcp" in codes(d, "import")


def test_it_rejects_ipv6_matches_in_an_ipv4_acl() -> None:
    d = doc()
    m = first_ace(d)["matches"]
    m["ipv6"] = m.pop("ipv4")
    assert codes(d, "import") == ["family-mismatch"]


def test_it_rejects_a_dnsname_and_a_network_in_one_ace() -> None:
    d = doc()
    first_ace(d)["matches"]["ipv4"]["destination-ipv4-network"] = "192.0.2.0/24"
    assert "ambiguous-peer" in codes(d, "import")


def test_an_empty_leaf_must_be_null_in_an_array() -> None:
    d = doc()
    first_ace(d)["matches"] = {"ietf-mud:mud": {"local-networks": "yes"}}
    assert codes(d, "import") == ["not-empty-leaf"]
    first_ace(d)["matches"] = {"ietf-mud:mud": {"local-networks": None}}
    assert codes(d, "strict") == ["dialect-empty-leaf"]
    assert "dialect-empty-leaf" in warning_codes(d)


def test_it_rejects_unknown_identities() -> None:
    d = doc()
    d["ietf-access-control-list:acls"]["acl"][0]["type"] = "ipv5-acl-type"
    assert "invalid-identity" in codes(d, "import")
    d = doc()
    first_ace(d)["actions"]["forwarding"] = "permit"
    assert "invalid-identity" in codes(d, "import")


def test_it_accepts_prefixed_identities() -> None:
    d = doc()
    d["ietf-access-control-list:acls"]["acl"][0]["type"] = "ietf-access-control-list:ipv4-acl-type"
    first_ace(d)["actions"]["forwarding"] = "ietf-access-control-list:accept"
    assert parse(dump(d), mode="strict").flows == parse(dump(doc())).flows


def test_unknown_members_are_errors_in_strict_and_warnings_on_import() -> None:
    d = doc()
    d["ietf-mud:mud"]["thing-dnsname"] = "x.example"
    assert codes(d, "strict") == ["unknown-member"]
    assert "dialect-unknown-member" in warning_codes(d)


def test_an_unknown_match_is_an_error_even_on_import_because_dropping_it_widens_the_rule() -> None:
    d = doc()
    first_ace(d)["matches"]["ipv4"]["hop-limit"] = 3
    assert codes(d, "import") == ["unknown-member"]


def test_a_drop_ace_makes_no_flow_and_a_warning() -> None:
    d = doc()
    first_ace(d)["actions"]["forwarding"] = "drop"
    parsed = parse(dump(d), mode="strict")
    assert [f.direction for f in parsed.flows] == ["to-device"]
    assert "ace-not-accept" in [w.code for w in parsed.warnings]


def test_dns_names_are_lower_case_without_trailing_dot_in_a_labels() -> None:
    d = doc()
    first_ace(d)["matches"]["ipv4"]["ietf-acldns:dst-dnsname"] = "Bücher.Example.COM."
    flow = next(f for f in parse(dump(d)).flows if f.direction == "from-device")
    assert flow.peer == "xn--bcher-kva.example.com"


@pytest.mark.parametrize("name", ["*.example.com", "not a host!", "a..b", "-a.example", "."])
def test_it_rejects_bad_dns_names_in_strict(name: str) -> None:
    d = doc()
    first_ace(d)["matches"]["ipv4"]["ietf-acldns:dst-dnsname"] = name
    assert codes(d, "strict") == ["invalid-dnsname"]


def test_a_wildcard_ace_is_skipped_on_import_which_only_narrows() -> None:
    d = doc()
    first_ace(d)["matches"]["ipv4"]["ietf-acldns:dst-dnsname"] = "*.example.com"
    parsed = parse(dump(d))
    assert [f.direction for f in parsed.flows] == ["to-device"]
    assert "ace-skipped" in [w.code for w in parsed.warnings]


def test_prefixes_are_normalised_and_host_bits_warned() -> None:
    d = doc()
    first_ace(d)["matches"]["ipv4"] = {"destination-ipv4-network": "192.0.2.77/24", "protocol": 6}
    parsed = parse(dump(d), mode="strict")
    flow = next(f for f in parsed.flows if f.direction == "from-device")
    assert (flow.peer_kind, flow.peer) == ("network", "192.0.2.0/24")
    assert "host-bits-set" in [w.code for w in parsed.warnings]


def test_the_peer_of_a_to_device_ace_is_the_source() -> None:
    d = doc()
    ace = d["ietf-access-control-list:acls"]["acl"][1]["aces"]["ace"][0]
    ace["matches"]["ipv4"]["ietf-acldns:dst-dnsname"] = "ignored-as-peer.example.com"
    flow = next(f for f in parse(dump(d)).flows if f.direction == "to-device")
    assert flow.peer == "cloud.example.com"
    assert flow.extra == (("ipv4/ietf-acldns:dst-dnsname", "ignored-as-peer.example.com"),)


def test_mudgee_local_networks_with_a_multicast_network_narrows_the_abstraction() -> None:
    d = doc()
    first_ace(d)["matches"] = {
        "ietf-mud:mud": {"local-networks": [None]},
        "ipv4": {"protocol": 17, "destination-ipv4-network": "239.255.255.250/32"},
        "udp": {"destination-port": {"operator": "eq", "port": 1900}},
    }
    flow = next(f for f in parse(dump(d), mode="strict").flows if f.direction == "from-device")
    assert (flow.peer_kind, flow.network, flow.protocol) == ("local-networks", "239.255.255.250/32", 17)


def test_other_match_leaves_are_kept_in_extra() -> None:
    d = doc()
    first_ace(d)["matches"]["ipv4"]["ttl"] = 1
    first_ace(d)["matches"]["tcp"]["flags"] = "ack syn"
    flow = next(f for f in parse(dump(d), mode="strict").flows if f.direction == "from-device")
    # Bits are written in the order the YANG type declares them (cwr ece urg ack psh rst syn fin).
    assert flow.extra == (("ipv4/ttl", "1"), ("tcp/flags", "ack syn"))


def test_tcp_implies_protocol_6() -> None:
    d = doc()
    del first_ace(d)["matches"]["ipv4"]["protocol"]
    assert parse(dump(d), mode="strict").flows == parse(dump(doc())).flows


def test_it_warns_when_last_update_is_in_the_future() -> None:
    now = datetime(2020, 1, 1, tzinfo=UTC)
    assert "future-last-update" in [w.code for w in parse(dump(doc()), now=now).warnings]
    assert "future-last-update" not in [w.code for w in parse(dump(doc())).warnings]


def test_it_rejects_a_non_https_mud_url_and_bad_dates() -> None:
    d = doc()
    d["ietf-mud:mud"]["mud-url"] = "http://things.example.com/x"
    d["ietf-mud:mud"]["last-update"] = "yesterday"
    assert sorted(codes(d, "import")) == ["invalid-date", "invalid-mud-url"]


def test_an_unused_acl_is_checked_and_warned_but_makes_no_flow() -> None:
    d = doc()
    d["ietf-mud:mud"]["to-device-policy"]["access-lists"]["access-list"] = []
    parsed = parse(dump(d), mode="strict")
    assert {f.direction for f in parsed.flows} == {"from-device"}
    assert "unused-acl" in [w.code for w in parsed.warnings]


def test_a_mode_that_does_not_exist_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="mode"):
        parse(b"{}", mode="lenient")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("typo", "meant"),
    [("mud-versoin", "mud-version"), ("is_supported", "is-supported"), ("Last-Update", "last-update"),
     ("documentaion", "documentation")],
)  # fmt: skip
def test_a_misspelt_rfc_leaf_is_an_error_even_on_import(typo: str, meant: str) -> None:
    d = doc()
    d["ietf-mud:mud"][typo] = d["ietf-mud:mud"].get(meant, "x")
    for mode in ("strict", "import"):
        with pytest.raises(MudValidationError) as info:
            parse(dump(d), mode=mode)  # type: ignore[arg-type]
        assert [(p.code, p.path) for p in info.value.problems] == [("unknown-member", f"/ietf-mud:mud/{typo}")]
        assert f"did you mean {meant!r}" in info.value.problems[0].message
