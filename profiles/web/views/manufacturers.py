"""The manufacturer console: claim and verify domains, pin certificates, upload signed
profiles, answer discrepancies. Every act is a call to the service the API calls."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from profiles.errors import DomainError, NotFound, problem
from profiles.models import Discrepancy, ManufacturerDomain, ManufacturerMember
from profiles.selectors import manufacturers as select
from profiles.services import certificates, domain_claims, signed_profiles, statements
from profiles.services.accounts import contributor_for
from profiles.services.manufacturers import manufacturer_get, member_required
from profiles.web.pages import page


@login_required
@require_GET
@page
def my_manufacturers(request: HttpRequest) -> HttpResponse:
    rows = ManufacturerMember.objects.filter(contributor=contributor_for(request.user)).select_related("manufacturer")
    return render(request, "web/manufacturers.html", {"memberships": rows.order_by("manufacturer__name")})


def _claims(manufacturer: Any) -> list[dict[str, Any]]:
    return [
        {
            "claim": claim,
            "dns_name": domain_claims.dns_name(claim),
            "well_known_url": domain_claims.well_known_url(claim),
        }
        for claim in select.claims_list(manufacturer=manufacturer)
    ]


def _act(request: HttpRequest, manufacturer: Any) -> str:
    """Do what the form's `action` names; the message to show, or a DomainError."""
    actor = contributor_for(request.user)
    action, post = request.POST.get("action", ""), request.POST
    if action == "claim":
        claim, _ = domain_claims.claim_create(
            actor=actor, manufacturer=manufacturer, domain=post.get("domain", ""), method=post.get("method", "dns")
        )
        return f"Publish the token for {claim.domain}, then verify."
    if action == "verify":
        claim = ManufacturerDomain.objects.filter(manufacturer=manufacturer, pk=_id(post.get("claim"))).first()
        if claim is None:
            raise NotFound("No such claim.")
        domain_claims.claim_verify(actor=actor, claim=claim)
        return f"{claim.domain} is verified."
    if action == "pin":
        upload = request.FILES.get("rotation_signature")
        certificates.certificate_pin(
            actor=actor, manufacturer=manufacturer, pem=post.get("pem", ""),
            rotation_signature=upload.read() if upload else None,
        )  # fmt: skip
        return "The certificate is pinned."
    if action == "upload":
        return _upload(request, manufacturer, actor)
    if action == "respond":
        rows = Discrepancy.objects.select_related("device_model__manufacturer")
        row = rows.filter(device_model__manufacturer=manufacturer, pk=_id(post.get("discrepancy"))).first()
        if row is None:
            raise NotFound("No such discrepancy.")
        if post.get("state") not in Discrepancy.State.values:
            raise DomainError("invalid_input", "Choose an answer.", problems=[
                problem("invalid_choice", "/state", f"one of {', '.join(Discrepancy.State.values)}")])  # fmt: skip
        statements.discrepancy_respond(
            actor=actor, discrepancy=row, state=post["state"], comment=post.get("comment", "")
        )
        return "Your answer is published."
    raise DomainError("invalid_input", "Unknown action.", problems=[problem("invalid_choice", "/action", action)])


def _upload(request: HttpRequest, manufacturer: Any, actor: Any) -> str:
    files, post = request.FILES, request.POST
    wanted = (("mud", "MUD file"), ("signature", "signature file"))
    problems = [problem("required", f"/{name}", f"choose the {what}") for name, what in wanted if name not in files]
    model = manufacturer.device_models.filter(pk=_id(post.get("device_model"))).first()
    if model is None:
        problems.append(problem("required", "/device_model", "choose one of the manufacturer's models"))
    if problems:
        raise DomainError("invalid_input", "The upload is incomplete.", problems=problems)
    firmware = [v.strip() for v in post.get("firmware", "").split(",") if v.strip()]
    profile, _ = signed_profiles.signed_profile_upload(
        actor=actor, manufacturer=manufacturer, device_model=model, content=files["mud"].read(),
        signature=files["signature"].read(), firmware=firmware,
    )  # fmt: skip
    return f"The signed profile for {model.name} ({', '.join(profile.firmware) or 'every firmware'}) is in force."


def _id(value: Any) -> int:
    return int(value) if isinstance(value, str) and value.isdigit() else 0


@login_required
@require_http_methods(["GET", "POST"])
@page
def console(request: HttpRequest, slug: str) -> HttpResponse:
    manufacturer = manufacturer_get(slug=slug)
    member_required(actor=contributor_for(request.user), manufacturer=manufacturer)
    error: DomainError | None = None
    if request.method == "POST":
        try:
            messages.success(request, _act(request, manufacturer))
            return redirect("web:manufacturer-console", slug=slug)
        except DomainError as exc:
            error = exc
    context = {
        "manufacturer": manufacturer,
        "claims": _claims(manufacturer),
        "certificates": select.certificates_list(manufacturer=manufacturer),
        "profiles": select.signed_profiles_list(manufacturer=manufacturer).select_related("device_model"),
        "models": manufacturer.device_models.order_by("name"),
        "discrepancies": select.discrepancies_list(manufacturer=manufacturer),
        "answers": Discrepancy.State,
        "error": error,
        "decisions": select.decisions_list(manufacturer=manufacturer)[:20],
    }
    return render(request, "web/console.html", context, status=error.status if error else 200)
