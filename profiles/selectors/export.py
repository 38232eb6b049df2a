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
import time
from collections.abc import Iterator
from dataclasses import dataclass

from django.utils import timezone

from profiles.models import ConsensusProfile
from profiles.services.index import INDEX_PATH, INDEX_SIGNATURE_PATH, index_current, index_refresh
from profiles.services.publish import WELL_KNOWN_CERT, published_path, signature_path
from profiles.services.signing_keys import signing_identity

EXPORT_FORMAT = 1
_CHUNK = 200
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
    """A write-only file whose bytes are taken out after each tar member: the stream never
    holds more than one member's compressed bytes."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        self.parts.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        out = b"".join(self.parts)
        self.parts.clear()
        return out


def _member(tar: tarfile.TarFile, path: str, data: bytes, mtime: float) -> None:
    info = tarfile.TarInfo(path)
    info.size = len(data)
    info.mtime = int(mtime)
    info.mode = 0o644
    tar.addfile(info, io.BytesIO(data))


def tar_stream(*, feed_seq: int, rows: Iterator[ExportRow]) -> Iterator[bytes]:
    identity = signing_identity()
    index_refresh()
    index = index_current()
    drain = _Drain()
    now = time.time()
    with tarfile.open(fileobj=drain, mode="w|gz", format=tarfile.PAX_FORMAT) as tar:
        tar.pax_headers = {"mudhub.feed_seq": str(feed_seq)}
        _member(tar, WELL_KNOWN_CERT, identity.certificate_pem, now)
        if index is not None:
            _member(tar, INDEX_PATH, bytes(index.body), now)
            _member(tar, INDEX_SIGNATURE_PATH, bytes(index.signature), now)
        yield drain.take()
        for row in rows:
            _member(tar, signature_path(row.path), row.signature, now)
            _member(tar, row.path, row.body, now)
            chunk = drain.take()
            if chunk:
                yield chunk
    yield drain.take()
