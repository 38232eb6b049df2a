"""Verifying, and nothing else: whether fetched bytes are what the aggregator signed.

The trust anchors are the pinned certificate and any certificate an already-verified index
announced as the next signer (a key rotation). An index must verify against them, be
unexpired and not older than the newest one seen (TUF's timestamp and snapshot checks); a
file must verify against them, match the index's sha256 when there is one, be a valid RFC
8520 file, and name as its mud-url the path it was fetched for, so that a file signed for
one model cannot be served as another's.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from profiles import mud
from profiles.signing.verify import SignatureError, load_certificate, verify_detached

from .errors import EXIT_BAD_SIGNATURE, EXIT_EXPIRED, EXIT_ROLLBACK, EXIT_UNPINNED, SyncError

INDEX_FORMAT = 1
TIMESTAMP_FORMAT = 1


def fingerprint(certificate: x509.Certificate) -> str:
    return hashlib.sha256(certificate.public_bytes(Encoding.DER)).hexdigest()


@dataclass
class TrustStore:
    pinned: list[x509.Certificate]
    announced: list[x509.Certificate] = field(default_factory=list)

    def certificates(self) -> list[x509.Certificate]:
        return [*self.pinned, *self.announced]

    def fingerprints(self) -> set[str]:
        return {fingerprint(c) for c in self.certificates()}

    def announce(self, certificate: x509.Certificate) -> bool:
        """Trust the next signer an index verified by this store announced; True if new."""
        if fingerprint(certificate) in self.fingerprints():
            return False
        self.announced.append(certificate)
        return True


def verify_signed(*, content: bytes, signature: bytes, trust: TrustStore, what: str, now: datetime) -> None:
    try:
        verify_detached(content=content, signature=signature, trusted=trust.certificates(), now=now)
    except SignatureError as error:
        if error.code in ("unpinned", "signer_unknown"):
            raise SyncError(
                "unpinned", f"{what} is signed by a certificate that is not pinned", EXIT_UNPINNED
            ) from None
        raise SyncError("bad_signature", f"{what}: {error.message} ({error.code})", EXIT_BAD_SIGNATURE) from None


@dataclass(frozen=True)
class IndexEntry:
    path: str
    sha256: str
    version: int
    signature: str


@dataclass(frozen=True)
class Index:
    version: int
    expires: datetime
    feed_seq: int
    signer: str
    next_certificate: x509.Certificate | None
    files: tuple[IndexEntry, ...]
    # country code -> UN M49 sub-region slug (empty from a server without regional variants)
    regions: dict[str, str] = field(default_factory=dict)
    sha256: str = ""  # of the signed bytes: what a timestamp names


def _bad_index(reason: str) -> SyncError:
    return SyncError("bad_index", f"the index is malformed: {reason}", EXIT_BAD_SIGNATURE)


def verify_index(*, body: bytes, signature: bytes, trust: TrustStore, now: datetime, newest_seen: int) -> Index:
    """The index, once its signature, expiry and version are checked."""
    verify_signed(content=body, signature=signature, trust=trust, what="the index", now=now)
    try:
        document: dict[str, Any] = json.loads(body)
        if document.get("mudhub-index") != INDEX_FORMAT:
            raise _bad_index(f"format {document.get('mudhub-index')!r} is not {INDEX_FORMAT}")
        expires = datetime.fromisoformat(document["expires"])
        files = tuple(
            IndexEntry(path=f["path"], sha256=f["sha256"], version=int(f["version"]), signature=f["signature"])
            for f in document["files"]
        )
        version, feed_seq, signer = int(document["version"]), int(document["feed_seq"]), str(document["signer"])
        regions = {str(code): str(slug) for code, slug in dict(document.get("regions", {})).items()}
        announced = None
        if document.get("next_signer"):
            pem = document["certificates"][document["next_signer"]].encode()
            announced = load_certificate(pem)
            if fingerprint(announced) != document["next_signer"]:
                raise _bad_index("the announced certificate does not have the announced fingerprint")
    except SyncError:
        raise
    except (ValueError, KeyError, TypeError) as error:
        raise _bad_index(str(error)) from None
    if expires <= now:
        raise SyncError("expired", f"the index (version {version}) expired at {document['expires']}", EXIT_EXPIRED)
    if version < newest_seen:
        raise SyncError(
            "rollback", f"the index is version {version}, older than version {newest_seen} seen before", EXIT_ROLLBACK
        )
    return Index(
        version=version,
        expires=expires,
        feed_seq=feed_seq,
        signer=signer,
        next_certificate=announced,
        files=files,
        regions=regions,
        sha256=hashlib.sha256(body).hexdigest(),
    )


def verify_file(
    *, path: str, body: bytes, signature: bytes, trust: TrustStore, now: datetime, sha256: str | None = None
) -> None:
    """Raise SyncError unless `body` is the signed, valid MUD file for `path` (e.g. mud/acme/cam-1.json)."""
    if sha256 is not None and hashlib.sha256(body).hexdigest() != sha256:
        raise SyncError("digest_mismatch", f"{path} is not the file the index lists", EXIT_BAD_SIGNATURE)
    verify_signed(content=body, signature=signature, trust=trust, what=path, now=now)
    try:
        document = mud.parse(body, mode="strict")
    except mud.MudValidationError as error:
        raise SyncError("invalid_mud", f"{path} is not a valid MUD file: {error}", EXIT_BAD_SIGNATURE) from None
    named = urlsplit(document.meta.mud_url or "").path.lstrip("/")
    if named != path:
        raise SyncError("wrong_file", f"{path} holds the signed file of {named}", EXIT_BAD_SIGNATURE)


@dataclass(frozen=True)
class Timestamp:
    """TUF's timestamp role: which index is current, signed, with its own expiry."""

    version: int
    expires: datetime
    index_version: int
    index_sha256: str
    index_length: int
    next_signer: str | None = None  # the fingerprint the index announces as the next signer


def verify_timestamp(*, body: bytes, signature: bytes, trust: TrustStore, now: datetime, newest_seen: int) -> Timestamp:
    """The timestamp, once its signature, expiry and version are checked: an expired one, or
    an older one than seen before (a replay), is refused like an index."""
    verify_signed(content=body, signature=signature, trust=trust, what="the timestamp", now=now)
    try:
        document: dict[str, Any] = json.loads(body)
        if document.get("mudhub-timestamp") != TIMESTAMP_FORMAT:
            raise SyncError("bad_timestamp", f"the timestamp is not format {TIMESTAMP_FORMAT}", EXIT_BAD_SIGNATURE)
        index = document["index"]
        stamp = Timestamp(
            version=int(document["version"]),
            expires=datetime.fromisoformat(document["expires"]),
            index_version=int(index["version"]),
            index_sha256=str(index["sha256"]),
            index_length=int(index["length"]),
            next_signer=str(document["next_signer"]) if document.get("next_signer") else None,
        )
    except SyncError:
        raise
    except (ValueError, KeyError, TypeError) as error:
        raise SyncError("bad_timestamp", f"the timestamp is malformed: {error}", EXIT_BAD_SIGNATURE) from None
    if stamp.expires <= now:
        raise SyncError(
            "expired", f"the timestamp (version {stamp.version}) expired at {document['expires']}", EXIT_EXPIRED
        )
    if stamp.version < newest_seen:
        raise SyncError(
            "rollback",
            f"the timestamp is version {stamp.version}, older than version {newest_seen} seen before",
            EXIT_ROLLBACK,
        )
    return stamp
