"""Risk class of a flow for one model: V (vendor), T (third party) or H (high risk).

Decisions where docs/consensus.md is silent, so the next reader need not guess:

- A peer is *local* when the gateway can never route it to the Internet: family eth (layer 2
  never leaves the link), a MAC peer, the abstractions local-networks, my-controller,
  same-manufacturer, manufacturer:<host>, model:<uri>, controller:<uri> (the MUD manager
  maps all of these to local devices), and an address prefix that lies wholly inside the
  local ranges below (private, link-local, loopback, multicast, limited broadcast).
- A local peer grants at most what local-networks grants, which is V; so it is never H.
  It is V when it is standard local infrastructure (eth, MAC, local addresses,
  local-networks, my-controller, same-manufacturer, the dns/ntp controller URNs) or the
  model's own manufacturer; other manufacturers, models and controllers are T.
- The peer kind "any" (no peer restriction) is the widest IP literal, so H; a public
  address prefix is an IP literal, so H.
- For a DNS name, the H tests split in two. Tests of what the flow *does* (a public
  resolver, an Internet-initiated inbound TCP flow, no protocol or no peer-port
  restriction) apply to every peer, vendor included. Tests of *whose name* it is (a private
  public-suffix section, a port outside the set, a young domain) are what the vendor's
  proof of the domain answers, so they apply only to non-vendor peers.
- "Internet may initiate": a to-device TCP flow towards a non-local peer without
  direction-initiated from-device. UDP and ICMP cannot carry direction-initiated in MUD;
  a to-device UDP flow is judged by its peer and peer port like any other.
- "No port restriction": the peer-side port is absent, `neq`, or spans all ports. Ports
  apply to TCP and UDP; ICMP is judged by its peer; any other IP protocol towards a
  non-local peer cannot be port-restricted, so it is H.
- "Port outside the set": any port the peer-side match admits is outside it (a range
  must lie wholly inside the set).
- The registrable domain uses the full public-suffix list (ICANN and private sections),
  so a tenant of shared hosting (`bucket.s3.amazonaws.com`) is its own registrable domain.
  A name is "under the private section" when its public suffix per the full list differs
  from its public suffix per the ICANN section alone.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache, lru_cache

from publicsuffixlist import PublicSuffixList

from profiles.mud.flows import Flow, PortMatch

from .inputs import ModelContext
from .params import ConsensusParams, RiskClass

TCP, UDP, ICMP, ICMPV6 = 6, 17, 1, 58
VENDOR_CONTROLLERS = frozenset({"urn:ietf:params:mud:dns", "urn:ietf:params:mud:ntp"})

# (IP version, first address, last address) of every range a gateway never routes to the Internet.
Span = tuple[int, int, int]


def _span(prefix: str) -> Span | None:
    try:
        net = ipaddress.ip_network(prefix, strict=False)
    except ValueError:
        return None
    return net.version, int(net.network_address), int(net.broadcast_address)


_LOCAL_SPANS: tuple[Span, ...] = tuple(
    span
    for span in map(
        _span,
        (
            "10.0.0.0/8",
            "172.16.0.0/12",
            "192.168.0.0/16",
            "169.254.0.0/16",
            "127.0.0.0/8",
            "224.0.0.0/4",
            "255.255.255.255/32",
            "0.0.0.0/32",
            "fc00::/7",
            "fe80::/10",
            "ff00::/8",
            "::1/128",
            "::/128",
        ),
    )
    if span is not None
)


@dataclass(frozen=True, slots=True)
class Classification:
    risk_class: RiskClass
    reason: str


@cache
def _psl(only_icann: bool) -> PublicSuffixList:
    # The list bundled with the pinned package; never fetched at run time.
    return PublicSuffixList(only_icann=only_icann)


@lru_cache(maxsize=1 << 16)
def registrable_domain(name: str) -> str:
    """The registrable domain per the full public-suffix list; a bare suffix is its own.
    Kept per name: the list is fixed for the process, and a model's flows name the same
    peers in every scope and every run."""
    name = name.lower().rstrip(".")
    found = _psl(False).privatesuffix(name)
    return str(found) if found else name


@lru_cache(maxsize=1 << 16)
def under_private_section(name: str) -> bool:
    name = name.lower().rstrip(".")
    return bool(_psl(False).publicsuffix(name) != _psl(True).publicsuffix(name))


def _is_local(span: Span) -> bool:
    version, first, last = span
    return any(v == version and lo <= first and last <= hi for v, lo, hi in _LOCAL_SPANS)


def _is_resolver_name(name: str, params: ConsensusParams) -> bool:
    labels = name.split(".")
    return any(".".join(labels[i:]) in params.public_resolver_names for i in range(len(labels)))


@cache
def _resolver_addresses(addresses: frozenset[str]) -> tuple[tuple[int, int], ...]:
    parsed = (ipaddress.ip_address(addr) for addr in sorted(addresses))
    return tuple((addr.version, int(addr)) for addr in parsed)


def _holds_resolver(span: Span, params: ConsensusParams) -> bool:
    version, first, last = span
    return any(v == version and first <= a <= last for v, a in _resolver_addresses(params.public_resolver_addresses))


def _unrestricted(port: PortMatch | None) -> bool:
    if port is None or port.operator == "neq":
        return True
    if port.operator == "lte":
        return port.upper >= 65535
    if port.operator == "gte":
        return port.lower <= 1
    return port.operator == "range" and port.lower <= 1 and port.upper >= 65535


def _outside_allowed_ports(port: PortMatch | None, params: ConsensusParams) -> bool:
    if port is None:
        return True
    if port.operator == "eq":
        return port.lower not in params.allowed_ports
    if port.operator == "range" and port.upper - port.lower < 65535:
        return any(p not in params.allowed_ports for p in range(port.lower, port.upper + 1))
    return True


def _vendor_domains(context: ModelContext) -> frozenset[str]:
    return frozenset(registrable_domain(d) for d in context.manufacturer_domains)


def _host_of(uri: str) -> str:
    """The authority of a URL (`https://mud.example.com/x.json`), or the value itself for a bare host."""
    rest = uri.split("://", 1)[1] if "://" in uri else uri
    host = rest.split("/", 1)[0].rsplit("@", 1)[-1]
    return host.split(":", 1)[0] if not host.startswith("[") else host


def _behaviour_risk(flow: Flow) -> str | None:
    """H tests on what a flow towards a non-local peer does, whoever the peer is."""
    if flow.protocol is None:
        return "no-protocol"
    if flow.protocol in (TCP, UDP):
        if flow.protocol == TCP and flow.direction == "to-device" and flow.initiated != "from-device":
            return "internet-initiated"
        if _unrestricted(flow.peer_port):
            return "no-port"
        return None
    if flow.protocol in (ICMP, ICMPV6):
        return None
    return "unported-protocol"


class Classifier:
    """Classifies the flows of one model at one time; caches what depends only on the model."""

    def __init__(self, context: ModelContext, as_of: datetime, params: ConsensusParams) -> None:
        self._context = context
        self._params = params
        self._vendor = _vendor_domains(context)
        self._young_after = as_of - timedelta(days=params.new_domain_days)

    def _is_vendor_host(self, host: str) -> bool:
        return bool(host) and registrable_domain(host) in self._vendor

    def classify(self, flow: Flow) -> Classification:
        if flow.family == "eth":
            return Classification("V", "layer-2")
        kind = flow.peer_kind
        if kind in ("local-networks", "my-controller", "same-manufacturer"):
            return Classification("V", kind)
        if kind == "mac":
            return Classification("V", "layer-2")
        if kind == "controller":
            if flow.peer in VENDOR_CONTROLLERS:
                return Classification("V", "standard-controller")
            return Classification("T", "controller")
        if kind in ("manufacturer", "model"):
            if self._is_vendor_host(_host_of(flow.peer)):
                return Classification("V", f"vendor-{kind}")
            return Classification("T", kind)
        if kind in ("network", "any"):
            return self._classify_address(flow)
        return self._classify_name(flow)

    def _classify_address(self, flow: Flow) -> Classification:
        prefix = flow.peer if flow.peer_kind == "network" else flow.network
        if prefix is None:
            return Classification("H", "any-peer")
        span = _span(prefix)
        if span is None:
            return Classification("H", "ip-literal")
        if _holds_resolver(span, self._params):
            return Classification("H", "public-resolver")
        if _is_local(span):
            return Classification("V", "local-address")
        return Classification("H", "ip-literal")

    def _classify_name(self, flow: Flow) -> Classification:
        params = self._params
        name = flow.peer
        if _is_resolver_name(name, params):
            return Classification("H", "public-resolver")
        behaviour = _behaviour_risk(flow)
        if behaviour is not None:
            return Classification("H", behaviour)
        domain = registrable_domain(name)
        if domain in self._vendor:
            return Classification("V", "vendor-domain")
        if under_private_section(name):
            return Classification("H", "private-suffix")
        if flow.protocol in (TCP, UDP) and _outside_allowed_ports(flow.peer_port, params):
            return Classification("H", "port")
        first_seen = self._context.domain_first_seen.get(domain)
        if first_seen is None or first_seen > self._young_after:
            return Classification("H", "new-domain")
        return Classification("T", "third-party")


def classify(flow: Flow, context: ModelContext, as_of: datetime, params: ConsensusParams) -> Classification:
    """The risk class of one flow; for many flows of one model, build one `Classifier`."""
    return Classifier(context, as_of, params).classify(flow)
