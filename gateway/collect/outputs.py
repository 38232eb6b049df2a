"""What a run writes: the native flow list, the MUD file, the summary a contributor reads."""

from __future__ import annotations

import json
import os
import tempfile
from datetime import UTC, datetime
from typing import Any

from profiles.mud import MudMeta, emit
from profiles.mud.flows import VALUELESS_PEERS, Flow, PortMatch

from .collection import Collection, when


def _port(port: PortMatch) -> int | dict[str, Any]:
    if port.operator == "eq":
        return port.lower
    if port.operator == "range":
        return {"lower": port.lower, "upper": port.upper}
    return {"operator": port.operator, "port": port.lower}


def native_flow(flow: Flow) -> dict[str, Any]:
    """A flow in the native form the submission API accepts (README: "a collector may send flows")."""
    item: dict[str, Any] = {"direction": flow.direction, "family": flow.family, "peer_kind": flow.peer_kind}
    if flow.peer_kind not in VALUELESS_PEERS:
        item["peer"] = flow.peer
    for name in ("network", "protocol"):
        if getattr(flow, name) is not None:
            item[name] = getattr(flow, name)
    if flow.src_port is not None:
        item["src_port"] = _port(flow.src_port)
    if flow.dst_port is not None:
        item["dst_port"] = _port(flow.dst_port)
    for name in ("initiated", "icmp_type", "icmp_code", "ethertype"):
        if getattr(flow, name) is not None:
            item[name] = getattr(flow, name)
    return item


def native_flows(collection: Collection) -> list[dict[str, Any]]:
    return [native_flow(stat.flow) for stat in collection.flows]


def mud_file(
    collection: Collection,
    *,
    manufacturer: str | None = None,
    model: str | None = None,
    mud_url: str | None = None,
) -> bytes:
    """The observed flows as a MUD file; its last-update is the end of the observation, so the
    same input always gives the same bytes."""
    end = collection.end if collection.end is not None else 0.0
    described = " ".join(part for part in (manufacturer, model) if part)
    meta = MudMeta(
        mud_url=mud_url,
        last_update=datetime.fromtimestamp(int(end), UTC),
        mfg_name=manufacturer,
        model_name=model,
        systeminfo=f"{described}, as observed by mudhub-collect" if described else None,
    )
    return emit(meta, (stat.flow for stat in collection.flows))


def write_atomically(path: str, data: bytes) -> None:
    """Write by rename: a reader never sees half a file."""
    folder = os.path.dirname(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=".mudhub-collect-")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def _size(count: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if count < 1024 or unit == "GB":
            return f"{count} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024  # type: ignore[assignment]
    return str(count)


def summary(collection: Collection) -> str:
    lines = []
    device = collection.device_mac or "?"
    if collection.device_ips:
        device += f" ({', '.join(collection.device_ips)})"
    read = []
    if collection.frames or not collection.entries:
        read.append(f"{collection.frames} frame(s) ({collection.device_frames} of the device)")
    if collection.entries:
        read.append(f"{collection.entries} log and connection table entries of the device")
    lines.append(f"device {device}; read {' and '.join(read)}")
    lines.append(f"observed {when(collection.start) or '?'} .. {when(collection.end) or '?'}")
    if collection.gateway_ips or collection.gateway_mac:
        gateway = ", ".join(collection.gateway_ips) or "?"
        lines.append(f"gateway: {gateway}" + (f" ({collection.gateway_mac})" if collection.gateway_mac else ""))
    lines.append(f"flows ({len(collection.flows)}):")
    width = max((len(stat.flow.key) for stat in collection.flows), default=0)
    for stat in collection.flows:
        lines.append(
            f"  {stat.flow.key:<{width}}  {stat.packets:>8} pkts {_size(stat.bytes):>10}  "
            f"{when(stat.first) or '-'} .. {when(stat.last) or '-'}"
        )
    lines.append(f"warnings ({len(collection.notes)}):")
    lines.extend(f"  {note.code}: {note.message}" for note in collection.notes)
    return "\n".join(lines) + "\n"


def flows_json(collection: Collection) -> bytes:
    return (json.dumps(native_flows(collection), indent=2) + "\n").encode()
