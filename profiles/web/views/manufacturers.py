"""The manufacturer console: members, domain claims, certificates (pin, revoke), signed
profiles (upload, mirror from a URL, withdraw), statements on single flows, and answers to
discrepancies. Every act is a call to the service the API calls."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from profiles.errors import DomainError, NotFound, problem
from profiles.models import (
    Discrepancy,
    FlowStatement,
    Manufacturer,
    ManufacturerDomain,
    ManufacturerMember,
    SignedProfile,
    SigningCertificate,
)
from profiles.selectors import manufacturers as select
from profiles.services import certificates, domain_claims, mirroring, signed_profiles, statements
from profiles.services.accounts import contributor_for
from profiles.services.manufacturers import (
    is_member,
    manufacturer_get,
    member_add,
    member_or_moderator_required,
    member_remove,
)
from profiles.web.pages import page

# Signed profiles, statements and discrepancies: as many a page as the catalogue shows.
CONSOLE_PAGE_SIZE = 25


@login_required
@require_GET
@page
def my_manufacturers(request: HttpRequest) -> HttpResponse:
    """The manufacturers one acts for; a moderator also opens any manufacturer's console."""
    person = contributor_for(request.user)
    rows = ManufacturerMember.objects.filter(contributor=person).select_related("manufacturer")
    wanted = request.GET.get("manufacturer", "")
    if person.is_moderator and wanted:
        return redirect("web:manufacturer-console", slug=manufacturer_get(slug=wanted).slug)
    context = {
        "memberships": rows.order_by("manufacturer__name"),
        "all_manufacturers": Manufacturer.objects.order_by("name").values_list("slug", "name")
        if person.is_moderator
        else [],
    }
    return render(request, "web/manufacturers.html", context)


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
    if action == "member_add":
        _, created = member_add(actor=actor, manufacturer=manufacturer, username=post.get("username", "").strip())
        name = post.get("username", "").strip()
        return f"{name} is now a member." if created else f"{name} was a member already."
    if action == "member_remove":
        member_remove(actor=actor, manufacturer=manufacturer, username=post.get("username", ""))
        return f"{post.get('username')} is no longer a member."
    if action == "revoke":
        rows = SigningCertificate.objects.filter(manufacturer=manufacturer)
        certificate = rows.filter(pk=_id(post.get("certificate"))).first()
        if certificate is None:
            raise NotFound("No such certificate.")
        certificates.certificate_revoke(actor=actor, certificate=certificate)
        return f"The certificate {certificate.subject} is revoked; the profiles it signed no longer count."
    if action == "withdraw":
        profile = SignedProfile.objects.filter(manufacturer=manufacturer, pk=_id(post.get("profile"))).first()
        if profile is None:
            raise NotFound("No such signed profile.")
        signed_profiles.signed_profile_withdraw(actor=actor, profile=profile)
        return f"Signed profile {profile.pk} is withdrawn."
    if action == "mirror":
        return _mirror(request, manufacturer, actor)
    if action == "statement":
        return _statement(request, manufacturer, actor)
    raise DomainError("invalid_input", "Unknown action.", problems=[problem("invalid_choice", "/action", action)])


def _firmware(post: Any) -> list[str]:
    return [v.strip() for v in post.get("firmware", "").split(",") if v.strip()]


def _mirror(request: HttpRequest, manufacturer: Any, actor: Any) -> str:
    """Fetch the MUD file the manufacturer publishes at a URL, and its signature, as the API's
    `mud_url` upload does."""
    post = request.POST
    url = post.get("mud_url", "").strip()
    problems = []
    if not url:
        problems.append(problem("required", "/mud_url", "give the https URL of the MUD file"))
    elif len(url) > 500:
        problems.append(problem("too_long", "/mud_url", "at most 500 characters"))
    model = manufacturer.device_models.filter(pk=_id(post.get("device_model"))).first()
    if model is None:
        problems.append(problem("required", "/device_model", "choose one of the manufacturer's models"))
    if problems:
        raise DomainError("invalid_input", "The mirror request is incomplete.", problems=problems)
    profile, _ = mirroring.signed_profile_mirror(
        actor=actor, manufacturer=manufacturer, device_model=model, mud_url=url, firmware=_firmware(post)
    )
    covered = ", ".join(profile.firmware) or "every firmware"
    return f"The profile at {url} is mirrored for {model.name} ({covered}) and fetched again as it expires."


def _statement(request: HttpRequest, manufacturer: Any, actor: Any) -> str:
    """Allow or reject one flow of one model, as the API's statements endpoint does."""
    post = request.POST
    problems = []
    model = manufacturer.device_models.filter(pk=_id(post.get("device_model"))).first()
    if model is None:
        problems.append(problem("required", "/device_model", "choose one of the manufacturer's models"))
    if not post.get("flow"):
        problems.append(problem("required", "/flow", "choose the flow"))
    if post.get("verdict") not in FlowStatement.Verdict.values:
        problems.append(problem("invalid_choice", "/verdict", "allow or reject"))
    if len(post.get("comment", "")) > 1000:
        problems.append(problem("too_long", "/comment", "at most 1000 characters"))
    if problems:
        raise DomainError("invalid_input", "The statement is incomplete.", problems=problems)
    made = statements.statement_make(
        actor=actor, device_model=model, flow_key=post["flow"], verdict=post["verdict"], firmware=_firmware(post),
        comment=post.get("comment", ""),
    )  # fmt: skip
    return f"Your statement ({made.verdict} on {model.name}) is published."


