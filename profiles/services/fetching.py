"""Fetching from a manufacturer's own servers: DNS TXT look-ups and small HTTPS GETs.

Both are reached from the request path (a claim's verify) and from the mirroring task, so
both are bounded: HTTPS only, a short timeout, at most 64 KiB, redirects only to the same
host, and never a private, loopback or link-local address (unless MUDHUB_CLAIM_ALLOW_PRIVATE
is set, for tests). The address is resolved once and connected to directly, with the
certificate checked against the host name, so a DNS answer that changes between the check
and the connection (rebinding) cannot point the request inside the network.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import dns.exception
import dns.resolver
from django.conf import settings

MAX_BYTES = 64 * 1024
MAX_REDIRECTS = 3


class FetchError(Exception):
    """Why a fetch failed, in a sentence that can be shown to the manufacturer."""


@dataclass(frozen=True)
class Fetched:
    url: str
    body: bytes
    content_type: str


def _resolver() -> dns.resolver.Resolver | None:
    """A dnspython resolver for MUDHUB_DNS_RESOLVER (`host:port`), or None for the system's."""
    configured = settings.MUDHUB_DNS_RESOLVER
    if not configured:
        return None
    host, _, port = configured.rpartition(":")
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = [host.strip("[]")]
    resolver.port = int(port)
    resolver.timeout = resolver.lifetime = settings.MUDHUB_FETCH_TIMEOUT_SECONDS
    return resolver


def dns_txt(name: str) -> list[str]:
    """Every TXT string at `name` (each record's strings joined); [] when there is none."""
    resolver = _resolver() or dns.resolver.Resolver()
    resolver.lifetime = settings.MUDHUB_FETCH_TIMEOUT_SECONDS
    try:
        answer = resolver.resolve(name, "TXT")
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
        return []
    except dns.exception.DNSException as error:
        raise FetchError(f"the DNS look-up of {name} failed: {error.__class__.__name__}") from None
    return [b"".join(record.strings).decode("utf-8", errors="replace") for record in answer]


def _addresses(host: str, port: int) -> list[str]:
    resolver = _resolver()
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        return [str(literal)]
    if resolver is None:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as error:
            raise FetchError(f"{host} does not resolve: {error}") from None
        return list(dict.fromkeys(str(info[4][0]) for info in infos))
    found: list[str] = []
    failure = ""
    for kind in ("A", "AAAA"):
        try:
            found += [record.to_text() for record in resolver.resolve(host, kind)]
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
            continue
        except dns.exception.DNSException as error:
            failure = failure or error.__class__.__name__
    if not found:
        raise FetchError(f"the DNS look-up of {host} failed: {failure}" if failure else f"{host} does not resolve")
    return found


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    return ip.is_global and not ip.is_multicast


def _context() -> ssl.SSLContext:
    context = ssl.create_default_context()
    if settings.MUDHUB_FETCH_CA_FILE:
        context.load_verify_locations(cafile=settings.MUDHUB_FETCH_CA_FILE)
    return context


class _PinnedConnection(http.client.HTTPSConnection):
    """An HTTPS connection to one checked address, verifying the certificate for the host name."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=_context())
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


def https_get(url: str, *, port: int | None = None) -> Fetched:
    """GET `url` within the limits of the module docstring. `port` overrides the URL's (the
    claim check's MUDHUB_CLAIM_HTTPS_PORT)."""
    first_host = urlsplit(url).hostname
    for _ in range(MAX_REDIRECTS + 1):
        parts = urlsplit(url)
        if parts.scheme != "https" or not parts.hostname:
            raise FetchError(f"{url} is not an https URL")
        if parts.hostname != first_host:
            raise FetchError(f"{url}: a redirect to another host is not followed")
        try:
            target_port = port or parts.port or 443
        except ValueError:  # a port outside 0..65535
            raise FetchError(f"{url} has no valid port") from None
        addresses = _addresses(parts.hostname, target_port)
        if not settings.MUDHUB_CLAIM_ALLOW_PRIVATE and not all(_public(a) for a in addresses):
            raise FetchError(f"{parts.hostname} resolves to a private, loopback or reserved address")
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        connection = _PinnedConnection(parts.hostname, target_port, addresses[0], settings.MUDHUB_FETCH_TIMEOUT_SECONDS)
        try:
            connection.request("GET", path, headers={"User-Agent": "mudhub", "Accept": "*/*"})
            response = connection.getresponse()
            if response.status in (301, 302, 303, 307, 308):
                url = urljoin(url, response.getheader("Location") or "")
                continue
            if response.status != 200:
                raise FetchError(f"{url} answered HTTP {response.status}")
            body = response.read(MAX_BYTES + 1)
            if len(body) > MAX_BYTES:
                raise FetchError(f"{url} sent more than {MAX_BYTES} bytes")
            return Fetched(url=url, body=body, content_type=response.getheader("Content-Type") or "")
        except (OSError, http.client.HTTPException) as error:
            raise FetchError(f"{url} could not be fetched: {error.__class__.__name__}: {error}") from None
        finally:
            connection.close()
    raise FetchError(f"{url}: more than {MAX_REDIRECTS} redirects")
