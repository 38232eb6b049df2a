"""The signed index of everything served, in the spirit of TUF's snapshot and timestamp roles.

It lists every served file's path, sha256 and version (regional variants included), the
countries of each UN M49 sub-region (`regions`: country code -> region slug, so a gateway
picks its region's variants without any other lookup), the feed sequence it is at least as
new as, an expiry, and the certificates gateways should trust (the signer's and, during a
key rotation, the next one: announced here, signed by the current key, before it signs).
A gateway can then take files from a mirror it does not trust: a file must match the index,
the index must verify against a pinned certificate, be unexpired and not older than the last
one seen.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.serialization import Encoding
from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from profiles.models import Change, ConsensusProfile, PublishedIndex
from profiles.regions import country_regions
from profiles.services.publish import WELL_KNOWN_CERT, publish_dir_write, published_path, signature_path
from profiles.services.signing_keys import next_certificate, signing_identity
from profiles.signing.sign import certificate_fingerprint, sign_detached

INDEX_PATH = "mud/index.json"
INDEX_SIGNATURE_PATH = "mud/index.p7s"
INDEX_FORMAT = 1
TIMESTAMP_PATH = "mud/timestamp.json"
TIMESTAMP_SIGNATURE_PATH = "mud/timestamp.p7s"
TIMESTAMP_FORMAT = 1


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def current_files() -> Iterator[dict[str, Any]]:
    """Every served file, by path, read in chunks (the export streams the same rows)."""
    rows = (
        ConsensusProfile.objects.filter(is_current=True)
        .order_by("device_model__manufacturer__slug", "device_model__slug", "scope")
        .values_list("device_model__manufacturer__slug", "device_model__slug", "scope", "version", "etag")
    )
    for mfg, model, scope, version, etag in rows.iterator(chunk_size=2000):
        path = published_path(manufacturer_slug=mfg, model_slug=model, scope=scope)
        yield {"path": path, "sha256": etag, "version": version, "signature": signature_path(path)}


def feed_seq_now() -> int:
    return Change.objects.aggregate(seq=Max("seq"))["seq"] or 0


def index_body(*, version: int, now: datetime, feed_seq: int, files: list[dict[str, Any]]) -> bytes:
    identity = signing_identity()
    certificates = {identity.fingerprint: identity.certificate_pem.decode()}
    announced = next_certificate()
    if announced is not None:
        certificates[certificate_fingerprint(announced)] = announced.public_bytes(Encoding.PEM).decode()
    document = {
        "mudhub-index": INDEX_FORMAT,
        "version": version,
        "generated": _iso(now),
        "expires": _iso(now + timedelta(hours=settings.MUDHUB_INDEX_EXPIRY_HOURS)),
        "feed_seq": feed_seq,
        "signer": identity.fingerprint,
        "next_signer": certificate_fingerprint(announced) if announced is not None else None,
        "certificates": certificates,
        "files": files,
        "regions": country_regions(),
    }
    return (json.dumps(document, indent=1, sort_keys=True) + "\n").encode()


def timestamp_body(*, version: int, now: datetime, expires: datetime, index: bytes) -> bytes:
    """TUF's timestamp role, small: which index is current (its sha256, length and version),
    signed with the same expiry, and the next signer the index announces (a gateway that does
    not trust it yet reads the index for its certificate). A gateway fetches it first and the
    index only when it needs it."""
    announced = next_certificate()
    document = {
        "mudhub-timestamp": TIMESTAMP_FORMAT,
        "version": version,
        "generated": _iso(now),
        "expires": _iso(expires),
        "signer": signing_identity().fingerprint,
        "next_signer": certificate_fingerprint(announced) if announced is not None else None,
        "index": {
            "path": INDEX_PATH,
            "version": version,
            "sha256": hashlib.sha256(index).hexdigest(),
            "length": len(index),
        },
    }
    return (json.dumps(document, indent=1, sort_keys=True) + "\n").encode()


@transaction.atomic
def index_publish(*, now: datetime | None = None) -> PublishedIndex:
    """Build, sign and store a new index; write it (and the certificate) to MUDHUB_PUBLISH_DIR."""
    now = now or timezone.now()
    # The feed position first, then the files: the index is at least as new as feed_seq, so a
    # gateway that replays the feed from there misses nothing.
    feed_seq = feed_seq_now()
    files = list(current_files())
    index = PublishedIndex.objects.create(
        body=b"", signature=b"", signer="", feed_seq=feed_seq, expires_at=now + timedelta(hours=1)
    )
    identity = signing_identity()
    body = index_body(version=index.version, now=now, feed_seq=feed_seq, files=files)
    index.body = body
    index.signature = sign_detached(body, identity)
    index.signer = identity.fingerprint
    index.expires_at = now + timedelta(hours=settings.MUDHUB_INDEX_EXPIRY_HOURS)
    index.timestamp = timestamp_body(version=index.version, now=now, expires=index.expires_at, index=body)
    index.timestamp_signature = sign_detached(bytes(index.timestamp), identity)
    index.save(update_fields=["body", "signature", "signer", "expires_at", "timestamp", "timestamp_signature"])
    # Keep a few, for a look back; gateways only ever want the newest.
    stale = PublishedIndex.objects.filter(version__lt=index.version).order_by("-version").values_list("pk", flat=True)
    PublishedIndex.objects.filter(pk__in=list(stale[9:])).delete()
    signature, cert = bytes(index.signature), identity.certificate_pem
    stamp, stamp_signature = bytes(index.timestamp), bytes(index.timestamp_signature)

    def after_commit() -> None:
        # The timestamp last: a mirror reader that sees it finds the index it names in place.
        publish_dir_write(WELL_KNOWN_CERT, cert)
        publish_dir_write(INDEX_SIGNATURE_PATH, signature)
        publish_dir_write(INDEX_PATH, body)
        publish_dir_write(TIMESTAMP_SIGNATURE_PATH, stamp_signature)
        publish_dir_write(TIMESTAMP_PATH, stamp)

    transaction.on_commit(after_commit)
    return index


def index_current(*, with_body: bool = True) -> PublishedIndex | None:
    """The newest signed index; without its body (which grows with the catalogue) on request."""
    newest = PublishedIndex.objects.exclude(signer="").order_by("-version")
    return (newest if with_body else newest.defer("body")).first()


def index_refresh(*, now: datetime | None = None) -> PublishedIndex | None:
    """Publish a new index when the feed moved past the current one or a quarter of its
    lifetime is gone, so gateways never see it expire while mudhub runs. None if not needed."""
    now = now or timezone.now()
    current = index_current()
    announced = next_certificate()
    next_signer = certificate_fingerprint(announced) if announced is not None else None
    lifetime = timedelta(hours=settings.MUDHUB_INDEX_EXPIRY_HOURS)
    if (
        current is not None
        and current.feed_seq >= feed_seq_now()
        and current.created_at > now - lifetime / 4
        and current.signer == signing_identity().fingerprint
        and bytes(current.timestamp)  # an index from before timestamps existed gets one
        and json.loads(bytes(current.body)).get("next_signer") == next_signer
    ):
        return None
    return index_publish(now=now)


def index_etag(index: PublishedIndex) -> str:
    return hashlib.sha256(bytes(index.body)).hexdigest()
