"""Signed manufacturer profiles: upload (or mirror) a MUD file with its detached CMS signature.

A profile is stored only once everything checks: the signature over the exact bytes by a
certificate equal to or issued by one the manufacturer pinned (profiles.signing.verify), the
MUD file strictly valid (RFC 8520), the model the manufacturer's. A newer profile for the
same firmware set supersedes the older one; a withdrawn profile hands its firmware back to
the crowd. Both bytes are kept exactly as received.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from profiles import mud
from profiles.errors import DomainError, problem, problems_from
from profiles.models import (
    LATEST,
    UNKNOWN_FIRMWARE,
    Contributor,
    DeviceModel,
    Manufacturer,
    ManufacturerDecision,
    SignedProfile,
)
from profiles.services.catalog import firmware_resolve
from profiles.services.certificates import as_x509, certificates_in_force, vouching_certificate
from profiles.services.flows import flows_ensure
from profiles.services.manufacturers import decision_note, member_required
from profiles.services.recompute import device_model_mark_dirty
from profiles.signing.verify import SignatureError, verify_detached

MAX_FIRMWARE_VERSIONS = 100


@dataclass(frozen=True)
class VerifiedProfile:
    """What `signed_profile_check` found: the parsed file, and the pinned certificate that vouched."""

    document: mud.MudDocument
    certificate_id: int
    signer_subject: str


def _invalid(problems: list[dict[str, str]], message: str = "The signed profile is not valid.") -> DomainError:
    return DomainError("invalid_input", message, problems=problems)


def firmware_normalize(versions: list[str], path: str = "/firmware") -> list[str]:
    problems = []
    out = set()
    for index, version in enumerate(versions):
        value = version.strip() if isinstance(version, str) else ""
        if not value or len(value) > 100 or value in (UNKNOWN_FIRMWARE, LATEST):
            problems.append(problem("invalid_firmware", f"{path}/{index}", f"{version!r} is not a firmware version"))
        out.add(value)
    if len(out) > MAX_FIRMWARE_VERSIONS:
        problems.append(problem("too_many", path, f"at most {MAX_FIRMWARE_VERSIONS} firmware versions"))
    if problems:
        raise _invalid(problems)
    return sorted(out)


def signed_profile_check(*, manufacturer: Manufacturer, content: bytes, signature: bytes) -> VerifiedProfile:
    """Verify the signature against the certificates in force, then parse the file strictly."""
    pinned = list(certificates_in_force(manufacturer=manufacturer))
    try:
        signer = verify_detached(content=content, signature=signature, trusted=[as_x509(c) for c in pinned])
    except SignatureError as error:
        raise DomainError(
            "invalid_signature",
            f"The signature was refused: {error.message}",
            problems=[problem(error.code, "/signature", error.message)],
        ) from None
    try:
        document = mud.parse(content, mode="strict")
    except mud.MudValidationError as error:
        raise _invalid(problems_from(error.problems, "/mud")) from None
    return VerifiedProfile(
        document=document,
        certificate_id=vouching_certificate(signer, pinned).pk,
        signer_subject=signer.subject.rfc4514_string()[:500],
    )


def signed_profile_upload(
    *,
    actor: Contributor | None,
    manufacturer: Manufacturer,
    device_model: DeviceModel,
    content: bytes,
    signature: bytes,
    firmware: list[str],
) -> tuple[SignedProfile, bool]:
    """A member's upload: store the verified profile and put it into the consensus; (profile, created)."""
    member_required(actor=actor, manufacturer=manufacturer)
    return profile_store(
        actor=actor,
        manufacturer=manufacturer,
        device_model=device_model,
        content=content,
        signature=signature,
        firmware=firmware,
    )


@transaction.atomic
def profile_store(
    *,
    actor: Contributor | None,
    manufacturer: Manufacturer,
    device_model: DeviceModel,
    content: bytes,
    signature: bytes,
    firmware: list[str],
    mud_url: str = "",
    signature_url: str = "",
) -> tuple[SignedProfile, bool]:
    """Verify and store a profile (the caller checked who may: a member, or the mirroring task)."""
    if device_model.manufacturer_id != manufacturer.pk:
        raise _invalid([problem("not_this_manufacturer", "/device_model", "the model belongs to another manufacturer")])
    versions = firmware_normalize(firmware)
    verified = signed_profile_check(manufacturer=manufacturer, content=content, signature=signature)
    digest = hashlib.sha256(content).hexdigest()
    live = SignedProfile.objects.filter(
        device_model=device_model, withdrawn_at__isnull=True, superseded_by__isnull=True
    ).select_for_update()
    for existing in live:
        if existing.sha256 == digest and existing.firmware == versions and bytes(existing.signature) == signature:
            return existing, False
    for version in versions:
        firmware_resolve(device_model=device_model, version=version)
    flow_ids = sorted(flows_ensure(verified.document.flows).values())
    profile = SignedProfile.objects.create(
        manufacturer=manufacturer,
        device_model=device_model,
        firmware=versions,
        mud=content,
        signature=signature,
        sha256=digest,
        flow_ids=flow_ids,
        certificate_id=verified.certificate_id,
        signer_subject=verified.signer_subject,
        uploaded_by=actor,
        mud_url=mud_url,
        signature_url=signature_url,
        cache_validity_hours=verified.document.meta.cache_validity or 48,
        fetched_at=timezone.now() if mud_url else None,
    )
    SignedProfile.objects.filter(pk__in=[p.pk for p in live if p.firmware == versions]).update(superseded_by=profile)
    scope = ", ".join(versions) or "all firmware"
    decision_note(
        manufacturer=manufacturer,
        kind=ManufacturerDecision.Kind.PROFILE_PUBLISH,
        actor=actor,
        subject=f"profile {profile.pk} for {device_model.name} ({scope})",
    )
    device_model_mark_dirty(device_model_id=device_model.pk)
    return profile, True


@transaction.atomic
def signed_profile_withdraw(*, actor: Contributor | None, profile: SignedProfile) -> SignedProfile:
    member_required(actor=actor, manufacturer=profile.manufacturer)
    if profile.withdrawn_at is None:
        profile.withdrawn_at = timezone.now()
        profile.save(update_fields=["withdrawn_at"])
        decision_note(
            manufacturer=profile.manufacturer,
            kind=ManufacturerDecision.Kind.PROFILE_WITHDRAW,
            actor=actor,
            subject=f"profile {profile.pk}",
        )
        device_model_mark_dirty(device_model_id=profile.device_model_id)
    return profile
