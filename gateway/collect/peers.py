"""What an address is to the device: local, a group, a public peer, a known public resolver.

"Local" is deliberately narrow: the private ranges of RFC 1918, IPv4 link-local, IPv6
unique-local (fc00::/7) and link-local (fe80::/10). The documentation and benchmarking ranges
that `ipaddress` calls private (192.0.2.0/24, 198.18.0.0/15, ...) are treated as public here,
because on a real network they are never a home's own addresses.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

_LOCAL_NETWORKS = tuple(
    ipaddress.ip_network(net)
    for net in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16", "fc00::/7", "fe80::/10")
)
_BROADCAST_V4 = ipaddress.IPv4Address("255.255.255.255")

# Services a gateway offers its own network; traffic to the gateway on these is `my-controller`.
CONTROLLER_SERVICES = frozenset({(17, 53), (6, 53), (17, 67), (17, 123), (17, 547)})
DHCP_SERVER_PORTS = frozenset({67, 547})

# Public resolvers a device may use instead of the gateway's: plain DNS on 53, DoT on 853, DoH on 443.
PUBLIC_RESOLVER_ADDRESSES = frozenset(
    {
        "8.8.8.8", "8.8.4.4", "1.1.1.1", "1.0.0.1", "9.9.9.9", "149.112.112.112", "208.67.222.222",
        "208.67.220.220", "94.140.14.14", "94.140.15.15", "76.76.2.0", "185.228.168.9",
        "2001:4860:4860::8888", "2001:4860:4860::8844", "2606:4700:4700::1111", "2606:4700:4700::1001",
        "2620:fe::fe", "2620:fe::9", "2620:119:35::35", "2620:119:53::53",
    }
)  # fmt: skip
PUBLIC_RESOLVER_NAMES = frozenset(
    {
        "dns.google", "dns.google.com", "cloudflare-dns.com", "one.one.one.one", "mozilla.cloudflare-dns.com",
        "security.cloudflare-dns.com", "family.cloudflare-dns.com", "dns.quad9.net", "dns9.quad9.net",
        "dns10.quad9.net", "doh.opendns.com", "dns.opendns.com", "dns.adguard.com", "dns.adguard-dns.com",
        "doh.cleanbrowsing.org", "dns.nextdns.io", "doh.dns.sb", "dns.controld.com",
    }
)  # fmt: skip
RESOLVER_PORTS = frozenset({53, 443, 853})


@lru_cache(maxsize=65536)
def classify(address: str) -> str:
    """'local', 'group' (multicast or the limited broadcast), 'unspecified' or 'public'."""
    ip = ipaddress.ip_address(address)
    if ip.is_multicast or ip == _BROADCAST_V4:
        return "group"
    if ip.is_unspecified:
        return "unspecified"
    if any(ip in net for net in _LOCAL_NETWORKS if net.version == ip.version):
        return "local"
    return "public"


def host_prefix(address: str) -> str:
    ip = ipaddress.ip_address(address)
    return f"{ip}/{ip.max_prefixlen}"


def is_public_resolver(kind: str, value: str, protocol: int | None, port: int | None) -> bool:
    """A flow to a well-known public DNS, DoT or DoH resolver (or DoT to anyone)."""
    if port == 853:
        return True
    if port not in RESOLVER_PORTS or protocol not in (6, 17):
        return False
    if kind == "dnsname":
        return value in PUBLIC_RESOLVER_NAMES
    if kind == "network":
        return value.split("/", 1)[0] in PUBLIC_RESOLVER_ADDRESSES
    return False


def oui(mac: str) -> str | None:
    """The manufacturer prefix of a globally administered unicast MAC address, else None."""
    first = int(mac[:2], 16)
    if first & 0b11:  # multicast or locally administered: the first three octets name no manufacturer
        return None
    return mac[:8]


def mac_text(raw: bytes) -> str:
    return raw.hex(":")
