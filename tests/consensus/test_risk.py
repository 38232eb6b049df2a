"""Risk classes (CONSENSUS.md "Risk class of a flow"), including the choices risk.py documents."""

from __future__ import annotations

from datetime import timedelta

import pytest

from profiles.consensus import DEFAULT_PARAMS, ModelContext, classify
from profiles.consensus.risk import registrable_domain, under_private_section
from profiles.mud.flows import Flow, PortMatch
from tests.consensus.factories import AS_OF, CONTEXT, OLD, tcp, udp

CTX = ModelContext(
    manufacturer_domains=frozenset({"mud.acme.com", "acme-cloud.net"}),
    domain_first_seen={"ntp.org": OLD, "example.net": OLD, "fresh.io": AS_OF - timedelta(days=29)},
    firmware_order=(),
)


def klass(flow: Flow, context: ModelContext = CTX) -> tuple[str, str]:
    found = classify(flow, context, AS_OF, DEFAULT_PARAMS)
    return found.risk_class, found.reason


@pytest.mark.parametrize(
    ("flow", "expected"),
    [
        # V: the manufacturer's registrable domains (a MUD URL authority counts for its domain)
        (tcp("api.acme.com", 443), ("V", "vendor-domain")),
        (tcp("eu.acme-cloud.net", 9999), ("V", "vendor-domain")),  # ports are not held against the vendor
        # V: standard local infrastructure
        (
            Flow("from-device", "ipv4", "local-networks", protocol=6, dst_port=PortMatch.eq(8080)),
            ("V", "local-networks"),
        ),
        (Flow("from-device", "ipv6", "my-controller", protocol=17), ("V", "my-controller")),
        (Flow("from-device", "ipv4", "same-manufacturer"), ("V", "same-manufacturer")),
        (
            Flow("from-device", "ipv4", "controller", "urn:ietf:params:mud:dns", protocol=17),
            ("V", "standard-controller"),
        ),
        (
            Flow("from-device", "ipv4", "controller", "urn:ietf:params:mud:ntp", protocol=17),
            ("V", "standard-controller"),
        ),
        (Flow("from-device", "ipv4", "manufacturer", "mud.acme.com"), ("V", "vendor-manufacturer")),
        (Flow("from-device", "ipv4", "model", "https://mud.acme.com/cam.json"), ("V", "vendor-model")),
        (udp("255.255.255.255/32", 67, kind="network"), ("V", "local-address")),
        (udp("224.0.0.251/32", 5353, kind="network"), ("V", "local-address")),
        (Flow("from-device", "eth", "any", ethertype=0x888E), ("V", "layer-2")),
        # T: everything else
        (udp("pool.ntp.org", 123), ("T", "third-party")),
        (tcp("cdn.example.net", 443), ("T", "third-party")),
        (Flow("from-device", "ipv4", "manufacturer", "other.com"), ("T", "manufacturer")),
        (Flow("from-device", "ipv4", "controller", "https://ctl.example/x"), ("T", "controller")),
        # H
        (tcp("203.0.113.5/32", 443, kind="network"), ("H", "ip-literal")),
        (tcp("8.8.8.8/32", 853, kind="network"), ("H", "public-resolver")),
        (tcp("dns.google", 443), ("H", "public-resolver")),
        (tcp("mozilla.cloudflare-dns.com", 443), ("H", "public-resolver")),
        (tcp("bucket.s3.amazonaws.com", 443), ("H", "private-suffix")),
        (tcp("me.duckdns.org", 443), ("H", "private-suffix")),
        (tcp("cdn.example.net", 8080), ("H", "port")),
        (tcp("x.fresh.io", 443), ("H", "new-domain")),
        (tcp("never-seen.org", 443), ("H", "new-domain")),
        (Flow("from-device", "ipv4", "any", protocol=6, dst_port=PortMatch.eq(443)), ("H", "any-peer")),
        (Flow("from-device", "ipv4", "dnsname", "api.acme.com"), ("H", "no-protocol")),
        (Flow("from-device", "ipv4", "dnsname", "api.acme.com", protocol=6), ("H", "no-port")),
        (
            Flow("from-device", "ipv4", "dnsname", "api.acme.com", protocol=6, dst_port=PortMatch("neq", 23, 23)),
            ("H", "no-port"),
        ),
        (
            Flow("to-device", "ipv4", "dnsname", "api.acme.com", protocol=6, src_port=PortMatch.eq(443)),
            ("H", "internet-initiated"),
        ),
        (Flow("from-device", "ipv4", "dnsname", "pool.ntp.org", protocol=47), ("H", "unported-protocol")),
    ],
    ids=lambda v: v.key if isinstance(v, Flow) else None,
)
def test_it_classifies(flow: Flow, expected: tuple[str, str]) -> None:
    assert klass(flow) == expected


def test_a_to_device_flow_the_device_initiated_is_not_internet_initiated() -> None:
    flow = Flow(
        "to-device", "ipv4", "dnsname", "api.acme.com", protocol=6, src_port=PortMatch.eq(443), initiated="from-device"
    )
    assert klass(flow) == ("V", "vendor-domain")


def test_a_domain_is_young_until_exactly_thirty_days() -> None:
    ctx = ModelContext(domain_first_seen={"ageing.org": AS_OF - timedelta(days=30)})
    assert klass(tcp("a.ageing.org", 443), ctx) == ("T", "third-party")


def test_a_port_range_inside_the_allowed_set_is_allowed_and_one_outside_is_not() -> None:
    inside = Flow("from-device", "ipv4", "dnsname", "pool.ntp.org", protocol=17, dst_port=PortMatch("range", 67, 68))
    outside = Flow("from-device", "ipv4", "dnsname", "pool.ntp.org", protocol=17, dst_port=PortMatch("range", 123, 124))
    assert klass(inside)[0] == "T"
    assert klass(outside) == ("H", "port")


def test_the_private_section_is_told_apart_from_icann_suffixes() -> None:
    assert under_private_section("bucket.s3.amazonaws.com")
    assert under_private_section("user.github.io")
    assert not under_private_section("www.example.co.uk")
    assert registrable_domain("www.example.co.uk") == "example.co.uk"
    assert registrable_domain("bucket.s3.amazonaws.com") == "bucket.s3.amazonaws.com"


def test_the_factory_context_has_the_classes_the_property_tests_rely_on() -> None:
    from tests.consensus.factories import POOL

    assert [classify(f, CONTEXT, AS_OF, DEFAULT_PARAMS).risk_class for f in POOL] == ["V", "V", "V", "T", "T", "H", "H"]
