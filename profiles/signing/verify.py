"""Verify a detached CMS signature (RFC 5652 SignedData, DER) over exact bytes, without Django.

RFC 8520 section 13 signs a MUD file with a detached CMS signature, the file `openssl cms -sign
-binary -outform DER` makes. mudhub checks manufacturers' uploads with it, and the gateway sync
client checks the aggregator's own signatures with it. Nothing here shells out or touches a
database: bytes and certificates in, the signer certificate or one error out.

Interface:

    from profiles.signing.verify import SignatureError, load_certificate, verify_detached

    pinned = [load_certificate(pem_or_der_bytes)]
    try:
        signer = verify_detached(content=mud_bytes, signature=p7s_bytes, trusted=pinned)
    except SignatureError as error:
        error.code     # stable, one of CODES, e.g. "digest_mismatch"
        error.message  # a sentence for a person

`verify_detached()` accepts the signature when all of these hold, and raises `SignatureError`
at the first that does not:

- the signature is DER (not PEM, not BER, nothing after it) of a ContentInfo holding a
  SignedData whose encapsulated content is absent (detached) and of type id-data;
- it has exactly one SignerInfo, and its signer certificate is found among the certificates
  the SignedData carries or among `trusted`;
- with signed attributes, their message-digest equals the digest of `content` and their
  content-type is id-data; without them, the signature is over `content` itself;
- the signature verifies with the signer's public key: RSA PKCS#1 v1.5, RSA-PSS or ECDSA,
  with SHA-256, SHA-384 or SHA-512 (SHA-1 and MD5 are refused; so is Ed25519, which
  OpenSSL 3.0's CMS cannot make to test against);
- the signer certificate is one of `trusted` (same DER bytes) or directly issued by one of
  them (issuer name and signature checked; the issuer must be a CA if it says what it is);
  a chain longer than that is not followed, on purpose: what a manufacturer pins is what it
  signs with or what issues its signing certificates;
- the signer certificate allows digitalSignature if it has a key usage extension (RFC 5280:
  no extension means no restriction);
- the signer certificate, and the trusted certificate that issued it, were valid at the
  signing time: the signingTime attribute when there is one (not more than `clock_skew`
  after `now`), else `now`.

`trusted` is what the caller already decided to trust now: pass only pinned certificates that
are neither revoked nor withdrawn. `now` defaults to the current UTC time.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence

from asn1crypto import cms as asn1_cms
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

CODES = {
    "not_der": "the signature is not DER (PEM, base64 or BER)",
    "malformed": "the signature is not a CMS structure (truncated, garbage or trailing bytes)",
    "not_signed_data": "the CMS structure is not SignedData",
    "not_detached": "the signature carries content; a detached signature over the file is needed",
    "signer_count": "the signature does not have exactly one signer",
    "signer_unknown": "the signer's certificate is neither in the signature nor trusted",
    "unsupported_algorithm": "the digest or signature algorithm is not accepted",
    "digest_mismatch": "the signed message digest is not the digest of these bytes",
    "bad_signature": "the signature does not verify with the signer's key",
    "unpinned": "the signer certificate is not, and is not issued by, a trusted certificate",
    "key_usage": "the signer certificate does not allow digitalSignature",
    "expired": "a certificate was not valid at the signing time",
    "signing_time_in_future": "the signingTime attribute is later than now",
}

_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}

_DEFAULT_CLOCK_SKEW = dt.timedelta(minutes=5)


class SignatureError(Exception):
    """Why a signature was refused: `code` is stable (a key of CODES), `message` is for people."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(code, message)
        self.code = code
        self.message = message

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"

    def __repr__(self) -> str:
        return f"SignatureError({self.code!r}, {self.message!r})"


def _fail(code: str, detail: str = "") -> SignatureError:
    return SignatureError(code, detail or CODES[code])


def load_certificate(data: bytes) -> x509.Certificate:
    """One X.509 certificate from PEM or DER bytes; ValueError when it is neither."""
    if data.lstrip().startswith(b"-----BEGIN"):
        return x509.load_pem_x509_certificate(data)
    return x509.load_der_x509_certificate(data)


def verify_detached(
    *,
    content: bytes,
    signature: bytes,
    trusted: Sequence[x509.Certificate],
    now: dt.datetime | None = None,
    clock_skew: dt.timedelta = _DEFAULT_CLOCK_SKEW,
) -> x509.Certificate:
    """The signer certificate of `signature` over `content`, or SignatureError (see the module doc)."""
    now = now or dt.datetime.now(dt.UTC)
    signer_info, carried = _parse(signature)
    try:
        return _verify(content, signer_info, carried, trusted, now, clock_skew)
    except (ValueError, TypeError, KeyError, UnsupportedAlgorithm) as error:
        # cryptography and asn1crypto read certificates lazily: a garbled key or extension in a
        # carried certificate surfaces only when a check touches it.
        raise _fail("malformed", f"a certificate or field in the signature is malformed: {error}") from None


