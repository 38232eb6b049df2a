"""The flows the collector builds from synthetic captures, one behaviour at a time."""

from __future__ import annotations

from pathlib import Path

from tests.gateway.collect.helpers import codes, collected, keys, stat
from tests.gateway.collect.traffic import (
    BROADCAST,
    DEVICE_IP,
    DEVICE_IP6,
    DEVICE_MAC,
    GATEWAY_IP,
    OTHER_IP,
    OTHER_MAC,
    SIBLING_IP,
    SIBLING_MAC,
    T0,
    Traffic,
)  # fmt: skip

API = "from-device ipv4 dnsname=api.example.com proto=6 dport=eq443 init=from-device"
API_BACK = "to-device ipv4 dnsname=api.example.com proto=6 sport=eq443 init=from-device"


def test_dns_then_tcp_gives_the_named_pair_of_flows_both_device_initiated(tmp_path: Path) -> None:
    traffic = Traffic()
    traffic.dns(T0, "api.example.com", [("A", "api.example.com", "192.0.2.10", 300)])
    traffic.tcp(T0 + 1, "192.0.2.10", 443, exchanges=3)
    result = collected(traffic, tmp_path)
    assert {API, API_BACK} <= keys(result)
    out, back = stat(result, API), stat(result, API_BACK)
    assert (out.packets, back.packets) == (1 + 1 + 3 + 1 + 1, 1 + 3 + 1)  # SYN ACK data FIN ACK / SYN-ACK data FIN
    assert out.first == T0 + 1 and back.last is not None and back.last > T0 + 3
    assert "ip-literal" not in codes(result)


def test_the_devices_ephemeral_ports_never_become_match_values(tmp_path: Path) -> None:
    traffic = Traffic()
    traffic.dns(T0, "api.example.com", [("A", "api.example.com", "192.0.2.10", 300)])
    for n in range(5):
        traffic.tcp(T0 + 1 + n, "192.0.2.10", 443)
        traffic.udp(T0 + 1.5 + n, "198.51.100.7", 123)
    result = collected(traffic, tmp_path)
    ports = {p.lower for s in result.flows for p in (s.flow.src_port, s.flow.dst_port) if p is not None}
    assert ports == {53, 443, 123}
    assert not any(40000 < port < 41000 for port in ports)


def test_a_cname_chain_names_the_peer_by_the_question_the_device_asked(tmp_path: Path) -> None:
    traffic = Traffic()
    chain = [
        ("CNAME", "api.example.com", "api.geo.example.net", 600),
        ("CNAME", "api.geo.example.net", "edge-7.cdn.example.org", 300),
        ("A", "edge-7.cdn.example.org", "192.0.2.10", 60),
        ("A", "unrelated.example.org", "192.0.2.99", 60),  # not on the chain: never names anything
    ]
    traffic.dns(T0, "api.example.com", chain)
    traffic.tcp(T0 + 1, "192.0.2.10", 443)
    traffic.tcp(T0 + 2, "192.0.2.99", 443)
    result = collected(traffic, tmp_path)
    assert API in keys(result)
    assert "from-device ipv4 network=192.0.2.99/32 proto=6 dport=eq443 init=from-device" in keys(result)
    assert not any("cdn.example.org" in key or "geo.example.net" in key for key in keys(result))


def test_a_name_expires_with_the_shortest_ttl_of_its_chain(tmp_path: Path) -> None:
    traffic = Traffic()
    chain = [("CNAME", "api.example.com", "edge.example.net", 3600), ("A", "edge.example.net", "192.0.2.10", 60)]
    traffic.dns(T0, "api.example.com", chain)
    traffic.tcp(T0 + 30, "192.0.2.10", 443)  # within the 60 s of the A record
    traffic.tcp(T0 + 600, "192.0.2.10", 443)  # long after: the device did not ask again
    result = collected(traffic, tmp_path)
    assert API in keys(result)
    literal = "from-device ipv4 network=192.0.2.10/32 proto=6 dport=eq443 init=from-device"
    assert literal in keys(result)
    assert stat(result, literal).first == T0 + 600
    assert "ip-literal" in codes(result)


