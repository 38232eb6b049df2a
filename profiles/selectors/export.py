"""The bulk export: every current profile with its signature, streamed in constant memory.

Two forms of the same rows. NDJSON: a header line (format, the feed sequence, the signer's
certificate), one line per file with its exact text and base64 signature, and an end line
with the count, so a truncated download is detectable. Tar: a gzip tar of the publish
layout (each .json and .p7s, the certificate, the newest signed index), what a mirror or
nginx serves. Both read the feed sequence first and the files after, in one statement, so
the files are at least as new as `feed_seq` and replaying the feed from there (published
entries carry versions) brings a gateway exactly up to date.
"""

from __future__ import annotations

import base64
import io
import json
import tarfile
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass

from django.db import models
from django.db.models.functions import Length, Substr
from django.utils import timezone

from profiles.models import ConsensusProfile, PublishedIndex
from profiles.services.index import (
    INDEX_PATH,
    INDEX_SIGNATURE_PATH,
    TIMESTAMP_PATH,
    TIMESTAMP_SIGNATURE_PATH,
    index_current,
)
from profiles.services.publish import WELL_KNOWN_CERT, published_path, signature_path
from profiles.services.signing_keys import signing_identity

EXPORT_FORMAT = 1
_CHUNK = 200
_SPOOL_BYTES = 512 * 1024
_PIECE_BYTES = 64 * 1024
_COLUMNS = (
    "device_model__manufacturer__slug",
    "device_model__slug",
    "scope",
    "version",
    "etag",
    "mud_bytes",
    "signature",
)


@dataclass(frozen=True)
class ExportRow:
    path: str
    manufacturer: str
    model: str
    scope: str
    version: int
    sha256: str
    body: bytes
    signature: bytes


def export_count() -> int:
    return ConsensusProfile.objects.filter(is_current=True).count()


def export_rows() -> Iterator[ExportRow]:
    rows = (
        ConsensusProfile.objects.filter(is_current=True)
        .order_by("device_model__manufacturer__slug", "device_model__slug", "scope")
        .values_list(*_COLUMNS)
    )
    for mfg, model, scope, version, etag, body, signature in rows.iterator(chunk_size=_CHUNK):
        yield ExportRow(
            path=published_path(manufacturer_slug=mfg, model_slug=model, scope=scope),
            manufacturer=mfg,
            model=model,
            scope=scope,
            version=version,
            sha256=etag,
            body=bytes(body),
            signature=bytes(signature),
        )


def _line(item: dict[str, object]) -> bytes:
    return json.dumps(item, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"


def ndjson_stream(*, feed_seq: int, rows: Iterator[ExportRow]) -> Iterator[bytes]:
    identity = signing_identity()
    yield _line(
        {
            "mudhub-export": EXPORT_FORMAT,
            "feed_seq": feed_seq,
            "generated": timezone.now().isoformat(),
            "signer": identity.fingerprint,
            "certificate": identity.certificate_pem.decode(),
        }
    )
    count = 0
    for row in rows:
        count += 1
        yield _line(
            {
                "path": row.path,
                "signature_path": signature_path(row.path),
                "manufacturer": row.manufacturer,
                "model": row.model,
                "scope": row.scope,
                "version": row.version,
                "sha256": row.sha256,
                "mud": row.body.decode("utf-8"),
                "signature": base64.b64encode(row.signature).decode(),
            }
        )
    yield _line({"end": True, "count": count, "feed_seq": feed_seq})


class _Drain(io.RawIOBase):
    """A write-only file the gzip tar goes to, spooled to a temporary file past a few hundred
    kilobytes and taken out after each member: however large one member (the index) is, the
    stream never holds more than the spool's memory."""

    def __init__(self) -> None:
        self.spool = tempfile.SpooledTemporaryFile(max_size=_SPOOL_BYTES)  # noqa: SIM115 (closed by take's caller)

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        return self.spool.write(data)

    def take(self) -> Iterator[bytes]:
        """What was written since the last take, in pieces; then empty again."""
        if not self.spool.tell():
            return
        self.spool.seek(0)
        while piece := self.spool.read(_PIECE_BYTES):
            yield piece
        self.spool.seek(0)
        self.spool.truncate()

    def close(self) -> None:
        self.spool.close()
        super().close()


class _StoredBytes(io.RawIOBase):
    """A readable file over one binary column of one row, fetched a slice at a time: the
    signed index (about 150 bytes a model) enters the tar without ever being held whole."""

    def __init__(self, model: type[models.Model], pk: int, column: str) -> None:
        self.rows = model.objects.filter(pk=pk)
        self.column = column
        self.size: int = self.rows.annotate(n=Length(column)).values_list("n", flat=True).get() or 0
        self.position = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        left = self.size - self.position
        size = left if size < 0 else min(size, left, _PIECE_BYTES)
        if size <= 0:
            return b""
        part = Substr(self.column, self.position + 1, size, output_field=models.BinaryField())
        data = bytes(self.rows.annotate(part=part).values_list("part", flat=True).get())
        self.position += len(data)
        return data


def _member(tar: tarfile.TarFile, path: str, data: bytes | _StoredBytes, mtime: float) -> None:
    info = tarfile.TarInfo(path)
    info.size = len(data) if isinstance(data, bytes) else data.size
    info.mtime = int(mtime)
    info.mode = 0o644
    tar.addfile(info, io.BytesIO(data) if isinstance(data, bytes) else data)
    # A streamed tar needs no list of what it wrote; without this it would grow with every file.
    tar.members.clear()


def tar_stream(*, feed_seq: int, rows: Iterator[ExportRow]) -> Iterator[bytes]:
    """The gzip tar of the publish layout; the newest signed index and timestamp as published
    (a GET signs nothing: before the first index there is none in the tar)."""
    identity = signing_identity()
    index = index_current(with_body=False)
    drain = _Drain()
    now = time.time()
    try:
        with tarfile.open(fileobj=drain, mode="w|gz", format=tarfile.PAX_FORMAT) as tar:
            tar.pax_headers = {"mudhub.feed_seq": str(feed_seq)}
            _member(tar, WELL_KNOWN_CERT, identity.certificate_pem, now)
            if index is not None:
                _member(tar, INDEX_PATH, _StoredBytes(PublishedIndex, index.pk, "body"), now)
                yield from drain.take()
                _member(tar, INDEX_SIGNATURE_PATH, bytes(index.signature), now)
                if bytes(index.timestamp):
                    _member(tar, TIMESTAMP_PATH, bytes(index.timestamp), now)
                    _member(tar, TIMESTAMP_SIGNATURE_PATH, bytes(index.timestamp_signature), now)
            yield from drain.take()
            for row in rows:
                _member(tar, signature_path(row.path), row.signature, now)
                _member(tar, row.path, row.body, now)
                yield from drain.take()
        yield from drain.take()
    finally:
        drain.close()
