"""Import mode reads the dialects of real files, each with a warning; strict refuses them."""

from __future__ import annotations

import json

from profiles.mud import parse

from .helpers import codes, doc, dump, first_ace, warning_codes


def test_top_level_access_lists_is_read_as_acls() -> None:
    d = doc()
    d["ietf-access-control-list:access-lists"] = d.pop("ietf-access-control-list:acls")
    assert codes(d, "strict") == ["dialect-access-lists"]
    assert parse(dump(d)).flows == parse(dump(doc())).flows
    assert "dialect-access-lists" in warning_codes(d)


def test_both_acls_and_access_lists_is_ambiguous() -> None:
    d = doc()
    d["ietf-access-control-list:access-lists"] = d["ietf-access-control-list:acls"]
    assert codes(d, "import") == ["duplicate-acls"]


def test_ethernet_acl_type_and_hex_ethertypes_are_normalised() -> None:
    d = doc()
    d["ietf-access-control-list:acls"]["acl"][0] = {
        "name": "fr",
        "type": "ethernet-acl-type",
        "aces": {
            "ace": [{"name": "e", "matches": {"eth": {"ethertype": "0x888e"}}, "actions": {"forwarding": "accept"}}]
        },
    }
    assert sorted(codes(d, "strict")) == ["dialect-ethernet-acl-type", "dialect-ethertype-string"]
    flow = next(f for f in parse(dump(d)).flows if f.direction == "from-device")
    assert (flow.family, flow.ethertype, flow.peer_kind) == ("eth", 0x888E, "any")


def test_ethertype_names_are_read_as_numbers() -> None:
    d = doc()
    d["ietf-access-control-list:acls"]["acl"][0]["type"] = "eth-acl-type"
    first_ace(d)["matches"] = {"eth": {"ethertype": "arp", "destination-mac-address": "FF:FF:FF:FF:FF:FF"}}
    flow = next(f for f in parse(dump(d), mode="strict").flows if f.direction == "from-device")
    assert (flow.ethertype, flow.peer_kind, flow.peer) == (2054, "mac", "ff:ff:ff:ff:ff:ff")


def test_mudgee_eth_matches_in_an_ipv4_acl_are_kept_and_the_implied_ethertype_dropped() -> None:
    d = doc()
    first_ace(d)["matches"]["eth"] = {"destination-mac-address": "ff:ff:ff:ff:ff:ff", "ethertype": "0x0800"}
    assert "dialect-eth-in-ip-acl" in codes(d, "strict")
    flow = next(f for f in parse(dump(d)).flows if f.direction == "from-device")
    assert flow.ethertype is None
    assert flow.extra == (("eth/destination-mac-address", "ff:ff:ff:ff:ff:ff"),)


def test_double_encoded_json_is_unwrapped_once() -> None:
    once = json.dumps(json.dumps(doc())).encode()
    assert codes(once, "strict") == ["dialect-double-encoded"]
    assert parse(once).flows == parse(dump(doc())).flows
    twice = json.dumps(once.decode()).encode()
    assert codes(twice, "import") == ["not-an-object"]


def test_last_update_without_offset_is_read_as_utc() -> None:
    d = doc()
    d["ietf-mud:mud"]["last-update"] = "2021-04-03T02:55:15"
    assert codes(d, "strict") == ["dialect-last-update-offset"]
    assert parse(dump(d)).meta.last_update.isoformat() == "2021-04-03T02:55:15+00:00"


def test_the_gateway_controller_is_read_as_my_controller_in_both_modes() -> None:
    d = doc()
    first_ace(d)["matches"] = {
        "ietf-mud:mud": {"controller": "urn:ietf:params:mud:gateway"},
        "ipv4": {"protocol": 17},
        "udp": {"destination-port": {"operator": "eq", "port": 67}},
    }
    for mode in ("strict", "import"):
        parsed = parse(dump(d), mode=mode)  # type: ignore[arg-type]
        flow = next(f for f in parsed.flows if f.direction == "from-device")
        assert (flow.peer_kind, flow.peer) == ("my-controller", "")
        assert "gateway-controller" in [w.code for w in parsed.warnings]


def test_a_mud_url_host_with_underscores_is_kept_on_import() -> None:
    d = doc()
    d["ietf-mud:mud"]["mud-url"] = "https://amazon_echo.com/amazon_echo"
    assert codes(d, "strict") == ["dialect-mud-url-host"]
    assert parse(dump(d)).meta.mud_url == "https://amazon_echo.com/amazon_echo"


def test_a_missing_or_empty_mud_url_is_tolerated_on_import() -> None:
    for value in ("", None):
        d = doc()
        if value is None:
            del d["ietf-mud:mud"]["mud-url"]
        else:
            d["ietf-mud:mud"]["mud-url"] = value
        assert codes(d, "strict") == ["dialect-missing-mud-url"]
        assert parse(dump(d)).meta.mud_url is None


def test_mudgee_port_ranges_with_an_operator_are_read_as_ranges() -> None:
    d = doc()
    first_ace(d)["matches"]["tcp"]["destination-port"] = {"operator": "range", "lower-port": 1, "upper-port": 9}
    assert codes(d, "strict") == ["dialect-port-range-operator"]
    flow = next(f for f in parse(dump(d)).flows if f.direction == "from-device")
    assert flow.dst_port is not None and flow.dst_port.text == "1-9"


def test_an_ipv6_address_without_length_is_one_host() -> None:
    d = doc()
    d["ietf-access-control-list:acls"]["acl"][0]["type"] = "ipv6-acl-type"
    first_ace(d)["matches"] = {"ipv6": {"protocol": 17, "destination-ipv6-network": "fdc1:1bdc:1e84:0:0:0:0:1"}}
    assert codes(d, "strict") == ["dialect-prefix-length"]
    flow = next(f for f in parse(dump(d)).flows if f.direction == "from-device")
    assert flow.peer == "fdc1:1bdc:1e84::1/128"


def test_pre_rfc_acl_name_syntax_is_rejected_with_a_clear_message() -> None:
    d = doc()
    entry = d["ietf-mud:mud"]["from-device-policy"]["access-lists"]["access-list"][0]
    entry["acl-name"] = entry.pop("name")
    entry["acl-type"] = "ietf-access-control-list:ipv4-acl"
    for mode in ("strict", "import"):
        assert set(codes(d, mode)) == {"pre-rfc-draft"}
