"""Canonical spellings of the values flows are made of: host names, prefixes, MACs, URIs, dates.

Each function is pure and cached: real files repeat the same few names and prefixes many
times, and the cache is what keeps parse fast (see bench/codec.py).
"""

from __future__ import annotations

import ipaddress
import re
from datetime import UTC, datetime, timedelta, timezone
from functools import lru_cache
from urllib.parse import urlsplit

import idna

# ietf-inet-types domain-name, which (unlike IDNA) allows "_" in labels ("_sip._udp.example").
_DOMAIN_LABEL = re.compile(r"[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9])?\Z")
_MAC = re.compile(r"[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}\Z")
_DATE = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?(?:([Zz])|([+-])(\d{2}):(\d{2}))?\Z", re.ASCII
)
_IPV4_PREFIX = re.compile(r"\d{1,3}(\.\d{1,3}){3}/\d{1,2}\Z", re.ASCII)
_IPV6_PREFIX = re.compile(r"[0-9a-fA-F:.]+/\d{1,3}\Z", re.ASCII)


class ValueProblem(ValueError):
    """A value that has no canonical form; `code` is the problem code to report."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@lru_cache(maxsize=16384)
def canonical_host(text: str) -> str:
    """A DNS name as flows spell it: lower case, no trailing dot, IDNA A-labels."""
    name = text[:-1] if text.endswith(".") else text
    if not name or len(name) > 253:
        raise ValueProblem("invalid-dnsname", f"{text!r} is not a host name")
    if "*" in name:
        raise ValueProblem("invalid-dnsname", f"{text!r}: wildcards are not allowed in MUD DNS names")
    if not name.isascii():
        try:
            name = idna.encode(name, uts46=True).decode("ascii")
        except (idna.IDNAError, UnicodeError) as exc:
            raise ValueProblem("invalid-dnsname", f"{text!r} is not an internationalised host name: {exc}") from None
    name = name.lower()
    labels = name.split(".")
    if not all(_DOMAIN_LABEL.match(label) for label in labels):
        raise ValueProblem("invalid-dnsname", f"{text!r} is not a host name")
    for label in labels:
        if label.startswith("xn--"):
            try:
                idna.decode(label)
            except (idna.IDNAError, UnicodeError):
                raise ValueProblem("invalid-dnsname", f"{text!r} has an invalid A-label {label!r}") from None
    return name


@lru_cache(maxsize=16384)
def ip_literal(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address if `text` is an IP address literal (inet:host allows them), else None."""
    if "%" in text or not (":" in text or text[-1:].isdigit()):
        return None
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


@lru_cache(maxsize=16384)
def canonical_prefix(text: str, family: str) -> tuple[str, bool]:
    """A prefix as flows spell it, and whether host bits had to be cleared."""
    pattern = _IPV4_PREFIX if family == "ipv4" else _IPV6_PREFIX
    if not pattern.match(text):
        raise ValueProblem("invalid-prefix", f"{text!r} is not an {family} prefix (address/length)")
    try:
        net = ipaddress.ip_network(text, strict=False)
    except ValueError as exc:
        raise ValueProblem("invalid-prefix", f"{text!r}: {exc}") from None
    if family != f"ipv{net.version}":
        raise ValueProblem("family-mismatch", f"{text!r} is not an {family} prefix")
    canonical = str(net)
    host_bits = net.network_address != ipaddress.ip_interface(text).ip
    return canonical, host_bits


def canonical_mac(text: str) -> str:
    if not _MAC.match(text):
        raise ValueProblem("invalid-mac", f"{text!r} is not a MAC address (xx:xx:xx:xx:xx:xx)")
    return text.lower()


def check_uri(text: str) -> str:
    """inet:uri has no pattern in YANG; refuse only what is plainly not a URI."""
    # The only whitespace str.isprintable() lets through is the ASCII space.
    if not text or " " in text or not text.isprintable():
        raise ValueProblem("invalid-uri", f"{text!r} is not a URI")
    return text