def test_a_flow_with_no_dns_keeps_the_ip_literal_with_a_warning(tmp_path: Path) -> None:
    traffic = Traffic()
    traffic.tcp(T0, "203.0.113.5", 8883)
    result = collected(traffic, tmp_path)
    assert keys(result) == {
        "from-device ipv4 network=203.0.113.5/32 proto=6 dport=eq8883 init=from-device",
        "to-device ipv4 network=203.0.113.5/32 proto=6 sport=eq8883 init=from-device",
    }
    (note,) = result.notes
    assert note.code == "ip-literal" and "203.0.113.5" in note.message


def test_ipv6_peers_are_named_by_aaaa_answers(tmp_path: Path) -> None:
    traffic = Traffic(device_ip=DEVICE_IP6, gateway_ip="2001:db8:1::1")
    traffic.dns(T0, "v6.example.com", [("AAAA", "v6.example.com", "2001:db8:ff::10", 300)], qtype=28)
    traffic.tcp(T0 + 1, "2001:db8:ff::10", 443)
    result = collected(traffic, tmp_path)
    assert "from-device ipv6 dnsname=v6.example.com proto=6 dport=eq443 init=from-device" in keys(result)
    assert "to-device ipv6 dnsname=v6.example.com proto=6 sport=eq443 init=from-device" in keys(result)
    assert DEVICE_IP6 in result.device_ips


def test_a_port_the_device_listens_on_becomes_a_to_device_flow_and_its_reply(tmp_path: Path) -> None:
    traffic = Traffic()
    traffic.tcp(T0, OTHER_IP, 9999, opened_by_device=False, peer_mac=OTHER_MAC)
    result = collected(traffic, tmp_path)
    assert keys(result) == {
        "to-device ipv4 local-networks proto=6 dport=eq9999 init=to-device",
        "from-device ipv4 local-networks proto=6 sport=eq9999 init=to-device",
    }
    assert result.notes == ()  # a local peer using the device's service is expected


def test_inbound_from_the_internet_is_a_warning_and_a_refused_one_no_flow(tmp_path: Path) -> None:
    traffic = Traffic()
    traffic.tcp(T0, "203.0.113.9", 80, opened_by_device=False)
    traffic.tcp(T0 + 5, "203.0.113.66", 23, opened_by_device=False, accept=False)
    result = collected(traffic, tmp_path)
    assert "to-device ipv4 network=203.0.113.9/32 proto=6 dport=eq80 init=to-device" in keys(result)
    assert not any("203.0.113.66" in key for key in keys(result))
    inbound = sorted(n.message for n in result.notes if n.code == "unexpected-inbound")
    assert inbound == [
        "203.0.113.66 tried TCP 23 on the device, which did not accept it (1 packets)",
        "203.0.113.9 opened TCP 80 on the device, and the device answered",
    ]


def test_public_dns_and_doh_resolvers_are_flagged(tmp_path: Path) -> None:
    traffic = Traffic()
    traffic.dns(T0, "dns.google", [("A", "dns.google", "8.8.8.8", 300)], server="8.8.8.8")
    traffic.tcp(T0 + 1, "8.8.8.8", 443)  # DNS over HTTPS to the name the device looked up
    traffic.dns(T0 + 2, "one.example.com", [("A", "one.example.com", "192.0.2.1", 300)], server="1.1.1.1")
    result = collected(traffic, tmp_path)
    assert "from-device ipv4 network=8.8.8.8/32 proto=17 dport=eq53" in keys(result)
    assert "from-device ipv4 dnsname=dns.google proto=6 dport=eq443 init=from-device" in keys(result)
    resolvers = sorted(n.message for n in result.notes if n.code == "public-resolver")
    assert resolvers == [
        "TCP 443 to dns.google: a public DNS resolver (DNS, DoT or DoH)",
        "UDP 53 to 1.1.1.1/32: a public DNS resolver (DNS, DoT or DoH)",
        "UDP 53 to 8.8.8.8/32: a public DNS resolver (DNS, DoT or DoH)",
    ]
    assert "my-controller" not in " ".join(keys(result))


