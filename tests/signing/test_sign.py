"""The aggregator's detached signatures pass the check MUD managers run (openssl cms), and
fail it after one changed byte."""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from profiles.signing.sign import (
    SigningKeyError,
    certificate_fingerprint,
    identity_create,
    identity_load,
    identity_to_pem,
    sign_detached,
)
from tests.support import require

BODY = b'{"ietf-mud:mud": {"mud-version": 1}}\n'


def openssl_verify(signature: Path, content: Path, ca: Path) -> subprocess.CompletedProcess[bytes]:
    """RFC 8520 section 13 as osMUD and MUD Maker run it."""
    require(shutil.which("openssl") is not None, "the openssl CLI is not installed")
    return subprocess.run(
        ["openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", str(signature), "-content", str(content),
         "-CAfile", str(ca), "-purpose", "any", "-out", "/dev/null"],
        capture_output=True,
        check=False,
        timeout=30,
    )  # fmt: skip


@pytest.fixture(scope="module")
def identity():
    return identity_create(common_name="mudhub test", now=datetime.now(UTC))


def test_openssl_accepts_the_signature_and_refuses_one_changed_byte(identity, tmp_path):
    ca, content, signature = tmp_path / "aggregator.pem", tmp_path / "x.json", tmp_path / "x.p7s"
    ca.write_bytes(identity.certificate_pem)
    content.write_bytes(BODY)
    signature.write_bytes(sign_detached(BODY, identity))
    assert openssl_verify(signature, content, ca).returncode == 0
    changed = bytearray(BODY)
    changed[10] ^= 0x01
    content.write_bytes(bytes(changed))
    result = openssl_verify(signature, content, ca)
    assert result.returncode != 0
    assert b"verification failure" in result.stderr.lower()


def test_openssl_refuses_a_signature_by_another_key(identity, tmp_path):
    other = identity_create(common_name="someone else", now=datetime.now(UTC))
    ca, content, signature = tmp_path / "aggregator.pem", tmp_path / "x.json", tmp_path / "x.p7s"
    ca.write_bytes(identity.certificate_pem)
    content.write_bytes(BODY)
    signature.write_bytes(sign_detached(BODY, other))
    assert openssl_verify(signature, content, ca).returncode != 0


def test_the_signature_is_detached_der():
    identity = identity_create(common_name="mudhub test", now=datetime.now(UTC))
    signature = sign_detached(BODY, identity)
    assert signature[0] == 0x30  # a DER SEQUENCE, not PEM text
    assert BODY not in signature  # the content is not embedded


def test_a_key_round_trips_through_pem_and_keeps_its_fingerprint(identity):
    key_pem, cert_pem = identity_to_pem(identity)
    loaded = identity_load(key_pem, cert_pem)
    assert loaded.fingerprint == identity.fingerprint == certificate_fingerprint(identity.certificate)
    assert len(identity.fingerprint) == 64


def test_it_refuses_a_certificate_of_another_key(identity):
    other = identity_create(common_name="other", now=datetime.now(UTC))
    key_pem, _ = identity_to_pem(identity)
    with pytest.raises(SigningKeyError, match="not the signing key"):
        identity_load(key_pem, other.certificate_pem)
    with pytest.raises(SigningKeyError, match="unreadable"):
        identity_load(b"not a key", b"not a cert")