def _upload(request: HttpRequest, manufacturer: Any, actor: Any) -> str:
    files, post = request.FILES, request.POST
    wanted = (("mud", "MUD file"), ("signature", "signature file"))
    problems = [problem("required", f"/{name}", f"choose the {what}") for name, what in wanted if name not in files]
    model = manufacturer.device_models.filter(pk=_id(post.get("device_model"))).first()
    if model is None:
        problems.append(problem("required", "/device_model", "choose one of the manufacturer's models"))
    if problems:
        raise DomainError("invalid_input", "The upload is incomplete.", problems=problems)
    profile, _ = signed_profiles.signed_profile_upload(
        actor=actor, manufacturer=manufacturer, device_model=model, content=files["mud"].read(),
        signature=files["signature"].read(), firmware=_firmware(post),
    )  # fmt: skip
    return f"The signed profile for {model.name} ({', '.join(profile.firmware) or 'every firmware'}) is in force."


def _id(value: Any) -> int:
    return int(value) if isinstance(value, str) and value.isdigit() else 0


def _statement_context(manufacturer: Any, wanted: Any) -> dict[str, Any]:
    """The model a statement is being written about (the one asked for, else the first) and
    the flows it can name."""
    models = manufacturer.device_models.order_by("name")
    model = models.filter(pk=_id(wanted)).first() or models.first()
    keys = select.statement_flow_keys(device_model=model) if model is not None else []
    return {"manufacturer": manufacturer, "statement_model": model, "statement_flows": keys}


def _pages(request: HttpRequest, **lists: QuerySet[Any]) -> dict[str, Any]:
    """One page of each long list (`<name>_page=N`, as the catalogue's `page`), and for each a
    pager whose links keep the other lists on the page they show."""
    pages = {
        name: Paginator(rows, CONSOLE_PAGE_SIZE).get_page(request.GET.get(f"{name}_page"))
        for name, rows in lists.items()
    }
    context: dict[str, Any] = dict(pages)
    for name, shown in pages.items():

        def link(number: int, name: str = name) -> str:
            wanted = {f"{other}_page": p.number for other, p in pages.items() if p.number > 1 or other == name}
            wanted[f"{name}_page"] = number
            return f"?{urlencode(wanted)}#{name}"

        context[f"{name}_pager"] = {
            "page": shown,
            "name": name,
            "previous": link(shown.previous_page_number()) if shown.has_previous() else "",
            "next": link(shown.next_page_number()) if shown.has_next() else "",
        }
    return context


@login_required
@require_http_methods(["GET", "POST"])
@page
def console(request: HttpRequest, slug: str) -> HttpResponse:
    manufacturer = manufacturer_get(slug=slug)
    actor = contributor_for(request.user)
    # Members use all of it; a moderator who is not one manages members and certificates (what
    # the services let a moderator do) and sees no claim tokens. Anyone else: 403.
    as_moderator = member_or_moderator_required(actor=actor, manufacturer=manufacturer)
    if request.htmx and request.htmx.target == "statement-form":  # type: ignore[attr-defined]
        # The model chosen for a statement changed: only the form with that model's flows.
        context = _statement_context(manufacturer, request.GET.get("statement_model"))
        return render(request, "web/_statement_form.html", context)
    error: DomainError | None = None
    if request.method == "POST":
        try:
            messages.success(request, _act(request, manufacturer))
        except DomainError as exc:
            error = exc
        else:
            if not as_moderator and not is_member(contributor=actor, manufacturer=manufacturer):
                return redirect("web:manufacturers")  # one removed oneself
            return redirect("web:manufacturer-console", slug=slug)
    wanted = request.POST.get("device_model") if request.POST.get("action") == "statement" else None
    context = {
        "manufacturer": manufacturer,
        "members": select.members_list(manufacturer=manufacturer),
        "me": actor,
        "as_moderator": as_moderator,
        "claims": [] if as_moderator else _claims(manufacturer),
        "verified_domains": select.verified_domains(manufacturer=manufacturer),
        "certificates": select.certificates_list(manufacturer=manufacturer),
        **_pages(
            request,
            profiles=select.signed_profiles_list(manufacturer=manufacturer).select_related("device_model"),
            statements=select.statements_list(manufacturer=manufacturer),
            discrepancies=select.discrepancies_list(manufacturer=manufacturer),
        ),
        "models": manufacturer.device_models.order_by("name"),
        "verdicts": FlowStatement.Verdict,
        "answers": Discrepancy.State,
        "error": error,
        "posted": request.POST if error and request.POST.get("action") == "statement" else {},
        "decisions": select.decisions_list(manufacturer=manufacturer)[:20],
        **_statement_context(manufacturer, wanted or request.GET.get("statement_model")),
    }
    return render(request, "web/console.html", context, status=error.status if error else 200)
