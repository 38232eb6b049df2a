"""Mirroring what a manufacturer already publishes (RFC 8520): the MUD file at its MUD URL and
its detached signature at `mud-signature` (or, without one, the same URL ending in `.p7s`).

The MUD URL must be on one of the manufacturer's verified domains. Both are fetched within
the limits of profiles.services.fetching, verified like an upload, and stored as a signed
profile. A beat task re-fetches each mirrored profile once its cache-validity has passed;
a failed fetch or a file that no longer verifies keeps the last good version.
"""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from urllib.parse import urlsplit

from django.db.models import Q
from django.utils import timezone

from profiles.errors import DomainError, problem
from profiles.models import Contributor, DeviceModel, Manufacturer, ManufacturerDomain, SignedProfile
from profiles.services.fetching import FetchError, https_get
from profiles.services.manufacturers import member_required
from profiles.services.signed_profiles import profile_store, signed_profile_check

log = logging.getLogger(__name__)


def _on_verified_domain(url: str, manufacturer: Manufacturer) -> bool:
    host = (urlsplit(url).hostname or "").lower().rstrip(".")
    domains = ManufacturerDomain.objects.filter(manufacturer=manufacturer, verified_at__isnull=False)
    return any(host == d or host.endswith("." + d) for d in domains.values_list("domain", flat=True))


def signature_url_for(mud_url: str, content: bytes) -> str:
    """Where the signature of the file at `mud_url` is: its `mud-signature`, else `.p7s` for `.json`."""
    try:
        declared = json.loads(content).get("ietf-mud:mud", {}).get("mud-signature")
    except (ValueError, AttributeError):
        declared = None
    if isinstance(declared, str) and declared:
        return declared
    parts = urlsplit(mud_url)
    path = parts.path[: -len(".json")] + ".p7s" if parts.path.endswith(".json") else parts.path + ".p7s"
    return parts._replace(path=path, query="", fragment="").geturl()


def _fetch_pair(manufacturer: Manufacturer, mud_url: str) -> tuple[bytes, bytes, str]:
    """The file, its signature and the signature's URL; DomainError naming what failed."""
    if urlsplit(mud_url).scheme != "https" or not _on_verified_domain(mud_url, manufacturer):
        message = "an https URL on one of the manufacturer's verified domains is needed"
        raise DomainError(
            "invalid_input", "The MUD URL cannot be mirrored.",
            problems=[problem("not_verified_domain", "/mud_url", message)],
        )  # fmt: skip
    try:
        content = https_get(mud_url).body
        signature_url = signature_url_for(mud_url, content)
        if urlsplit(signature_url).scheme != "https" or not _on_verified_domain(signature_url, manufacturer):
            raise FetchError(f"the signature URL {signature_url} is not on a verified domain")
        signature = https_get(signature_url).body
    except FetchError as error:
        raise DomainError(
            "fetch_failed", "The manufacturer's files could not be fetched.",
            problems=[problem("fetch_failed", "/mud_url", str(error))],
        ) from None  # fmt: skip
    return content, signature, signature_url


def signed_profile_mirror(
    *, actor: Contributor | None, manufacturer: Manufacturer, device_model: DeviceModel, mud_url: str,
    firmware: list[str],
) -> tuple[SignedProfile, bool]:  # fmt: skip
    member_required(actor=actor, manufacturer=manufacturer)
    content, signature, signature_url = _fetch_pair(manufacturer, mud_url)
    return profile_store(
        actor=actor, manufacturer=manufacturer, device_model=device_model, content=content, signature=signature,
        firmware=firmware, mud_url=mud_url, signature_url=signature_url,
    )  # fmt: skip


def mirrored_profiles_due() -> list[int]:
    """Mirrored profiles in force whose cache-validity has passed since the last fetch."""
    now = timezone.now()
    rows = SignedProfile.objects.filter(
        ~Q(mud_url=""), withdrawn_at__isnull=True, superseded_by__isnull=True, certificate__revoked_at__isnull=True
    ).values_list("pk", "fetched_at", "cache_validity_hours")
    return sorted(pk for pk, fetched, hours in rows if fetched is None or fetched + timedelta(hours=hours) <= now)


def mirrored_profile_refresh(*, profile_id: int) -> SignedProfile:
    """Fetch one mirrored profile again: a changed, verified file becomes the new profile for
    the same firmware; anything else keeps the last good version (and notes why)."""
    profile = SignedProfile.objects.select_related("manufacturer", "device_model").get(pk=profile_id)
    now = timezone.now()
    try:
        content, signature, signature_url = _fetch_pair(profile.manufacturer, profile.mud_url)
        if bytes(profile.mud) == content and bytes(profile.signature) == signature:
            SignedProfile.objects.filter(pk=profile.pk).update(fetched_at=now, fetch_error="")
            return profile
        signed_profile_check(manufacturer=profile.manufacturer, content=content, signature=signature)
        newer, _ = profile_store(
            actor=None, manufacturer=profile.manufacturer, device_model=profile.device_model, content=content,
            signature=signature, firmware=list(profile.firmware), mud_url=profile.mud_url,
            signature_url=signature_url,
        )  # fmt: skip
        return newer
    except DomainError as error:
        reason = "; ".join(p["message"] for p in error.problems) or error.message
        log.warning("mirrored profile %s kept: %s", profile.pk, reason)
        SignedProfile.objects.filter(pk=profile.pk).update(fetched_at=now, fetch_error=reason[:500])
        profile.refresh_from_db()
        return profile
