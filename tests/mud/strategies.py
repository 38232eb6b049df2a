"""Hypothesis strategies for flows that a MUD file can express."""

from __future__ import annotations

import ipaddress

from hypothesis import strategies as st

from profiles.mud import Flow, PortMatch
from profiles.mud.emit import check_emittable

HOSTS = st.sampled_from(
    ["cloud.example.com", "a.b.example.net", "xn--bcher-kva.example", "x1.example.org", "_sip.example"]
)
# A model is a MUD URL (https); a controller a URN, a private https URI or a bare class name.
MODEL_URIS = st.sampled_from(["https://models.example.com/m1", "https://ctl.example/x"])
CONTROLLER_URIS = st.sampled_from(["urn:ietf:params:mud:dns", "bacnet", "https://ctl.example/x"])
MACS = st.sampled_from(["ff:ff:ff:ff:ff:ff", "00:11:22:33:44:55", "01:00:5e:00:00:fb"])
ICMP = {"ipv4": 1, "ipv6": 58}


@st.composite
def prefixes(draw: st.DrawFn, family: str) -> str:
    bits = 32 if family == "ipv4" else 128
    length = draw(st.integers(0, bits))
    address = draw(st.integers(0, 2**bits - 1))
    net = ipaddress.ip_network((address, length), strict=False) if family == "ipv4" else None
    if family == "ipv6":
        net = ipaddress.IPv6Network((address, length), strict=False)
    return str(net)


@st.composite
def ports(draw: st.DrawFn) -> PortMatch:
    op = draw(st.sampled_from(["eq", "neq", "lte", "gte", "range"]))
    if op == "range":
        lower = draw(st.integers(0, 65534))
        return PortMatch("range", lower, draw(st.integers(lower + 1, 65535)))
    port = draw(st.integers(0, 65535))
    return PortMatch(op, port, port)


@st.composite
def flows(draw: st.DrawFn) -> Flow:
    direction = draw(st.sampled_from(["from-device", "to-device"]))
    family = draw(st.sampled_from(["ipv4", "ipv6", "eth"]))
    peer_side = "destination" if direction == "from-device" else "source"
    device_side = "source" if direction == "from-device" else "destination"
    abstractions = ["local-networks", "same-manufacturer", "manufacturer", "model", "controller", "my-controller"]
    kinds = ["any", *abstractions] + (["mac"] if family == "eth" else ["dnsname", "network"])
    kind = draw(st.sampled_from(kinds))
    peer = ""
    if kind in ("dnsname", "manufacturer"):
        peer = draw(HOSTS)
    elif kind == "model":
        peer = draw(MODEL_URIS)
    elif kind == "controller":
        peer = draw(CONTROLLER_URIS)
    elif kind == "network":
        peer = draw(prefixes(family))
    elif kind == "mac":
        peer = draw(MACS)
    extra: list[tuple[str, str]] = []
    network = protocol = src = dst = initiated = icmp_type = icmp_code = ethertype = None
    if family == "eth":
        ethertype = draw(st.none() | st.integers(0, 65535))
        if kind in abstractions and draw(st.booleans()):
            extra.append((f"eth/{peer_side}-mac-address", draw(MACS)))
    else:
        if kind in abstractions and draw(st.booleans()):
            network = draw(prefixes(family))
        protocol = draw(st.none() | st.sampled_from([6, 17, ICMP[family], 2, 47]))
        if protocol in (6, 17):
            src = draw(st.none() | ports())
            dst = draw(st.none() | ports())
        if protocol == 6:
            initiated = draw(st.none() | st.sampled_from(["from-device", "to-device"]))
            if draw(st.booleans()):
                extra.append(("tcp/flags", draw(st.sampled_from(["syn", "ack syn", "cwr fin"]))))
        if protocol == ICMP[family]:
            icmp_type = draw(st.none() | st.integers(0, 255))
            icmp_code = draw(st.none() | st.integers(0, 255))
        if draw(st.booleans()):
            extra.append((f"{family}/ttl", str(draw(st.integers(0, 255)))))
        if draw(st.booleans()):
            extra.append((f"{family}/{device_side}-{family}-network", draw(prefixes(family))))
        if draw(st.integers(0, 4)) == 0:
            ethertype = draw(st.integers(0, 65535).filter(lambda e: e not in (0x0800, 0x86DD)))
            extra.append((f"eth/{device_side}-mac-address", draw(MACS)))
    return Flow(
        direction=direction,
        family=family,
        peer_kind=kind,
        peer=peer,
        network=network,
        protocol=protocol,
        src_port=src,
        dst_port=dst,
        initiated=initiated,
        icmp_type=icmp_type,
        icmp_code=icmp_code,
        ethertype=ethertype,
        extra=tuple(sorted(extra)),
    )


def emittable(flow: Flow) -> bool:
    """Only flows parse can produce: the strategy draws a few combinations it cannot."""
    try:
        check_emittable(flow)
    except ValueError:
        return False
    return True


flow_sets = st.frozensets(flows().filter(emittable), max_size=12)