# A controller class named without a scheme ("bacnet", "remote-host": DAQ's files). Not an
# absolute URI, but nothing a browser or a manager could follow or run; kept as a name.
_CONTROLLER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*\Z", re.ASCII)
# The schemes each URI member of a MUD file can mean (RFC 8520). Anything else (javascript:,
# data:, file:, ...) is refused: these values end up as links on web pages.
MODEL_SCHEMES = ("https",)  # a model is a MUD URL
CONTROLLER_SCHEMES = ("urn", "https")  # a registered URN, or a private https URI (NIST)
SIGNATURE_SCHEMES = ("https",)
DOCUMENTATION_SCHEMES = ("https", "http")


@lru_cache(maxsize=4096)
def check_uri_scheme(text: str, schemes: tuple[str, ...], what: str) -> str:
    """A URI whose scheme is one of `schemes` (http(s) ones with a host); a controller may
    also be a bare class name."""
    check_uri(text)
    try:
        parts = urlsplit(text)
        host = parts.hostname
    except ValueError:
        raise ValueProblem("invalid-uri", f"{text!r} is not a URI") from None
    scheme = parts.scheme.lower()
    if not scheme:
        if "urn" in schemes and _CONTROLLER_NAME.match(text):
            return text
        raise ValueProblem("invalid-uri", f"{text!r} is not an absolute URI: a {what} starts with {schemes[0]}:")
    if scheme not in schemes:
        allowed = " or ".join(f"{s}:" for s in schemes)
        raise ValueProblem("invalid-uri-scheme", f"a {what} is a {allowed} URI, not {scheme}:")
    if scheme in ("http", "https") and not host:
        raise ValueProblem("invalid-uri", f"{text!r} has no host")
    return text


def check_peer_uri(kind: str, text: str) -> str:
    """The URI of a `model` (a MUD URL) or `controller` peer."""
    if kind == "model":
        return check_uri_scheme(text, MODEL_SCHEMES, "model")
    return check_uri_scheme(text, CONTROLLER_SCHEMES, "controller")


@lru_cache(maxsize=4096)
def check_https_url(text: str) -> tuple[str, bool]:
    """A MUD URL: absolute https with a host. Returns (url, host_is_dns_name)."""
    try:
        parts = urlsplit(text)
        host = parts.hostname
    except ValueError:
        raise ValueProblem("invalid-mud-url", f"{text!r} is not a URL") from None
    if parts.scheme != "https" or not host or any(c.isspace() for c in text):
        raise ValueProblem("invalid-mud-url", f"{text!r} is not an absolute https URL")
    try:
        canonical_host(host)
        ok = "_" not in host
    except ValueProblem:
        ok = False
    return text, ok


@lru_cache(maxsize=4096)
def parse_date(text: str) -> tuple[datetime, bool]:
    """yang:date-and-time; returns (aware datetime, had_offset). A missing offset means UTC."""
    m = _DATE.match(text)
    if not m:
        raise ValueProblem("invalid-date", f"{text!r} is not an RFC 3339 date-and-time")
    year, month, day, hour, minute, second = (int(m.group(i)) for i in range(1, 7))
    fraction = m.group(7)
    micro = int((fraction[1:] + "000000")[:6]) if fraction else 0
    if m.group(8):
        tz: timezone = UTC
    elif m.group(9):
        hours, minutes = int(m.group(10)), int(m.group(11))
        if hours > 23 or minutes > 59:
            raise ValueProblem("invalid-date", f"{text!r} has an impossible UTC offset")
        delta = timedelta(hours=hours, minutes=minutes)
        tz = timezone(delta if m.group(9) == "+" else -delta)
    else:
        tz = UTC
    try:
        value = datetime(year, month, day, hour, minute, min(second, 59), micro, tzinfo=tz)
    except ValueError as exc:
        raise ValueProblem("invalid-date", f"{text!r}: {exc}") from None
    return value, bool(m.group(8) or m.group(9))


def format_date(value: datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.isoformat()
