"""Pinned signing certificates: what a manufacturer's signatures must chain to.

The first certificate a manufacturer pins needs only a member. Every later one is a rotation:
it needs a detached CMS signature over the new certificate's DER bytes by a key pinned now
(`openssl cms -sign -binary -outform DER -in new.der -signer current.pem -inkey current.key`),
or a moderator. A rotation retires the certificates pinned before: they verify no new upload
but keep counting for the profiles they verified. A revoked certificate counts for nothing:
its profiles leave the consensus. An expired one verifies no new upload.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from profiles.errors import DomainError, problem
from profiles.models import Contributor, Manufacturer, ManufacturerDecision, SignedProfile, SigningCertificate
from profiles.services.manufacturers import decision_note, member_or_moderator_required
from profiles.services.recompute import device_model_mark_dirty
from profiles.signing.verify import SignatureError, load_certificate, verify_detached


def certificates_in_force(*, manufacturer: Manufacturer) -> QuerySet[SigningCertificate]:
    """The certificates new signatures may chain to: pinned, not rotated out, revoked or expired."""
    return SigningCertificate.objects.filter(
        manufacturer=manufacturer, retired_at__isnull=True, revoked_at__isnull=True, not_after__gt=timezone.now()
    )


def as_x509(certificate: SigningCertificate) -> x509.Certificate:
    return x509.load_der_x509_certificate(bytes(certificate.der))


def vouching_certificate(signer: x509.Certificate, pinned: Sequence[SigningCertificate]) -> SigningCertificate:
    """Which pinned certificate `verify_detached` accepted `signer` through: itself, or its issuer."""
    for row in pinned:
        if as_x509(row) == signer:
            return row
    for row in pinned:
        try:
            signer.verify_directly_issued_by(as_x509(row))
        except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
            continue
        return row
    raise RuntimeError("verify_detached accepted a signer no pinned certificate vouches for")


def _bad(code: str, path: str, message: str, status: int = 400) -> DomainError:
    return DomainError(code, message, status=status, problems=[problem(code, path, message)])


def _read(pem: str) -> x509.Certificate:
    try:
        return load_certificate(pem.encode("utf-8"))
    except (ValueError, UnicodeError):
        raise _bad("invalid_certificate", "/pem", "not an X.509 certificate in PEM") from None


@transaction.atomic
def certificate_pin(
    *, actor: Contributor | None, manufacturer: Manufacturer, pem: str, rotation_signature: bytes | None = None
) -> tuple[SigningCertificate, bool]:
    """Pin a certificate (see the module docstring for who may); (certificate, created)."""
    as_moderator = member_or_moderator_required(actor=actor, manufacturer=manufacturer)
    certificate = _read(pem)
    now = timezone.now()
    if certificate.not_valid_after_utc <= now:
        raise _bad("certificate_expired", "/pem", f"the certificate expired on {certificate.not_valid_after_utc}")
    der = certificate.public_bytes(serialization.Encoding.DER)
    fingerprint = hashlib.sha256(der).hexdigest()
    # Lock the manufacturer: two rotations at once must not both pass against the same key.
    Manufacturer.objects.select_for_update().filter(pk=manufacturer.pk).first()
    existing = SigningCertificate.objects.filter(manufacturer=manufacturer, fingerprint=fingerprint).first()
    if existing is not None and existing.revoked_at is None and existing.retired_at is None:
        return existing, False
    if existing is not None:
        raise _bad("certificate_withdrawn", "/pem", "this certificate was rotated out or revoked; pin a new one", 409)
    current = list(certificates_in_force(manufacturer=manufacturer))
    if current and not as_moderator:
        if not rotation_signature:
            raise _bad(
                "rotation_signature_required",
                "/rotation_signature",
                "a certificate is pinned already: sign the new one's DER bytes with the pinned key, or ask a moderator",
                403,
            )
        try:
            verify_detached(content=der, signature=rotation_signature, trusted=[as_x509(c) for c in current])
        except SignatureError as error:
            raise DomainError(
                "invalid_rotation_signature",
                "The rotation signature does not verify against a pinned certificate.",
                status=403,
                problems=[problem(error.code, "/rotation_signature", error.message)],
            ) from None
    SigningCertificate.objects.filter(pk__in=[c.pk for c in current]).update(retired_at=now)
    pinned = SigningCertificate.objects.create(
        manufacturer=manufacturer,
        der=der,
        fingerprint=fingerprint,
        subject=certificate.subject.rfc4514_string()[:500],
        not_before=certificate.not_valid_before_utc,
        not_after=certificate.not_valid_after_utc,
        pinned_by=actor,
        rotation_signature=rotation_signature or b"",
    )
    decision_note(
        manufacturer=manufacturer,
        kind=ManufacturerDecision.Kind.CERTIFICATE_PIN,
        actor=actor,
        subject=f"certificate {pinned.subject} sha256:{fingerprint}" + (" (rotation)" if current else ""),
        as_moderator=as_moderator,
    )
    return pinned, True


@transaction.atomic
def certificate_revoke(*, actor: Contributor | None, certificate: SigningCertificate) -> SigningCertificate:
    """Revoke: the certificate verifies nothing more, and the profiles it verified stop counting."""
    manufacturer = certificate.manufacturer
    as_moderator = member_or_moderator_required(actor=actor, manufacturer=manufacturer)
    if certificate.revoked_at is None:
        certificate.revoked_at = timezone.now()
        certificate.save(update_fields=["revoked_at"])
        decision_note(
            manufacturer=manufacturer,
            kind=ManufacturerDecision.Kind.CERTIFICATE_REVOKE,
            actor=actor,
            subject=f"certificate {certificate.subject} sha256:{certificate.fingerprint}",
            as_moderator=as_moderator,
        )
        models = SignedProfile.objects.filter(certificate=certificate).values_list("device_model_id", flat=True)
        for model_id in sorted(set(models)):
            device_model_mark_dirty(device_model_id=model_id)
    return certificate