def test_the_gateways_dns_dhcp_and_ntp_are_my_controller(tmp_path: Path) -> None:
    traffic = Traffic()
    traffic.dhcp(T0)
    traffic.dns(T0 + 1, "api.example.com", [("A", "api.example.com", "192.0.2.10", 300)])
    traffic.udp(T0 + 2, GATEWAY_IP, 123)
    traffic.tcp(T0 + 3, GATEWAY_IP, 80)  # the router's web page is no controller service
    result = collected(traffic, tmp_path)
    assert {
        "from-device ipv4 my-controller proto=17 dport=eq67",
        "to-device ipv4 my-controller proto=17 sport=eq67",
        "from-device ipv4 my-controller proto=17 dport=eq53",
        "to-device ipv4 my-controller proto=17 sport=eq53",
        "from-device ipv4 my-controller proto=17 dport=eq123",
        "from-device ipv4 local-networks proto=6 dport=eq80 init=from-device",
    } <= keys(result)
    assert result.gateway_ips == (GATEWAY_IP,)


def test_a_local_device_of_the_same_manufacturer_is_same_manufacturer(tmp_path: Path) -> None:
    traffic = Traffic()
    traffic.udp(T0, SIBLING_IP, 9999, peer_mac=SIBLING_MAC)
    traffic.udp(T0 + 1, OTHER_IP, 9999, peer_mac=OTHER_MAC)
    result = collected(traffic, tmp_path)
    assert {
        "from-device ipv4 same-manufacturer proto=17 dport=eq9999",
        "to-device ipv4 same-manufacturer proto=17 sport=eq9999",
        "from-device ipv4 local-networks proto=17 dport=eq9999",
    } <= keys(result)


def test_multicast_keeps_its_group_and_arp_and_eapol_are_ethernet_flows(tmp_path: Path) -> None:
    traffic = Traffic()
    traffic.eapol(T0)
    traffic.arp(T0 + 1, GATEWAY_IP)
    traffic.multicast(T0 + 2, "239.255.255.250", 1900, "01:00:5e:7f:ff:fa")
    traffic.multicast(T0 + 3, "224.0.0.251", 5353, "01:00:5e:00:00:fb")
    traffic.multicast(T0 + 4, "255.255.255.255", 9999, BROADCAST)
    traffic.multicast(T0 + 5, "192.168.1.255", 9999, BROADCAST)  # the subnet's broadcast address
    result = collected(traffic, tmp_path)
    assert keys(result) == {
        "from-device ipv4 local-networks net=255.255.255.255/32 proto=17 dport=eq9999",
        "from-device ipv4 local-networks net=192.168.1.255/32 proto=17 dport=eq9999",
        "from-device eth any ethertype=34958",
        "from-device eth any ethertype=2054",
        "to-device eth any ethertype=2054",
        "from-device ipv4 local-networks net=239.255.255.250/32 proto=17 dport=eq1900",
        "from-device ipv4 local-networks net=224.0.0.251/32 proto=17 dport=eq5353",
    }


def test_a_reply_to_a_multicast_request_is_not_a_listening_port(tmp_path: Path) -> None:
    traffic = Traffic()
    traffic.multicast(T0, "239.255.255.250", 1900, "01:00:5e:7f:ff:fa")
    # A media server answers the device's M-SEARCH from port 1900 to the device's own port.
    traffic.udp(T0 + 0.1, OTHER_IP, 1900, opened_by_device=False, device_port=45000, peer_port=1900, peer_mac=OTHER_MAC)
    result = collected(traffic, tmp_path)
    assert "to-device ipv4 local-networks proto=17 sport=eq1900" in keys(result)
    assert not any("45000" in key for key in keys(result))


