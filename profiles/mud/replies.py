"""MUDgee's TCP replies, paired with their requests on import.

MUDgee writes the reply half of a device-initiated TCP connection as a to-device ACE that
names the peer and its source port but carries no `direction-initiated`. Read literally,
that ACE lets the peer open a connection to the device from that port: the Internet may
initiate, the highest risk class there is. When the same file also permits the request (the
from-device flow to that peer and port with `direction-initiated: from-device`), the
to-device ACE is that request's reply. Import then gives it `direction-initiated:
from-device` too: the flow permits only the packets of connections the device opened, a
subset of what the ACE permitted (a tightening, never a widening), and the risk classes
judge it with its request.
"""

from __future__ import annotations

from dataclasses import replace

from .errors import Problem
from .flows import Flow

TCP = 6


def _request_of(reply: Flow) -> Flow:
    """The from-device flow whose reply `reply` would be: the mirror image, device-initiated."""
    return replace(
        reply, direction="from-device", src_port=reply.dst_port, dst_port=reply.src_port, initiated="from-device"
    )


def is_unpaired_reply(flow: Flow) -> bool:
    return (
        flow.direction == "to-device"
        and flow.protocol == TCP
        and flow.initiated is None
        and flow.peer_kind in ("dnsname", "network")
        and flow.src_port is not None
    )


def pair_replies(flows: dict[Flow, str]) -> tuple[dict[Flow, str], list[Problem]]:
    """`flows` (flow -> JSON pointer of its ACE) with every MUDgee reply paired, and a warning each."""
    if not any(is_unpaired_reply(flow) for flow in flows):
        return flows, []
    out: dict[Flow, str] = {}
    warnings = []
    for flow, path in flows.items():
        if is_unpaired_reply(flow):
            request = _request_of(flow)
            if request in flows:
                paired = replace(flow, initiated="from-device")
                warnings.append(
                    Problem(
                        "tcp-reply-paired",
                        path,
                        f"read as the reply to the device-initiated flow at {flows[request]}: "
                        "direction-initiated from-device added (the peer may not open connections)",
                    )
                )
                flow = paired
        out.setdefault(flow, path)
    return out, warnings
