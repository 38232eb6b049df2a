"""profiles/signing/verify.py against signatures the real `openssl cms -sign` makes."""

from __future__ import annotations

import base64
import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography import x509
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from profiles.signing.verify import CODES, SignatureError, load_certificate, verify_detached
from tests.pki import Identity, Pki, openssl, require_openssl
from tests.support import ROOT

MUD = b'{"ietf-mud:mud": {"mud-version": 1, "systeminfo": "a thermostat"}}\n'


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    require_openssl()
    return Pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def ca(pki: Pki) -> Identity:
    return pki.ca()


@pytest.fixture(scope="module")
def signer(pki: Pki, ca: Identity) -> Identity:
    return pki.issue(ca, "Thermostat Signing")


@pytest.fixture(scope="module")
def signature(pki: Pki, signer: Identity) -> bytes:
    return pki.sign(MUD, signer)


def refusal(content: bytes, signature: bytes, *trusted: Identity, now: dt.datetime | None = None) -> str:
    with pytest.raises(SignatureError) as caught:
        verify_detached(
            content=content, signature=signature, trusted=[load_certificate(t.pem) for t in trusted], now=now
        )
    assert caught.value.code in CODES
    assert caught.value.message
    return caught.value.code


def accepted(content: bytes, signature: bytes, *trusted: Identity, now: dt.datetime | None = None) -> x509.Certificate:
    return verify_detached(
        content=content, signature=signature, trusted=[load_certificate(t.pem) for t in trusted], now=now
    )


def common_name(certificate: x509.Certificate) -> str:
    return str(certificate.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value)


def test_it_accepts_a_signer_issued_by_a_pinned_ca_and_returns_the_signer(
    signature: bytes, ca: Identity, signer: Identity
) -> None:
    certificate = accepted(MUD, signature, ca)
    assert certificate == load_certificate(signer.pem)
    assert common_name(certificate) == "Thermostat Signing"


def test_it_accepts_a_pinned_signer_certificate_even_when_the_signature_carries_none(pki: Pki) -> None:
    pinned = pki.self_signed("Pinned Signer")
    certificate = accepted(MUD, pki.sign(MUD, pinned, "-nocerts"), pinned)
    assert common_name(certificate) == "Pinned Signer"


@pytest.mark.parametrize(
    ("kind", "options"),
    [
        ("rsa", ()),
        ("rsa", ("-keyopt", "rsa_padding_mode:pss")),
        ("rsa", ("-keyopt", "rsa_padding_mode:pss", "-keyopt", "rsa_pss_saltlen:32", "-md", "sha512")),
        ("ec", ("-md", "sha384")),
        ("ec", ("-md", "sha512")),
        ("ec", ("-noattr",)),
        ("ec", ("-nosmimecap",)),
        ("ec", ("-keyid",)),
    ],
)
def test_it_accepts_the_algorithms_openssl_signs_with(
    pki: Pki, ca: Identity, kind: str, options: tuple[str, ...]
) -> None:
    signer = pki.issue(ca, f"Signer {kind}", kind=kind)
    assert accepted(MUD, pki.sign(MUD, signer, *options), ca) == load_certificate(signer.pem)


def test_it_refuses_a_changed_byte_as_a_digest_mismatch(signature: bytes, ca: Identity) -> None:
    changed = MUD.replace(b"thermostat", b"thermostaT")
    assert refusal(changed, signature, ca) == "digest_mismatch"


def test_without_signed_attributes_a_changed_byte_breaks_the_signature(
    pki: Pki, ca: Identity, signer: Identity
) -> None:
    signature = pki.sign(MUD, signer, "-noattr")
    assert refusal(MUD + b" ", signature, ca) == "bad_signature"


def test_it_refuses_a_tampered_signature_value(signature: bytes, ca: Identity) -> None:
    # openssl writes the SignerInfo last and its signature value last within it.
    tampered = signature[:-3] + bytes([signature[-3] ^ 0x01]) + signature[-2:]
    assert refusal(MUD, tampered, ca) == "bad_signature"


def test_it_refuses_a_signer_from_another_ca(pki: Pki, ca: Identity) -> None:
    other = pki.issue(pki.ca("Someone Else CA"), "Thermostat Signing")
    assert refusal(MUD, pki.sign(MUD, other), ca) == "unpinned"


def test_it_refuses_a_ca_that_only_copies_the_pinned_ca_name(pki: Pki, ca: Identity) -> None:
    impostor = pki.issue(pki.ca("Test Manufacturer CA"), "Thermostat Signing")
    assert refusal(MUD, pki.sign(MUD, impostor), ca) == "unpinned"


def test_it_refuses_a_certificate_issued_by_a_pinned_certificate_that_is_not_a_ca(pki: Pki) -> None:
    leaf = pki.self_signed("Not A CA", key_usage="digitalSignature,keyCertSign")
    issued = pki.issue(leaf, "Issued By A Leaf")
    assert refusal(MUD, pki.sign(MUD, issued), leaf) == "unpinned"


def test_it_refuses_when_nothing_is_trusted(signature: bytes) -> None:
    assert refusal(MUD, signature) == "unpinned"


