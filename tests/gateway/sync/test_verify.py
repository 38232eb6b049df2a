"""gateway.sync.verify: the index's signature, expiry and version; a file's signature, digest,
validity and binding to its URL. Pure: signed with profiles.signing.sign, no server."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta

import pytest

from gateway.sync.errors import EXIT_BAD_SIGNATURE, EXIT_EXPIRED, EXIT_ROLLBACK, EXIT_UNPINNED, SyncError
from gateway.sync.verify import TrustStore, fingerprint, verify_file, verify_index, verify_timestamp
from profiles import mud
from profiles.signing.sign import identity_create, sign_detached

NOW = datetime.now(UTC)
AGGREGATOR = identity_create(common_name="aggregator", now=datetime.now(UTC) - timedelta(days=1))
NEXT = identity_create(common_name="aggregator next", now=datetime.now(UTC) - timedelta(days=1))
STRANGER = identity_create(common_name="stranger", now=datetime.now(UTC) - timedelta(days=1))
URL = "https://mudhub.example/mud/acme/cam-1.json"


def index(version: int = 3, *, expires: datetime | None = None, announce=None) -> bytes:
    certificates = {AGGREGATOR.fingerprint: AGGREGATOR.certificate_pem.decode()}
    if announce is not None:
        certificates[announce.fingerprint] = announce.certificate_pem.decode()
    document = {
        "mudhub-index": 1,
        "version": version,
        "generated": NOW.isoformat(),
        "expires": (expires or NOW + timedelta(hours=48)).isoformat(),
        "feed_seq": 7,
        "signer": AGGREGATOR.fingerprint,
        "next_signer": announce.fingerprint if announce is not None else None,
        "certificates": certificates,
        "files": [
            {"path": "mud/acme/cam-1.json", "sha256": "ab" * 32, "version": 2, "signature": "mud/acme/cam-1.p7s"}
        ],
    }
    return json.dumps(document).encode()


def trust() -> TrustStore:
    return TrustStore(pinned=[AGGREGATOR.certificate])


def mud_file(url: str = URL) -> bytes:
    meta = mud.MudMeta(mud_url=url, last_update=datetime(2026, 11, 1, tzinfo=UTC), mfg_name="Acme", model_name="Cam 1")
    flow = mud.Flow(direction="from-device", family="ipv4", peer_kind="dnsname", peer="api.acme.example", protocol=17)
    return mud.emit(meta, [flow])


def refused(status: int, call) -> SyncError:
    with pytest.raises(SyncError) as caught:
        call()
    assert caught.value.status == status, caught.value
    return caught.value


def test_a_signed_fresh_index_is_read():
    body = index()
    read = verify_index(
        body=body, signature=sign_detached(body, AGGREGATOR), trust=trust(), now=datetime.now(UTC), newest_seen=3
    )
    assert (read.version, read.feed_seq, read.files[0].path) == (3, 7, "mud/acme/cam-1.json")
    assert read.next_certificate is None


def test_a_tampered_index_is_refused():
    body = index()
    signature = sign_detached(body, AGGREGATOR)
    tampered = body.replace(b'"feed_seq": 7', b'"feed_seq": 8')
    error = refused(
        EXIT_BAD_SIGNATURE,
        lambda: verify_index(body=tampered, signature=signature, trust=trust(), now=datetime.now(UTC), newest_seen=0),
    )
    assert error.code == "bad_signature"


def test_an_expired_index_is_refused_even_when_well_signed():
    body = index(expires=NOW - timedelta(seconds=1))
    signature = sign_detached(body, AGGREGATOR)
    error = refused(
        EXIT_EXPIRED,
        lambda: verify_index(body=body, signature=signature, trust=trust(), now=datetime.now(UTC), newest_seen=0),
    )
    assert error.code == "expired"


def test_an_older_index_than_one_seen_is_refused():
    body = index(version=2)
    signature = sign_detached(body, AGGREGATOR)
    refused(
        EXIT_ROLLBACK,
        lambda: verify_index(body=body, signature=signature, trust=trust(), now=datetime.now(UTC), newest_seen=3),
    )


def test_an_index_by_an_unpinned_key_is_refused():
    body = index()
    signature = sign_detached(body, STRANGER)
    error = refused(
        EXIT_UNPINNED,
        lambda: verify_index(body=body, signature=signature, trust=trust(), now=datetime.now(UTC), newest_seen=0),
    )
    assert error.code == "unpinned"


def test_an_announced_certificate_is_trusted_once_a_pinned_index_announced_it():
    store = trust()
    body = index(announce=NEXT)
    read = verify_index(
        body=body, signature=sign_detached(body, AGGREGATOR), trust=store, now=datetime.now(UTC), newest_seen=0
    )
    assert read.next_certificate is not None and fingerprint(read.next_certificate) == NEXT.fingerprint
    content = mud_file()
    by_next = sign_detached(content, NEXT)
    refused(
        EXIT_UNPINNED,
        lambda: verify_file(
            path="mud/acme/cam-1.json", body=content, signature=by_next, trust=store, now=datetime.now(UTC)
        ),
    )
    assert store.announce(read.next_certificate) is True
    verify_file(path="mud/acme/cam-1.json", body=content, signature=by_next, trust=store, now=datetime.now(UTC))


def test_a_file_must_match_its_digest_its_signature_and_its_url():
    content = mud_file()
    signature = sign_detached(content, AGGREGATOR)
    verify_file(path="mud/acme/cam-1.json", body=content, signature=signature, trust=trust(), now=datetime.now(UTC),
                sha256=hashlib.sha256(content).hexdigest())  # fmt: skip
    changed = content.replace(b"api.acme.example", b"api.acme.exampla")
    assert refused(EXIT_BAD_SIGNATURE, lambda: verify_file(
        path="mud/acme/cam-1.json", body=changed, signature=signature, trust=trust(), now=datetime.now(UTC)
    )).code == "bad_signature"  # fmt: skip
    assert refused(EXIT_BAD_SIGNATURE, lambda: verify_file(
        path="mud/acme/cam-1.json", body=content, signature=signature, trust=trust(), now=datetime.now(UTC),
        sha256="00" * 32,
    )).code == "digest_mismatch"  # fmt: skip
    # A genuine signed file of one model served as another's.
    assert refused(EXIT_BAD_SIGNATURE, lambda: verify_file(
        path="mud/acme/cam-2.json", body=content, signature=signature, trust=trust(), now=datetime.now(UTC)
    )).code == "wrong_file"  # fmt: skip


def timestamp(version: int = 3, *, expires: datetime | None = None, body: bytes | None = None) -> bytes:
    named = body if body is not None else index(version)
    document = {
        "mudhub-timestamp": 1,
        "version": version,
        "generated": NOW.isoformat(),
        "expires": (expires or NOW + timedelta(hours=48)).isoformat(),
        "signer": AGGREGATOR.fingerprint,
        "index": {"path": "mud/index.json", "version": version, "sha256": hashlib.sha256(named).hexdigest(),
                  "length": len(named)},
    }  # fmt: skip
    return json.dumps(document).encode()


def test_a_signed_fresh_timestamp_names_its_index():
    body = timestamp(5)
    stamp = verify_timestamp(body=body, signature=sign_detached(body, AGGREGATOR), trust=trust(),
                             now=datetime.now(UTC), newest_seen=5)  # fmt: skip
    assert (stamp.version, stamp.index_version) == (5, 5)
    assert stamp.index_sha256 == hashlib.sha256(index(5)).hexdigest() and stamp.index_length == len(index(5))


def test_a_timestamp_is_refused_tampered_expired_replayed_or_unpinned():
    body = timestamp(5)
    signature = sign_detached(body, AGGREGATOR)

    def check(content: bytes, sig: bytes = signature, seen: int = 0, now: datetime | None = None):
        at = now or datetime.now(UTC)  # after the signing (NOW is when the module was imported)
        return lambda: verify_timestamp(body=content, signature=sig, trust=trust(), now=at, newest_seen=seen)

    assert refused(EXIT_BAD_SIGNATURE, check(body.replace(b'"version": 5', b'"version": 9'))).code == "bad_signature"
    expired = timestamp(6, expires=NOW - timedelta(seconds=1))
    assert refused(EXIT_EXPIRED, check(expired, sign_detached(expired, AGGREGATOR))).code == "expired"
    assert refused(EXIT_EXPIRED, check(body, now=datetime.now(UTC) + timedelta(hours=49))).code == "expired"
    assert refused(EXIT_ROLLBACK, check(body, seen=6)).code == "rollback"
    assert refused(EXIT_UNPINNED, check(body, sign_detached(body, STRANGER))).code == "unpinned"
    malformed = json.dumps({"mudhub-timestamp": 1, "version": 5}).encode()
    assert refused(EXIT_BAD_SIGNATURE, check(malformed, sign_detached(malformed, AGGREGATOR))).code == "bad_timestamp"
