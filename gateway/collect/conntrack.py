"""Connection tables: `conntrack -L` output, `/proc/net/nf_conntrack`, or `conntrack -E` events.

Each entry is one conversation: its original tuple says who opened it, `[UNREPLIED]` that
nobody answered, `packets=`/`bytes=` (with nf_conntrack_acct on) how much went each way.
Event logs written with `conntrack -E -o timestamp` carry a `[seconds.micro]` time; plain
dumps carry none, and their peers are then named by the newest DNS answer for the address.
The same connection seen again (a later dump, an [UPDATE]) only adds what its counters grew.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

_STAMP = re.compile(r"^\[(?P<ts>\d+(?:\.\d+)?)\]\s*")
_EVENT = re.compile(r"^\[(?P<event>NEW|UPDATE|DESTROY)\]\s*")
_PROTOCOLS = {"tcp": 6, "udp": 17, "icmp": 1, "icmpv6": 58, "udplite": 136, "sctp": 132, "dccp": 33, "gre": 47}
_KEEP = 200_000  # connections remembered for their counters; the oldest are forgotten past this


class ConntrackFormatError(Exception):
    pass


@dataclass(frozen=True, slots=True)
class Entry:
    ts: float | None
    event: str | None
    family: str
    protocol: int
    original: dict[str, str]
    reply: dict[str, str]
    answered: bool


def parse_line(line: str) -> Entry | None:
    text = line.strip()
    if not text or text.startswith("conntrack v"):
        return None
    ts = None
    stamp = _STAMP.match(text)
    if stamp:
        ts = float(stamp["ts"])
        text = text[stamp.end() :]
    event = None
    tagged = _EVENT.match(text)
    if tagged:
        event = tagged["event"]
        text = text[tagged.end() :]
    words = text.split()
    if len(words) >= 2 and words[0] in ("ipv4", "ipv6") and words[1].isdigit():
        words = words[2:]  # /proc/net/nf_conntrack's layer-3 columns
    if not words or (words[0] not in _PROTOCOLS and not (len(words) > 1 and words[1].isdigit())):
        return None
    protocol = int(words[1]) if len(words) > 1 and words[1].isdigit() else _PROTOCOLS[words[0]]
    tuples: list[dict[str, str]] = []
    answered = True
    for word in words[2:]:
        if word == "[UNREPLIED]":
            answered = False
            continue
        key, sep, value = word.partition("=")
        if not sep:
            continue
        if key == "src":
            tuples.append({})
        if tuples and len(tuples) <= 2:
            tuples[-1].setdefault(key, value)
    if len(tuples) < 2 or "dst" not in tuples[0] or "dst" not in tuples[1]:
        return None
    family = "ipv6" if ":" in tuples[0]["src"] else "ipv4"
    return Entry(ts, event, family, protocol, tuples[0], tuples[1], answered)


def _int(values: dict[str, str], key: str) -> int | None:
    value = values.get(key)
    return int(value) if value is not None and value.isdigit() else None


@dataclass(frozen=True, slots=True)
class Conversation:
    """One entry seen from the device, with what its counters added since last seen."""

    ts: float | None
    family: str
    protocol: int
    device_ip: str
    device_port: int | None
    peer_ip: str
    peer_port: int | None
    device_initiated: bool
    answered: bool
    sent: tuple[int, int]
    received: tuple[int, int]
    icmp_types: tuple[int | None, int | None]


def read_conversations(
    path: str, device_ips: set[str], on_progress: Callable[[int], None] | None = None
) -> Iterator[Conversation]:
    counters: dict[tuple[str, ...], tuple[int, int, int, int]] = {}
    recognised = 0
    with open(path, encoding="utf-8", errors="replace") as lines:
        for number, line in enumerate(lines, start=1):
            if on_progress is not None:
                on_progress(len(line))
            entry = parse_line(line)
            if entry is None:
                if line.strip() and recognised == 0 and number >= 20:
                    raise ConntrackFormatError(f"{path}: no connection entry in its first {number} lines")
                continue
            recognised += 1
            found = _from_device(entry, device_ips)
            if found is None:
                continue
            original, reply = entry.original, entry.reply
            key = (str(entry.protocol), original["src"], original["dst"], original.get("sport", ""),
                   original.get("dport", ""), original.get("id", ""))  # fmt: skip
            now = (
                _int(original, "packets") or 0, _int(original, "bytes") or 0,
                _int(reply, "packets") or 0, _int(reply, "bytes") or 0,
            )  # fmt: skip
            before = counters.get(key, (0, 0, 0, 0))
            grown = tuple(max(0, n - b) for n, b in zip(now, before, strict=True))
            if entry.event == "DESTROY":
                counters.pop(key, None)
            else:
                counters[key] = now
                if len(counters) > _KEEP:
                    del counters[next(iter(counters))]
            device_ip, device_port, peer_ip, peer_port, device_initiated = found
            sent, received = (grown[0:2], grown[2:4]) if device_initiated else (grown[2:4], grown[0:2])
            yield Conversation(
                ts=entry.ts,
                family=entry.family,
                protocol=entry.protocol,
                device_ip=device_ip,
                device_port=device_port,
                peer_ip=peer_ip,
                peer_port=peer_port,
                device_initiated=device_initiated,
                answered=entry.answered,
                sent=(sent[0], sent[1]),
                received=(received[0], received[1]),
                icmp_types=(_int(original, "type"), _int(reply, "type")),
            )
    if recognised == 0:
        raise ConntrackFormatError(f"{path}: no connection entry found")


def _from_device(entry: Entry, device_ips: set[str]) -> tuple[str, int | None, str, int | None, bool] | None:
    """(device address, device port, peer address, peer port, whether the device opened it)."""
    original, reply = entry.original, entry.reply
    if original["src"] in device_ips:
        return original["src"], _int(original, "sport"), original["dst"], _int(original, "dport"), True
    if reply["src"] in device_ips:  # opened from outside, through a port forward (DNAT)
        return reply["src"], _int(reply, "sport"), original["src"], _int(original, "sport"), False
    if original["dst"] in device_ips:
        return original["dst"], _int(original, "dport"), original["src"], _int(original, "sport"), False
    return None