def test_it_refuses_a_signer_whose_certificate_is_neither_carried_nor_trusted(
    pki: Pki, ca: Identity, signer: Identity
) -> None:
    assert refusal(MUD, pki.sign(MUD, signer, "-nocerts"), ca) == "signer_unknown"


def test_it_refuses_a_certificate_expired_at_signing_time(pki: Pki, ca: Identity) -> None:
    expired = pki.issue(ca, "Old Signer", start="20200101000000Z", end="20210101000000Z")
    assert refusal(MUD, pki.sign(MUD, expired), ca) == "expired"


def test_it_refuses_a_certificate_not_yet_valid_at_signing_time(pki: Pki, ca: Identity) -> None:
    future = pki.issue(ca, "Future Signer", start="20400101000000Z", end="20410101000000Z")
    assert refusal(MUD, pki.sign(MUD, future), ca) == "expired"


def test_validity_is_judged_at_the_signing_time_not_now(signature: bytes, ca: Identity, signer: Identity) -> None:
    long_after = load_certificate(ca.pem).not_valid_after_utc + dt.timedelta(days=400)
    assert accepted(MUD, signature, ca, now=long_after) == load_certificate(signer.pem)


def test_without_a_signing_time_validity_is_judged_now(pki: Pki, ca: Identity, signer: Identity) -> None:
    signature = pki.sign(MUD, signer, "-noattr")
    long_after = load_certificate(signer.pem).not_valid_after_utc + dt.timedelta(days=1)
    assert refusal(MUD, signature, ca, now=long_after) == "expired"
    assert accepted(MUD, signature, ca) == load_certificate(signer.pem)


def test_it_refuses_a_signing_time_after_now(signature: bytes, ca: Identity) -> None:
    now = dt.datetime.now(dt.UTC)
    assert refusal(MUD, signature, ca, now=now - dt.timedelta(hours=1)) == "signing_time_in_future"


def test_it_refuses_a_signer_without_digital_signature_key_usage(pki: Pki, ca: Identity) -> None:
    signer = pki.issue(ca, "Encipherment Only", key_usage="keyEncipherment")
    assert refusal(MUD, pki.sign(MUD, signer), ca) == "key_usage"


def test_it_refuses_sha1(pki: Pki, ca: Identity, signer: Identity) -> None:
    assert refusal(MUD, pki.sign(MUD, signer, "-md", "sha1"), ca) == "unsupported_algorithm"


def test_it_refuses_more_than_one_signer(pki: Pki, ca: Identity, signer: Identity) -> None:
    second = pki.issue(ca, "Second Signer")
    signature = pki.sign(MUD, signer, "-signer", str(second.cert_path), "-inkey", str(second.key_path))
    assert refusal(MUD, signature, ca) == "signer_count"


def test_it_refuses_a_signature_that_carries_its_content(pki: Pki, ca: Identity, signer: Identity) -> None:
    assert refusal(MUD, pki.sign(MUD, signer, "-nodetach"), ca) == "not_detached"


def test_it_refuses_cms_that_is_not_signed_data(pki: Pki, ca: Identity) -> None:
    source = pki.directory / "data.json"
    source.write_bytes(MUD)
    data = openssl("cms", "-data_create", "-in", source, "-outform", "DER")
    assert refusal(MUD, data, ca) == "not_signed_data"


def test_it_refuses_pem_and_base64_instead_of_der(pki: Pki, ca: Identity, signer: Identity, signature: bytes) -> None:
    assert refusal(MUD, pki.sign(MUD, signer, "-outform", "PEM"), ca) == "not_der"
    assert refusal(MUD, base64.b64encode(signature), ca) == "not_der"


def test_it_refuses_ber_that_is_not_der(signature: bytes, ca: Identity) -> None:
    assert signature[:2] == b"\x30\x82"  # a two-byte length; BER may spell it with three
    assert refusal(MUD, b"\x30\x83\x00" + signature[2:], ca) == "not_der"


@pytest.mark.parametrize("cut", [1, 2, 10, 100, 400])
def test_it_refuses_a_truncated_signature(signature: bytes, ca: Identity, cut: int) -> None:
    assert refusal(MUD, signature[:-cut], ca) == "malformed"


@pytest.mark.parametrize("garbage", [b"", b"\x00", b"not a signature at all", b"\x30\x03\x02\x01\x01", b"\x30" * 64])
def test_it_refuses_garbage(ca: Identity, garbage: bytes) -> None:
    assert refusal(MUD, garbage, ca) == "malformed"


def test_it_refuses_trailing_bytes(signature: bytes, ca: Identity) -> None:
    assert refusal(MUD, signature + b"\x00", ca) == "malformed"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(position=st.integers(min_value=0), flip=st.integers(min_value=1, max_value=255))
def test_any_changed_content_byte_is_refused(signature: bytes, ca: Identity, position: int, flip: int) -> None:
    position %= len(MUD)
    changed = MUD[:position] + bytes([MUD[position] ^ flip]) + MUD[position + 1 :]
    assert refusal(changed, signature, ca) == "digest_mismatch"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(position=st.integers(min_value=0), flip=st.integers(min_value=1, max_value=255))
