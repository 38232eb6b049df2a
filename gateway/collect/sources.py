"""The inputs of one run, told apart by their content and read together in time order."""

from __future__ import annotations

import heapq
import math
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, nullcontext
from datetime import UTC, tzinfo
from typing import Any

from .capture import CaptureError, is_capture, read_frames
from .collection import Collection, collection_from
from .conntrack import ConntrackFormatError, read_conversations
from .dnsmasq import LogFormatError, read_answers
from .observe import Observer

CAPTURE, DNSMASQ, CONNTRACK = "capture", "dnsmasq", "conntrack"
_FRAME, _ANSWERS, _CONNECTION = 0, 1, 2


class InputError(Exception):
    """An input that cannot be read; `partial` is what the inputs gave up to that point."""

    def __init__(self, message: str, partial: Collection | None = None) -> None:
        super().__init__(message)
        self.partial = partial


def input_kind(path: str) -> str:
    try:
        with open(path, "rb") as handle:
            head = handle.read(8192)
    except OSError as exc:
        raise InputError(f"{path}: {exc.strerror or exc}") from None
    if is_capture(head):
        return CAPTURE
    if head[:2] == b"\x1f\x8b":
        raise InputError(f"{path}: compressed: decompress it first (gunzip)")
    text = head.decode("utf-8", errors="replace")
    if "dnsmasq[" in text or "dnsmasq-dhcp[" in text:
        return DNSMASQ
    if "src=" in text and "dst=" in text:
        return CONNTRACK
    raise InputError(f"{path}: neither a pcap/pcapng capture, a dnsmasq log nor a conntrack dump")


def _progress_bar(total: int, enabled: bool | None) -> AbstractContextManager[Any]:
    if enabled is False:
        return nullcontext(None)
    from tqdm import tqdm

    bar: AbstractContextManager[Any]
    # By default a bar only on a terminal (`disable=None`) and for inputs that take a while
    # (`delay`); asked for, always.
    bar = tqdm(
        total=total, unit="B", unit_scale=True, file=sys.stderr, leave=enabled is True,
        delay=0.0 if enabled else 1.0, disable=None if enabled is None else False, desc="reading",
    )  # fmt: skip
    return bar


def _advance(bar: Any) -> tuple[Callable[[int], None] | None, Callable[[int], None] | None]:
    """Progress callbacks: one for absolute file positions (captures), one for byte counts (logs)."""
    if bar is None:
        return None, None
    last = [0]

    def position(at: int) -> None:
        bar.update(max(0, at - last[0]))
        last[0] = at

    def count(size: int) -> None:
        bar.update(size)

    return position, count


def _events(
    path: str, kind: str, observer: Observer, bar: Any, zone: tzinfo
) -> Iterator[tuple[float | None, int, Any]]:
    position, count = _advance(bar)
    if kind == CAPTURE:
        for ts, frame in read_frames(path, position):
            yield ts, _FRAME, frame
    elif kind == DNSMASQ:

        def mac() -> str | None:
            return observer.device_mac.hex(":") if observer.device_mac else None

        for ts, answers in read_answers(path, observer.device_ips, mac, count, zone):
            yield ts, _ANSWERS, answers
    else:
        for conversation in read_conversations(path, observer.device_ips, count):
            yield conversation.ts, _CONNECTION, conversation


def _in_time_order(event: tuple[float | None, int, Any]) -> float:
    # Entries without a time (a plain conntrack dump) come after everything that has one,
    # so that every DNS answer is known when they are named.
    return math.inf if event[0] is None else event[0]


def collect(
    paths: Iterable[str],
    *,
    device_mac: str | None = None,
    device_ips: tuple[str, ...] = (),
    gateway_ips: tuple[str, ...] = (),
    gateway_mac: str | None = None,
    progress: bool | None = False,
    log_zone: tzinfo = UTC,
) -> Collection:
    """Read every input and return the device's flows; InputError (with what was read) on a bad input."""
    paths = list(paths)
    kinds = [input_kind(path) for path in paths]
    if CONNTRACK in kinds and not device_ips and DNSMASQ not in kinds:
        raise InputError("a conntrack dump names no MAC addresses: give --device-ip (or a dnsmasq log with DHCP)")
    observer = Observer(device_mac=device_mac, device_ips=device_ips, gateway_ips=gateway_ips, gateway_mac=gateway_mac)
    total = sum(os.stat(path).st_size for path in paths)
    with _progress_bar(total, progress) as bar:
        try:
            if len(paths) == 1 and kinds[0] == CAPTURE:
                frame = observer.frame
                position, _ = _advance(bar)
                for ts, buf in read_frames(paths[0], position):
                    frame(ts, buf)
            else:
                # Logs first: merging reads one entry of every input ahead, and a log's DHCP lines
                # may be what tells which connection table entries are the device's.
                inputs = sorted(zip(paths, kinds, strict=True), key=lambda item: item[1] != DNSMASQ)
                streams = [_events(path, kind, observer, bar, log_zone) for path, kind in inputs]
                for when, what, payload in heapq.merge(*streams, key=_in_time_order):
                    if what == _FRAME and when is not None:
                        observer.frame(when, payload)
                    elif what == _ANSWERS:
                        observer.answers(payload)
                    else:
                        observer.conversation(
                            ts=payload.ts, family=payload.family, protocol=payload.protocol,
                            device_ip=payload.device_ip, device_port=payload.device_port, peer_ip=payload.peer_ip,
                            peer_port=payload.peer_port, device_initiated=payload.device_initiated,
                            answered=payload.answered, sent=payload.sent, received=payload.received,
                            icmp_types=payload.icmp_types,
                        )  # fmt: skip
        except (CaptureError, LogFormatError, ConntrackFormatError) as exc:
            raise InputError(str(exc), collection_from(observer, paths)) from None
    return collection_from(observer, paths)