def _verify(
    content: bytes,
    signer_info: asn1_cms.SignerInfo,
    carried: Sequence[x509.Certificate],
    trusted: Sequence[x509.Certificate],
    now: dt.datetime,
    clock_skew: dt.timedelta,
) -> x509.Certificate:
    digest_name = _digest_name(signer_info)
    signed_attrs = signer_info["signed_attrs"]
    if signed_attrs.native is not None and len(signed_attrs):
        attrs = _attributes(signed_attrs)
        _check_digest(content, digest_name, attrs)
        # The signature covers the DER of the attributes as a SET OF (tag 0x31), not as the
        # [0] IMPLICIT field they are stored in (RFC 5652 section 5.4). The original bytes are
        # kept, never re-encoded, so a signer's encoding choices cannot break the check.
        signed_bytes = b"\x31" + signed_attrs.dump()[1:]
        signing_time = attrs.get("signing_time")
    else:
        signed_bytes = content
        signing_time = None
    signer = _find_signer(signer_info["sid"], carried, trusted)
    _check_signature(signer, signer_info, digest_name, signed_bytes)
    issuer = _pinned_issuer(signer, trusted)
    _check_key_usage(signer)
    when = _signing_time(signing_time, now, clock_skew)
    for certificate in (signer, issuer):
        if not certificate.not_valid_before_utc <= when <= certificate.not_valid_after_utc:
            raise _fail(
                "expired",
                f"certificate {certificate.subject.rfc4514_string()} was not valid at {when.isoformat()} (valid "
                f"{certificate.not_valid_before_utc.isoformat()} to {certificate.not_valid_after_utc.isoformat()})",
            )
    return signer


def _parse(signature: bytes) -> tuple[asn1_cms.SignerInfo, list[x509.Certificate]]:
    if signature.lstrip().startswith(b"-----BEGIN") or signature.lstrip().startswith(b"MI"):
        raise _fail("not_der", "the signature is PEM or base64; send the DER bytes (openssl cms -outform DER)")
    if not signature.startswith(b"\x30"):
        raise _fail("malformed")
    try:
        info = asn1_cms.ContentInfo.load(signature, strict=True)
        if info["content_type"].native != "signed_data":
            raise _fail("not_signed_data")
        signed_data = info["content"]
        encapsulated = signed_data["encap_content_info"]
        if encapsulated["content_type"].native != "data":
            raise _fail("not_signed_data", "the signed content type is not id-data")
        if encapsulated["content"].native is not None:
            raise _fail("not_detached")
        signer_infos = list(signed_data["signer_infos"])
        if len(signer_infos) != 1:
            raise _fail("signer_count", f"the signature has {len(signer_infos)} signers; exactly one is accepted")
        carried = [
            x509.load_der_x509_certificate(choice.chosen.dump())
            for choice in (signed_data["certificates"] or [])
            if choice.name == "certificate"
        ]
        # Touch every field the checks read, so a truncated or garbled structure fails here
        # as "malformed" rather than later as something that sounds like a verdict.
        signer_info = signer_infos[0]
        signer_info.native  # noqa: B018
        if not _is_der(signature):
            raise _fail("not_der", "the signature is BER, not DER")
    except SignatureError:
        raise
    except (ValueError, TypeError, KeyError, IndexError, OverflowError, AttributeError, x509.InvalidVersion) as error:
        # AttributeError: asn1crypto reading a garbled value as a type it has no `native` for.
        raise _fail("malformed", f"the signature is not a CMS structure: {error}") from None
    return signer_info, carried


def _reencoded(info: asn1_cms.ContentInfo) -> bytes:
    # DER is the one canonical encoding: a copy re-encoded from scratch must be identical.
    # Indefinite lengths (what `openssl cms -stream` writes) and other BER freedoms fail this.
    return bytes(asn1_cms.ContentInfo.load(info.dump()).dump(force=True))


class _NotDer(Exception):
    pass


def _tlv(data: bytes, position: int) -> tuple[int, int, int]:
    """(tag, start of the contents, end) of the element at `position`, its header held to DER:
    a one-byte tag, a definite length in the fewest bytes."""
    if position + 2 > len(data):
        raise _NotDer
    tag, first = data[position], data[position + 1]
    if tag & 0x1F == 0x1F:
        raise _NotDer  # a multi-byte tag: no field of a CMS SignedData's outer layers has one
    if first < 0x80:
        start, length = position + 2, first
    else:
        count = first & 0x7F
        digits = data[position + 2 : position + 2 + count]
        # 0x80 is BER's indefinite length; a leading zero byte or a long form for < 128 is not DER.
        if count == 0 or count > 4 or len(digits) != count or digits[0] == 0:
            raise _NotDer
        start, length = position + 2 + count, int.from_bytes(digits, "big")
        if length < 0x80:
            raise _NotDer
    if start + length > len(data):
        raise _NotDer
    return tag, start, start + length