def test_a_changed_signature_byte_is_refused_or_changes_nothing_that_was_signed(
    signature: bytes, ca: Identity, signer: Identity, position: int, flip: int
) -> None:
    # Some bytes (the outer digestAlgorithms set, say) are not covered by the signature; a
    # change there may still verify, but only ever as the same signer over the same bytes.
    position %= len(signature)
    changed = signature[:position] + bytes([signature[position] ^ flip]) + signature[position + 1 :]
    try:
        certificate = accepted(MUD, changed, ca)
    except SignatureError as error:
        assert error.code in CODES
    else:
        assert certificate == load_certificate(signer.pem)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=600))
def test_arbitrary_bytes_are_refused_with_a_known_code(data: bytes) -> None:
    with pytest.raises(SignatureError) as caught:
        verify_detached(content=MUD, signature=data, trusted=[])
    assert caught.value.code in CODES


def test_load_certificate_reads_pem_and_der_alike(signer: Identity) -> None:
    assert load_certificate(signer.pem) == load_certificate(signer.der)
    with pytest.raises(ValueError):
        load_certificate(b"-----BEGIN CERTIFICATE-----\nnonsense\n-----END CERTIFICATE-----\n")


def test_verifying_loads_no_django(tmp_path: Path) -> None:
    program = (
        "import sys, profiles.signing.verify\n"
        "print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in {'django', 'rest_framework', 'celery'})))"
    )
    run = subprocess.run([sys.executable, "-c", program], cwd=ROOT, capture_output=True, text=True, check=True)
    assert run.stdout.strip() == ""


def _old_verdict(data: bytes) -> bool | None:
    """The DER check as it was (re-encode the whole, compare); None when asn1crypto cannot read it."""
    from asn1crypto import cms as asn1_cms

    from profiles.signing.verify import _reencoded

    try:
        info = asn1_cms.ContentInfo.load(data, strict=True)
        info.native  # noqa: B018 (parse everything, as verify_detached does)
        return _reencoded(info) == data
    except Exception:
        return None


def _header(tag: int, length: int, extra: int = 0) -> bytes:
    """A tag and length; `extra` > 0 spells the length with that many more bytes (BER, not DER)."""
    digits = length.to_bytes(max(1, (length.bit_length() + 7) // 8), "big") if length >= 0x80 or extra else b""
    digits = b"\x00" * extra + digits if extra else digits
    return bytes([tag, length]) if not digits else bytes([tag, 0x80 | len(digits)]) + digits


def _lengthen(data: bytes, at: int) -> bytes | None:
    """`data` (DER) with the header of the element starting at `at` spelled one byte longer (legal
    BER, not DER), every enclosing length adjusted; None when no element starts there."""

    def walk(start: int, end: int) -> tuple[bytes, bool]:
        out, hit, position = b"", False, start
        while position < end:
            tag, first = data[position], data[position + 1]
            count = 0 if first < 0x80 else first & 0x7F
            begin = position + 2 + count
            length = first if first < 0x80 else int.from_bytes(data[position + 2 : begin], "big")
            contents, inner_hit = data[begin : begin + length], False
            if tag & 0x20 and not hit and position < at < begin + length:
                contents, inner_hit = walk(begin, begin + length)
            extra = 1 if position == at else 0
            out += _header(tag, len(contents), extra) + contents
            hit = hit or inner_hit or position == at
            position = begin + length
        return out, hit

    rebuilt, hit = walk(0, len(data))
    return rebuilt if hit else None


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(position=st.integers(min_value=0), flip=st.integers(min_value=1, max_value=255), lengthen=st.booleans())
def test_the_part_by_part_der_check_agrees_with_re_encoding_the_whole(
    signature: bytes, position: int, flip: int, lengthen: bool
) -> None:
    from profiles.signing.verify import _is_der

    position %= len(signature)
    if lengthen:
        changed = _lengthen(signature, position)
        if changed is None:
            return
    else:
        changed = signature[:position] + bytes([signature[position] ^ flip]) + signature[position + 1 :]
    before = _old_verdict(changed)
    if before is not None:
        assert _is_der(changed) == before
    assert _is_der(signature) is True and _old_verdict(signature) is True


def test_ber_inside_the_carried_certificate_is_still_refused(signature: bytes, ca: Identity) -> None:
    from profiles.signing.verify import _is_der

    assert _is_der(signature)  # the certificate set is now remembered as DER
    # Inside the carried certificate (its TBSCertificate's header), one length spelled longer:
    # the certificate set's bytes differ, so the remembered verdict does not apply.
    from asn1crypto import cms as asn1_cms

    certificate = asn1_cms.ContentInfo.load(signature)["content"]["certificates"][0].chosen.dump()
    inner = signature.index(certificate) + 4  # past the certificate's own 4-byte header
    lengthened = _lengthen(signature, inner)
    assert lengthened is not None and _old_verdict(lengthened) is False
    assert not _is_der(lengthened)
    # cryptography refuses to read the BER certificate before the DER check is reached.
    assert refusal(MUD, lengthened, ca) in ("not_der", "malformed")
