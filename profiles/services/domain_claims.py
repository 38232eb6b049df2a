"""Domain claims: a manufacturer proves it controls a domain by publishing a token.

`POST .../claims/` makes the token; `.../verify/` looks for it in the DNS TXT record
`_mudhub-challenge.<domain>` or at `https://<domain>/.well-known/mudhub-challenge/<token>`.
A verified domain makes the manufacturer's flows class V and lets it make statements; a
domain verified by one manufacturer cannot be claimed by another.
"""

from __future__ import annotations

import ipaddress
import re
import secrets

import idna
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from profiles.consensus.risk import registrable_domain
from profiles.errors import DomainError, problem
from profiles.models import Contributor, Manufacturer, ManufacturerDecision, ManufacturerDomain
from profiles.services.fetching import FetchError, dns_txt, https_get
from profiles.services.manufacturers import decision_note, manufacturer_models_mark_dirty, member_required

CHALLENGE_LABEL = "_mudhub-challenge"
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


def dns_name(claim: ManufacturerDomain) -> str:
    return f"{CHALLENGE_LABEL}.{claim.domain}"


def well_known_url(claim: ManufacturerDomain) -> str:
    return f"https://{claim.domain}/.well-known/mudhub-challenge/{claim.token}"


def _invalid(message: str) -> DomainError:
    return DomainError(
        "invalid_input", "The domain cannot be claimed.", problems=[problem("invalid_domain", "/domain", message)]
    )


def domain_normalize(raw: str) -> str:
    """The A-label form of a claimable domain: a real name under a public suffix, not a suffix."""
    name = raw.strip().rstrip(".").lower()
    try:
        ipaddress.ip_address(name.strip("[]"))
    except ValueError:
        pass
    else:
        raise _invalid("an IP address is not a domain")
    try:
        name = idna.encode(name, uts46=True).decode("ascii")
    except idna.IDNAError as error:
        raise _invalid(f"{raw!r} is not a valid domain name: {error}") from None
    labels = name.split(".")
    if len(name) > 253 or not all(_LABEL.match(label) for label in labels):
        raise _invalid(f"{raw!r} is not a valid domain name")
    # A public suffix (com, co.uk, github.io; any single label) is the only kind of name whose
    # child is a registrable domain itself.
    if len(labels) < 2 or registrable_domain("x." + name) == "x." + name:
        raise _invalid(f"{name} is a public suffix: nobody can claim it")
    return name


def _taken(domain: str, manufacturer: Manufacturer) -> bool:
    return (
        ManufacturerDomain.objects.filter(domain=domain, verified_at__isnull=False)
        .exclude(manufacturer=manufacturer)
        .exists()
    )


def _conflict(domain: str) -> DomainError:
    return DomainError("domain_taken", f"{domain} is verified by another manufacturer.", status=409)


@transaction.atomic
def claim_create(
    *, actor: Contributor | None, manufacturer: Manufacturer, domain: str, method: str
) -> tuple[ManufacturerDomain, bool]:
    """The manufacturer's claim on `domain`, with a fresh token unless it is verified already."""
    member_required(actor=actor, manufacturer=manufacturer)
    name = domain_normalize(domain)
    if _taken(name, manufacturer):
        raise _conflict(name)
    claim = ManufacturerDomain.objects.select_for_update().filter(manufacturer=manufacturer, domain=name).first()
    if claim is not None and claim.verified_at is not None:
        return claim, False
    if claim is None:
        claim = ManufacturerDomain(manufacturer=manufacturer, domain=name, created_at=timezone.now())
    claim.method = method
    claim.token = secrets.token_urlsafe(32)
    claim.created_by = actor
    claim.last_error = ""
    claim.save()
    return claim, True


def _check(claim: ManufacturerDomain) -> str:
    """ "" when the token is published where the method says; else what was wrong."""
    try:
        if claim.method == ManufacturerDomain.Method.DNS:
            found = dns_txt(dns_name(claim))
            if claim.token in [value.strip() for value in found]:
                return ""
            return f"no TXT record at {dns_name(claim)} holds the token (found {len(found)} record(s))"
        fetched = https_get(well_known_url(claim), port=settings.MUDHUB_CLAIM_HTTPS_PORT)
        if fetched.body.strip() == claim.token.encode("ascii"):
            return ""
        return f"{well_known_url(claim)} does not hold the token"
    except FetchError as error:
        return str(error)


def claim_verify(*, actor: Contributor | None, claim: ManufacturerDomain) -> ManufacturerDomain:
    """Look for the token now. Verified: the domain is the manufacturer's (409 if another's
    meanwhile). Not found: a 400 saying what was missing, kept on the claim as `last_error`."""
    manufacturer = claim.manufacturer
    member_required(actor=actor, manufacturer=manufacturer)
    if claim.verified_at is not None:
        return claim
    if _taken(claim.domain, manufacturer):
        raise _conflict(claim.domain)
    error = _check(claim)  # outside any transaction: a slow server holds no lock
    now = timezone.now()
    if error:
        ManufacturerDomain.objects.filter(pk=claim.pk).update(checked_at=now, last_error=error[:500])
        raise DomainError(
            "claim_not_verified",
            "The token was not found.",
            problems=[problem("token_not_found", "/", error)],
        )
    try:
        with transaction.atomic():
            updated = ManufacturerDomain.objects.filter(pk=claim.pk, verified_at__isnull=True).update(
                verified_at=now, checked_at=now, last_error=""
            )
            if updated:
                decision_note(
                    manufacturer=manufacturer,
                    kind=ManufacturerDecision.Kind.DOMAIN_VERIFY,
                    actor=actor,
                    subject=f"domain {claim.domain} ({claim.method})",
                )
                manufacturer_models_mark_dirty(manufacturer=manufacturer)
    except IntegrityError:
        raise _conflict(claim.domain) from None
    claim.refresh_from_db()
    return claim


def has_verified_domain(*, manufacturer: Manufacturer) -> bool:
    return ManufacturerDomain.objects.filter(manufacturer=manufacturer, verified_at__isnull=False).exists()