def _children(data: bytes, start: int, end: int) -> list[tuple[int, int, int]]:
    """The (tag, element start, element end) of each element within [start, end)."""
    out, position = [], start
    while position < end:
        tag, _, element_end = _tlv(data, position)
        out.append((tag, position, element_end))
        position = element_end
    if position != end:
        raise _NotDer
    return out


# The DER verdicts on carried certificate sets, by their bytes: every file the aggregator signs
# carries the same certificate, and re-encoding it is most of the cost of the check.
_CERTIFICATES_DER: set[bytes] = set()
_CERTIFICATES_DER_MAX = 64

_SIGNED_DATA_FIELDS: dict[int, type[asn1_cms.Asn1Value]] = {
    0x02: asn1_cms.CMSVersion,
    0x31: asn1_cms.SignerInfos,  # the SET OF signer infos; the other SET is told apart by position
    0x30: asn1_cms.EncapsulatedContentInfo,
}


def _same_when_reencoded(kind: type[asn1_cms.Asn1Value], raw: bytes) -> bool:
    return bytes(kind.load(raw).dump(force=True)) == raw


def _is_der(signature: bytes) -> bool:
    """Whether `signature` is the DER encoding of the ContentInfo asn1crypto read from it: the
    same verdict as re-encoding the whole (`_reencoded(info) == signature`), reached part by
    part. DER composes: a SEQUENCE is DER when its header is and each field is. So the headers
    of ContentInfo, [0] EXPLICIT and SignedData are held to DER here, each field of SignedData
    is re-encoded on its own, and the carried certificates' verdict is remembered by their
    bytes."""
    try:
        tag, start, end = _tlv(signature, 0)
        if tag != 0x30 or end != len(signature):
            return False
        outer = _children(signature, start, end)
        if [t for t, _, _ in outer] != [0x06, 0xA0]:
            return False
        oid_start, oid_end = outer[0][1], outer[0][2]
        if not _same_when_reencoded(asn1_cms.ContentType, signature[oid_start:oid_end]):
            return False
        _, start, end = _tlv(signature, outer[1][1])
        (tag, sd_start, _), *rest = _children(signature, start, end)
        if tag != 0x30 or rest:
            return False
        _, start, end = _tlv(signature, sd_start)
        fields = _children(signature, start, end)
        tags = [t for t, _, _ in fields]
        if tags[:3] != [0x02, 0x31, 0x30] or tags[-1] != 0x31 or tags[3:-1] not in ([], [0xA0], [0xA1], [0xA0, 0xA1]):
            return False
        for index, (tag, begin, finish) in enumerate(fields):
            raw = signature[begin:finish]
            if index == 1:
                ok = _same_when_reencoded(asn1_cms.DigestAlgorithms, raw)
            elif tag == 0xA0:  # [0] IMPLICIT CertificateSet: its contents as a plain SET OF
                untagged = b"\x31" + raw[1:]
                ok = untagged in _CERTIFICATES_DER or _same_when_reencoded(asn1_cms.CertificateSet, untagged)
                if ok and untagged not in _CERTIFICATES_DER:
                    if len(_CERTIFICATES_DER) >= _CERTIFICATES_DER_MAX:
                        _CERTIFICATES_DER.clear()
                    _CERTIFICATES_DER.add(untagged)
            elif tag == 0xA1:  # [1] IMPLICIT RevocationInfoChoices
                ok = _same_when_reencoded(asn1_cms.RevocationInfoChoices, b"\x31" + raw[1:])
            else:
                ok = _same_when_reencoded(_SIGNED_DATA_FIELDS[tag], raw)
            if not ok:
                return False
        return True
    except _NotDer:
        return False


def _digest_name(signer_info: asn1_cms.SignerInfo) -> str:
    name = signer_info["digest_algorithm"]["algorithm"].native
    if name not in _HASHES:
        raise _fail("unsupported_algorithm", f"digest algorithm {name} is not accepted (sha256, sha384, sha512)")
    return str(name)


def _attributes(signed_attrs: asn1_cms.CMSAttributes) -> dict[str, object]:
    found: dict[str, object] = {}
    for attribute in signed_attrs:
        kind = attribute["type"].native
        values = attribute["values"]
        if kind in found or len(values) != 1:
            raise _fail("malformed", f"the signed attribute {kind} must appear once with one value")
        found[kind] = values[0].native
    return found


