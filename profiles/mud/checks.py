"""Quality warnings, in both modes: things that are legal but that a reviewer should see."""

from __future__ import annotations

import ipaddress
from datetime import datetime
from functools import lru_cache

from . import resolvers
from .errors import Problem
from .flows import Flow
from .meta import MudMeta

PUBLIC_RESOLVER_NAMES = resolvers.PUBLIC_RESOLVER_NAMES
PUBLIC_RESOLVER_ADDRESSES = frozenset(ipaddress.ip_address(a) for a in resolvers.PUBLIC_RESOLVER_ADDRESSES)
LOCAL_SERVICE_PORTS = {53: "DNS", 123: "NTP"}
LOCAL_SERVICE_CONTROLLERS = {"urn:ietf:params:mud:dns": "DNS", "urn:ietf:params:mud:ntp": "NTP"}
_WIDE_KINDS = frozenset({"any", "local-networks", "same-manufacturer", "manufacturer", "model"})


@lru_cache(maxsize=8192)
def _prefix_facts(prefix: str) -> tuple[bool, bool]:
    """(is a public address or prefix, holds a public resolver)."""
    net = ipaddress.ip_network(prefix)
    resolver = net.num_addresses <= 256 and any(a in net for a in PUBLIC_RESOLVER_ADDRESSES)
    return net.is_global and not net.is_multicast, resolver


def flow_warnings(flow: Flow, path: str) -> list[Problem]:
    out: list[Problem] = []
    kind = flow.peer_kind
    network = flow.network
    if kind == "network" or network is not None:
        for prefix in (flow.peer if kind == "network" else None, network):
            if not prefix:
                continue
            public, resolver = _prefix_facts(prefix)
            if resolver:
                out.append(Problem("public-resolver", path, f"{prefix} is a public DNS resolver"))
            elif public:
                out.append(Problem("public-ip-literal", path, f"{prefix} is a public address hard-coded in the file"))
    # flow.peer_port, inline: this runs once per flow.
    port = flow.dst_port if flow.direction == "from-device" else flow.src_port
    if kind == "dnsname" and flow.peer in PUBLIC_RESOLVER_NAMES:
        out.append(Problem("public-resolver", path, f"{flow.peer} is a public DNS/DoH resolver"))
    elif flow.protocol == 6 and port is not None and port.operator == "eq" and port.lower == 853:
        out.append(Problem("public-resolver", path, "TCP 853 is DNS over TLS to a resolver other than the local one"))

    service = None
    if kind == "controller":
        service = LOCAL_SERVICE_CONTROLLERS.get(flow.peer)
    elif port is not None and port.operator == "eq" and (kind == "my-controller" or kind == "local-networks"):
        service = LOCAL_SERVICE_PORTS.get(port.lower)
    if service is not None:
        out.append(Problem("redundant-local-service", path, f"local {service} is permitted by default (RFC 8520)"))

    if (
        kind in _WIDE_KINDS
        and network is None
        and flow.src_port is None
        and flow.dst_port is None
        and flow.protocol in (None, 6, 17)
        and flow.ethertype is None
        and not flow.extra
    ):
        what = "any protocol" if flow.protocol is None else f"any port of protocol {flow.protocol}"
        out.append(Problem("wide-rule", path, f"permits {what} to {kind}"))
    return out


def meta_warnings(meta: MudMeta, now: datetime) -> list[Problem]:
    out: list[Problem] = []
    base = "/ietf-mud:mud"
    if meta.mfg_name is None:
        out.append(Problem("missing-mfg-name", f"{base}/mfg-name", "no mfg-name: the manufacturer is unknown"))
    if meta.model_name is None:
        out.append(Problem("missing-model-name", f"{base}/model-name", "no model-name: the device model is unknown"))
    if meta.firmware_rev is not None:
        out.append(
            Problem(
                "firmware-rev-present",
                f"{base}/firmware-rev",
                "firmware-rev MUST NOT be present if the device can be updated without changing its MUD URL",
            )
        )
    if not meta.is_supported:
        out.append(Problem("not-supported", f"{base}/is-supported", "the manufacturer no longer supports this device"))
    if now.tzinfo is not None and meta.last_update > now:
        out.append(
            Problem("future-last-update", f"{base}/last-update", f"{meta.last_update.isoformat()} is in the future")
        )
    return out