def test_the_device_found_by_its_address_gives_the_same_flows_as_by_its_mac(tmp_path: Path) -> None:
    traffic = Traffic()
    traffic.dns(T0, "api.example.com", [("A", "api.example.com", "192.0.2.10", 300)])
    traffic.tcp(T0 + 1, "192.0.2.10", 443)
    traffic.arp(T0 + 2, GATEWAY_IP)
    traffic.tcp(T0 + 3, OTHER_IP, 8080, peer_mac=OTHER_MAC)
    by_mac = collected(traffic, tmp_path)
    by_ip = collected(traffic, tmp_path, device_ips=(DEVICE_IP,))
    assert by_mac.flow_set == by_ip.flow_set
    assert by_ip.device_mac == DEVICE_MAC


def test_a_capture_with_no_packet_of_the_device_has_no_flow_and_says_so(tmp_path: Path) -> None:
    traffic = Traffic(device_mac=OTHER_MAC, device_ip=OTHER_IP)
    traffic.dns(T0, "api.example.com", [("A", "api.example.com", "192.0.2.10", 300)])
    traffic.tcp(T0 + 1, "192.0.2.10", 443)
    result = collected(traffic, tmp_path)
    assert result.flows == ()
    assert codes(result) == ["no-device-packets"]
    assert result.frames == len(traffic.frames) and result.device_frames == 0


def test_a_connection_begun_before_the_capture_is_guessed_from_its_ports_with_a_warning(tmp_path: Path) -> None:
    traffic = Traffic()
    traffic.tcp(T0, "203.0.113.5", 8883, handshake=False)
    result = collected(traffic, tmp_path)
    assert "from-device ipv4 network=203.0.113.5/32 proto=6 dport=eq8883 init=from-device" in keys(result)
    assert "no-handshake" in codes(result)


def test_memory_follows_conversations_not_packets(tmp_path: Path) -> None:
    from gateway.collect.observe import Observer

    traffic = Traffic()
    traffic.dns(T0, "api.example.com", [("A", "api.example.com", "192.0.2.10", 30)])
    for n in range(40):  # one connection every 10 minutes: each is idle long before the next
        traffic.tcp(T0 + 1 + n * 600, "192.0.2.10", 443)
    observer = Observer(device_mac=DEVICE_MAC)
    for ts, frame in traffic.ordered():
        observer.frame(ts, frame)
    observer.sweep(T0 + 1 + 40 * 600)
    assert len(observer._conversations) == 0
    assert len(observer.tallies) == 6  # DNS, the named pair, then the IP-literal pair once the TTL ran out


def test_an_answer_over_tcp_names_the_peer_too(tmp_path: Path) -> None:
    import dpkt

    traffic = Traffic()
    answer = dpkt.dns.DNS(
        id=7, op=0x8180, qd=[dpkt.dns.DNS.Q(name="big.example.com")],
        an=[dpkt.dns.DNS.RR(name="big.example.com", type=1, cls=1, ttl=300, rdata=bytes([192, 0, 2, 44]))],
    )  # fmt: skip
    message = bytes(answer)
    segment = dpkt.tcp.TCP(sport=53, dport=40999, flags=dpkt.tcp.TH_ACK, data=len(message).to_bytes(2, "big") + message)
    traffic.ip(T0, GATEWAY_IP, DEVICE_IP, segment, 6, src_mac=traffic.gateway_mac, dst_mac=DEVICE_MAC)
    traffic.tcp(T0 + 1, "192.0.2.44", 443)
    assert "from-device ipv4 dnsname=big.example.com proto=6 dport=eq443 init=from-device" in keys(
        collected(traffic, tmp_path)
    )


def test_who_serves_an_exchange_whose_opening_was_not_seen() -> None:
    from gateway.collect.observe import server_side

    assert server_side(9999, 51000, device_sent_first=True)  # an answer to a broadcast request
    assert not server_side(51000, 9999, device_sent_first=True)
    assert not server_side(10000, 20000, device_sent_first=True)  # neither looks ephemeral: the first speaker asks
    assert server_side(10000, 20000, device_sent_first=False)
    assert server_side(1900, 50123, device_sent_first=True) and not server_side(50123, 1900, device_sent_first=False)
    assert not server_side(68, 67, device_sent_first=False)  # DHCP: the gateway serves
    assert not server_side(123, 123, device_sent_first=True) and server_side(123, 123, device_sent_first=False)