def _check_digest(content: bytes, digest_name: str, attrs: dict[str, object]) -> None:
    if attrs.get("content_type") != "data":
        raise _fail("malformed", "the signed content-type attribute is missing or not id-data")
    expected = attrs.get("message_digest")
    if not isinstance(expected, bytes):
        raise _fail("malformed", "the signed message-digest attribute is missing")
    if hashlib.new(digest_name, content).digest() != expected:
        raise _fail("digest_mismatch")


def _find_signer(
    sid: asn1_cms.SignerIdentifier, carried: Sequence[x509.Certificate], trusted: Sequence[x509.Certificate]
) -> x509.Certificate:
    for certificate in [*carried, *trusted]:
        parsed = asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER))
        if sid.name == "issuer_and_serial_number":
            wanted = sid.chosen
            if parsed.serial_number == wanted["serial_number"].native and parsed.issuer == wanted["issuer"]:
                return certificate
        elif parsed.key_identifier is not None and parsed.key_identifier == sid.chosen.native:
            return certificate
    raise _fail("signer_unknown")


def _check_signature(
    signer: x509.Certificate, signer_info: asn1_cms.SignerInfo, digest_name: str, signed_bytes: bytes
) -> None:
    algorithm = signer_info["signature_algorithm"]
    kind = algorithm.signature_algo
    # An OID that names its hash too (sha256_rsa, sha384_ecdsa) must name the signer's digest.
    if algorithm["algorithm"].native not in {"rsassa_pkcs1v15", "rsassa_pss", "ecdsa"} and (
        _named_hash(algorithm) != digest_name
    ):
        raise _fail("unsupported_algorithm", f"{algorithm['algorithm'].native} does not match digest {digest_name}")
    value = signer_info["signature"].native
    key = signer.public_key()
    chosen_hash = _HASHES[digest_name]()
    try:
        if kind == "rsassa_pkcs1v15" and isinstance(key, rsa.RSAPublicKey):
            key.verify(value, signed_bytes, padding.PKCS1v15(), chosen_hash)
        elif kind == "rsassa_pss" and isinstance(key, rsa.RSAPublicKey):
            key.verify(value, signed_bytes, _pss(algorithm["parameters"], digest_name), chosen_hash)
        elif kind == "ecdsa" and isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(value, signed_bytes, ec.ECDSA(chosen_hash))
        else:
            raise _fail(
                "unsupported_algorithm",
                f"signature algorithm {kind} with a {type(key).__name__.removeprefix('_')} key is not accepted",
            )
    except InvalidSignature:
        raise _fail("bad_signature") from None
    except UnsupportedAlgorithm as error:
        raise _fail("unsupported_algorithm", str(error)) from None


def _named_hash(algorithm: asn1_cms.SignedDigestAlgorithm) -> str | None:
    try:
        return str(algorithm.hash_algo)
    except ValueError:  # an algorithm asn1crypto does not know the hash of
        return None


def _pss(params: asn1_cms.RSASSAPSSParams, digest_name: str) -> padding.PSS:
    hash_name = params["hash_algorithm"]["algorithm"].native
    mgf = params["mask_gen_algorithm"]
    mgf_hash = mgf["parameters"]["algorithm"].native
    if mgf["algorithm"].native != "mgf1" or hash_name != digest_name or mgf_hash not in _HASHES:
        raise _fail("unsupported_algorithm", "RSA-PSS parameters must use MGF1 and the signer's digest algorithm")
    return padding.PSS(mgf=padding.MGF1(_HASHES[mgf_hash]()), salt_length=int(params["salt_length"].native))


def _pinned_issuer(signer: x509.Certificate, trusted: Sequence[x509.Certificate]) -> x509.Certificate:
    """The trusted certificate that vouches for `signer`: itself when pinned, else its direct issuer."""
    for candidate in trusted:
        if candidate == signer:
            return candidate
    for candidate in trusted:
        if not _may_issue(candidate):
            continue
        try:
            signer.verify_directly_issued_by(candidate)
        except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
            continue
        return candidate
    raise _fail("unpinned", f"certificate {signer.subject.rfc4514_string()} is not pinned nor issued by a pinned one")


def _may_issue(certificate: x509.Certificate) -> bool:
    try:
        constraints = certificate.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        return True
    return constraints.ca


def _check_key_usage(signer: x509.Certificate) -> None:
    try:
        usage = signer.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return
    if not usage.digital_signature:
        raise _fail("key_usage")


def _signing_time(claimed: object, now: dt.datetime, clock_skew: dt.timedelta) -> dt.datetime:
    if claimed is None:
        return now
    if not isinstance(claimed, dt.datetime):
        raise _fail("malformed", "the signingTime attribute is not a time")
    when = claimed if claimed.tzinfo else claimed.replace(tzinfo=dt.UTC)
    if when > now + clock_skew:
        raise _fail("signing_time_in_future", f"signingTime {when.isoformat()} is after {now.isoformat()}")
    return when
