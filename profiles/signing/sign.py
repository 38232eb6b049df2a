"""The aggregator's signatures on what it publishes: detached CMS SignedData in DER (RFC 8520 section 13).

Pure Python (cryptography only): the Django side decides where the key lives; this module makes
keys and certificates and signs bytes. A MUD manager checks a file the way OpenSSL does,
`openssl cms -verify -binary -inform DER -in X.p7s -content X.json -CAfile aggregator.pem`, so
the signature covers the exact bytes (binary mode, no MIME canonicalisation) and carries the
signer's certificate.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

# The key type every MUD manager built on OpenSSL can check, and fast enough to sign
# 10,000 files in seconds.
_CURVE = ec.SECP256R1()


@dataclass(frozen=True)
class SigningIdentity:
    """A private key and the certificate gateways pin for it."""

    key: ec.EllipticCurvePrivateKey
    certificate: x509.Certificate

    @property
    def fingerprint(self) -> str:
        return certificate_fingerprint(self.certificate)

    @property
    def certificate_pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)


class SigningKeyError(ValueError):
    """The key or certificate files are unreadable, or do not belong together."""


def certificate_fingerprint(certificate: x509.Certificate) -> str:
    """The sha256 of the certificate's DER, in hex: how indexes and gateways name a certificate."""
    return hashlib.sha256(certificate.public_bytes(serialization.Encoding.DER)).hexdigest()


def identity_create(*, common_name: str, now: datetime, valid_days: int = 825) -> SigningIdentity:
    """A new key and a self-signed certificate for it.

    Self-signed because gateways pin this exact certificate (trust on first use, as RFC 8520
    managers do with MUD signers); it is both the trust anchor given to `-CAfile` and the
    signer, so it may sign only (digitalSignature) and is marked as a CA only so that
    OpenSSL accepts it as its own anchor.
    """
    key = ec.generate_private_key(_CURVE)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name[:64])])
    public = key.public_key()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=valid_days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )
    return SigningIdentity(key=key, certificate=certificate)


def identity_to_pem(identity: SigningIdentity) -> tuple[bytes, bytes]:
    """(private key PEM, certificate PEM). The key is unencrypted: protect it with file modes."""
    key = identity.key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return key, identity.certificate_pem


def identity_load(key_pem: bytes, certificate_pem: bytes) -> SigningIdentity:
    try:
        key = serialization.load_pem_private_key(key_pem, password=None)
        certificate = x509.load_pem_x509_certificate(certificate_pem)
    except ValueError as exc:
        raise SigningKeyError(f"unreadable signing key or certificate: {exc}") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise SigningKeyError("the signing key must be an elliptic-curve key")
    public = certificate.public_key()
    if (
        not isinstance(public, ec.EllipticCurvePublicKey)
        or key.public_key().public_numbers() != public.public_numbers()
    ):
        raise SigningKeyError("the certificate is not the signing key's")
    return SigningIdentity(key=key, certificate=certificate)


def certificate_load(certificate_pem: bytes) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(certificate_pem)
    except ValueError as exc:
        raise SigningKeyError(f"unreadable certificate: {exc}") from None


def sign_detached(data: bytes, identity: SigningIdentity) -> bytes:
    """A detached CMS SignedData over exactly `data`, DER-encoded, with the signer's certificate."""
    return (
        pkcs7.PKCS7SignatureBuilder()
        .set_data(data)
        .add_signer(identity.certificate, identity.key, hashes.SHA256())
        .sign(serialization.Encoding.DER, [pkcs7.PKCS7Options.DetachedSignature, pkcs7.PKCS7Options.Binary])
    )
