"""Peer names from the DNS answers the device received, each valid for its TTL window.

An answer names an address for the name the device asked for (the question), whatever
CNAME chain led to the address, and for as long as the shortest TTL on that chain allows
(plus a few seconds of grace: a device connects right after the answer, and a TTL of 0 is
common on CDNs). Only answers are used: reverse lookups and guessed names never name a peer.
"""

from __future__ import annotations

import socket
from collections.abc import Iterable
from dataclasses import dataclass

import dpkt

from profiles.mud.values import ValueProblem, canonical_host

GRACE_SECONDS = 10.0
# dnsmasq does not log TTLs: an answer read from its log is taken as valid this long.
LOG_ANSWER_SECONDS = 3600.0
_SWEEP_EVERY = 4096


@dataclass(frozen=True, slots=True)
class Answer:
    """`name` resolved to `address` at `time`, valid until `until`."""

    time: float
    name: str
    address: str
    until: float


def canonical_name(name: str) -> str | None:
    try:
        return canonical_host(name)
    except ValueProblem:
        return None


def answers_from_dns(time: float, message: dpkt.dns.DNS) -> list[Answer]:
    """The A/AAAA answers of one DNS response, each named by the question it answers."""
    if message.qr != dpkt.dns.DNS_R or message.rcode != dpkt.dns.DNS_RCODE_NOERR or not message.qd:
        return []
    question = canonical_name(message.qd[0].name)
    if question is None:
        return []
    # The shortest TTL on the way from the question to each name of the chain.
    reach: dict[str, float] = {question: float("inf")}
    found: list[Answer] = []
    for rr in message.an:
        owner = canonical_name(rr.name) if rr.name else None
        if owner is None or owner not in reach:
            continue  # not on this question's chain (additional data, a stray record)
        ttl = min(reach[owner], float(rr.ttl))
        if rr.type == dpkt.dns.DNS_CNAME:
            target = canonical_name(rr.cname)
            if target is not None:
                reach[target] = min(reach.get(target, float("inf")), ttl)
        elif rr.type == dpkt.dns.DNS_A and len(rr.rdata) == 4:
            found.append(Answer(time, question, socket.inet_ntop(socket.AF_INET, rr.rdata), time + ttl))
        elif rr.type == dpkt.dns.DNS_AAAA and len(rr.rdata) == 16:
            found.append(Answer(time, question, socket.inet_ntop(socket.AF_INET6, rr.rdata), time + ttl))
    return found


class NameTable:
    """address -> the names it was given, with their windows; old windows are swept away."""

    def __init__(self) -> None:
        self._by_address: dict[str, list[Answer]] = {}
        self._added = 0

    def add(self, answers: Iterable[Answer]) -> None:
        for answer in answers:
            entries = self._by_address.setdefault(answer.address, [])
            # The same name again replaces its older window: the list stays as short as the names.
            entries[:] = [e for e in entries if e.name != answer.name]
            entries.append(answer)
            self._added += 1
            if self._added % _SWEEP_EVERY == 0:
                self._sweep(answer.time)

    def name(self, address: str, time: float | None) -> str | None:
        """The name the device last received for `address` that is valid at `time`.

        With no time (a connection table dump without timestamps) the newest name seen at
        all is taken, since no window can be checked.
        """
        entries = self._by_address.get(address)
        if not entries:
            return None
        if time is None:
            return entries[-1].name
        for entry in reversed(entries):
            if entry.time <= time <= entry.until + GRACE_SECONDS:
                return entry.name
        return None

    def _sweep(self, now: float) -> None:
        horizon = now - GRACE_SECONDS
        for address, entries in self._by_address.items():
            # The newest name of an address is kept past its window: a connection table dump
            # without timestamps can only be named by it.
            kept = [e for e in entries[:-1] if e.until >= horizon]
            kept.append(entries[-1])
            if len(kept) != len(entries):
                self._by_address[address] = kept

    def __len__(self) -> int:
        return sum(len(v) for v in self._by_address.values())
