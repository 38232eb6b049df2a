"""Public recursive resolvers, by name (DoH/DoT endpoints) and by address.

A device that talks to one of these bypasses the local resolver, and with it the gateway's
DNS-based policy: the codec warns about such rules, and the consensus classes them high-risk.
"""

from __future__ import annotations

PUBLIC_RESOLVER_NAMES: frozenset[str] = frozenset(
    {
        "dns.google",
        "dns.google.com",
        "8888.google",
        "cloudflare-dns.com",
        "one.one.one.one",
        "doh.familyshield.opendns.com",
        "family.cloudflare-dns.com",
        "security.cloudflare-dns.com",
        "1dot1dot1dot1.cloudflare-dns.com",
        "dns.quad9.net",
        "dns9.quad9.net",
        "dns10.quad9.net",
        "dns11.quad9.net",
        "doh.opendns.com",
        "dns.opendns.com",
        "resolver1.opendns.com",
        "resolver2.opendns.com",
        "doh.cleanbrowsing.org",
        "dns.adguard.com",
        "dns.adguard-dns.com",
        "dns.nextdns.io",
        "doh.mullvad.net",
        "dns.mullvad.net",
        "doh.dns.sb",
        "dns.alidns.com",
        "doh.pub",
        "dns.controld.com",
        "freedns.controld.com",
        "mozilla.cloudflare-dns.com",
        "chrome.cloudflare-dns.com",
    }
)
PUBLIC_RESOLVER_ADDRESSES: frozenset[str] = frozenset(
    {
        "8.8.8.8",
        "8.8.4.4",
        "1.1.1.1",
        "1.0.0.1",
        "1.1.1.2",
        "1.0.0.2",
        "1.1.1.3",
        "1.0.0.3",
        "9.9.9.9",
        "149.112.112.112",
        "9.9.9.10",
        "149.112.112.10",
        "9.9.9.11",
        "208.67.222.222",
        "208.67.220.220",
        "94.140.14.14",
        "94.140.15.15",
        "185.228.168.9",
        "185.228.169.9",
        "76.76.2.0",
        "76.76.10.0",
        "223.5.5.5",
        "223.6.6.6",
        "2001:4860:4860::8888",
        "2001:4860:4860::8844",
        "2606:4700:4700::1111",
        "2606:4700:4700::1001",
        "2620:fe::fe",
        "2620:fe::9",
        "2620:119:35::35",
        "2620:119:53::53",
        "2a10:50c0::ad1:ff",
        "2a10:50c0::ad2:ff",
    }
)
