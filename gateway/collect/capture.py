"""Captures: pcap and pcapng files read with dpkt, one frame at a time.

dpkt reads records as the file gives them and stops quietly at a short read; a capture cut
short (tcpdump killed, a full disk) or damaged would then pass for a complete one. The file
is read through a watcher that notices both: a record whose header or body ends early, and
a record length no capture could hold. Either is a CaptureError that says how many frames
were read before it, so the contributor can still look at what was read.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import BinaryIO

import dpkt

PCAP_MAGICS = (b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4", b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
PCAPNG_MAGIC = b"\x0a\x0d\x0d\x0a"
# The largest record a capture of Ethernet frames can hold: a jumbo frame's 9 KiB with room
# to spare for pcapng options; anything larger is a damaged length field.
MAX_RECORD = 256 * 1024


class CaptureError(Exception):
    def __init__(self, path: str, problem: str, frames: int, offset: int) -> None:
        super().__init__(f"{path}: {problem} (after {frames} complete frame(s), at byte {offset})")
        self.path, self.problem, self.frames, self.offset = path, problem, frames, offset


class _Cut(Exception):
    """A read ended early or asked for an impossible length."""


class _Watched:
    """A binary file that knows its position and refuses the reads a damaged capture makes."""

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self.position = 0
        self.record_start = 0
        self._short = False

    def read(self, size: int = -1) -> bytes:
        if size > MAX_RECORD or size < 0:
            raise _Cut(f"a record claims {size} bytes, which no frame has")
        data = self._raw.read(size)
        self.position += len(data)
        if size > 0 and len(data) < size:
            if self._short or data:
                raise _Cut("the last record is cut short")
            self._short = True  # one empty read is the end of the file; a second is a cut record
        return data

    def seek(self, offset: int, whence: int = 0) -> int:
        self.position = self._raw.seek(offset, whence)
        return self.position

    def tell(self) -> int:
        return self.position

    @property
    def name(self) -> str:
        return str(getattr(self._raw, "name", "<capture>"))


def is_capture(head: bytes) -> bool:
    return head[:4] in PCAP_MAGICS or head[:4] == PCAPNG_MAGIC


def read_frames(path: str, on_progress: Callable[[int], None] | None = None) -> Iterator[tuple[float, bytes]]:
    """(timestamp, Ethernet frame) for every record of a pcap or pcapng file, in file order."""
    with open(path, "rb") as raw:
        watched = _Watched(raw)
        head = raw.read(4)
        raw.seek(0)
        frames = 0
        try:
            if head == PCAPNG_MAGIC:
                reader: dpkt.pcap.Reader | dpkt.pcapng.Reader = dpkt.pcapng.Reader(watched)
            elif head in PCAP_MAGICS:
                reader = dpkt.pcap.Reader(watched)
            else:
                raise CaptureError(path, "not a pcap or pcapng capture (unknown magic number)", 0, 0)
        except (ValueError, dpkt.UnpackError, _Cut) as exc:
            raise CaptureError(path, f"the capture's header is damaged: {exc}", 0, watched.position) from None
        link = reader.datalink()
        if link != dpkt.pcap.DLT_EN10MB:
            raise CaptureError(
                path, f"link type {link} is not Ethernet: capture on an Ethernet or bridge interface", 0, 0
            )
        iterator = iter(reader)
        while True:
            start = watched.position
            try:
                ts, frame = next(iterator)
            except StopIteration:
                if on_progress is not None:
                    on_progress(watched.position)
                return
            except _Cut as exc:
                raise CaptureError(path, f"truncated capture: {exc}", frames, start) from None
            except (ValueError, dpkt.UnpackError, OverflowError) as exc:
                raise CaptureError(path, f"damaged record: {exc or type(exc).__name__}", frames, start) from None
            frames += 1
            if on_progress is not None and not frames & 0x3FFF:
                on_progress(watched.position)
            yield float(ts), frame


def file_size(path: str) -> int:
    return os.stat(path).st_size
