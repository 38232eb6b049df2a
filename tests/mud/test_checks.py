"""Quality warnings: legal files that a reviewer should look at twice."""

from __future__ import annotations

from .helpers import doc, first_ace, warning_codes


def test_it_warns_about_public_ip_literals_but_not_private_ones() -> None:
    d = doc()
    first_ace(d)["matches"]["ipv4"] = {"destination-ipv4-network": "52.1.2.3/32", "protocol": 6}
    assert "public-ip-literal" in warning_codes(d)
    first_ace(d)["matches"]["ipv4"] = {"destination-ipv4-network": "192.168.1.0/24", "protocol": 6}
    assert "public-ip-literal" not in warning_codes(d)


def test_it_warns_about_public_resolvers_by_name_address_and_dot_port() -> None:
    d = doc()
    first_ace(d)["matches"]["ipv4"]["ietf-acldns:dst-dnsname"] = "dns.google"
    assert "public-resolver" in warning_codes(d)
    d = doc()
    first_ace(d)["matches"]["ipv4"] = {"destination-ipv4-network": "8.8.8.8/32", "protocol": 17}
    first_ace(d)["matches"]["udp"] = first_ace(d)["matches"].pop("tcp")
    del first_ace(d)["matches"]["udp"]["ietf-mud:direction-initiated"]
    assert "public-resolver" in warning_codes(d)
    d = doc()
    first_ace(d)["matches"]["tcp"]["destination-port"]["port"] = 853
    assert "public-resolver" in warning_codes(d)


def test_it_warns_about_redundant_local_dns_and_ntp() -> None:
    d = doc()
    first_ace(d)["matches"] = {
        "ietf-mud:mud": {"controller": "urn:ietf:params:mud:ntp"},
        "ipv4": {"protocol": 17},
        "udp": {"destination-port": {"operator": "eq", "port": 123}},
    }
    assert "redundant-local-service" in warning_codes(d)


def test_it_warns_about_wide_rules() -> None:
    d = doc()
    first_ace(d)["matches"] = {"ietf-mud:mud": {"local-networks": [None]}}
    assert "wide-rule" in warning_codes(d)
    assert "wide-rule" not in warning_codes(doc())


def test_it_warns_about_metadata() -> None:
    d = doc()
    del d["ietf-mud:mud"]["mfg-name"]
    del d["ietf-mud:mud"]["model-name"]
    d["ietf-mud:mud"]["is-supported"] = False
    d["ietf-mud:mud"]["firmware-rev"] = "1.0"
    found = warning_codes(d, "strict")
    assert {"missing-mfg-name", "missing-model-name", "not-supported", "firmware-rev-present"} <= set(found)


def test_it_warns_about_unregistered_controller_urns() -> None:
    d = doc()
    first_ace(d)["matches"] = {"ietf-mud:mud": {"controller": "urn:ietf:params:mud:printer"}}
    assert "unregistered-controller-urn" in warning_codes(d, "strict")
