"""A contributor's page (with a moderator's account decisions), and the moderation queue with
its one-click decisions and the lifting of login lockouts."""

from __future__ import annotations

import ipaddress
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from profiles.api.throttles import network_of
from profiles.errors import DomainError, problem
from profiles.models import Contributor, DeviceModel, ModerationDecision, Submission
from profiles.selectors.moderation import curation_decisions
from profiles.selectors.trust import contributor_standing_get, moderation_queue_get
from profiles.services.accounts import contributor_for
from profiles.services.logins import login_lockout_lift
from profiles.services.moderation import decision_record
from profiles.web.pages import page, problems_by_path

ACCOUNT_KINDS = [(kind, ModerationDecision.Kind(kind).label) for kind in sorted(ModerationDecision.ACCOUNT_KINDS)]


def _is_moderator(request: HttpRequest) -> bool:
    return bool(request.user.is_authenticated and contributor_for(request.user).is_moderator)


def _contributor_context(request: HttpRequest, username: str) -> dict[str, Any]:
    return {
        "standing": contributor_standing_get(username=username),
        "account_kinds": ACCOUNT_KINDS if _is_moderator(request) else [],
    }


@require_GET
@page
def contributor_page(request: HttpRequest, username: str) -> HttpResponse:
    return render(request, "web/contributor.html", _contributor_context(request, username))


def _moderator_only(request: HttpRequest) -> None:
    if not contributor_for(request.user).is_moderator:
        raise DomainError("not_a_moderator", "Only moderators see the moderation queue.", status=403)


def _queue_context(**more: Any) -> dict[str, Any]:
    return {"queue": moderation_queue_get(), "kinds": ModerationDecision.Kind, "curated": curation_decisions(), **more}


@login_required
@require_GET
@page
def moderation(request: HttpRequest) -> HttpResponse:
    _moderator_only(request)
    return render(request, "web/moderation.html", _queue_context())


@login_required
@require_POST
@page
def decide(request: HttpRequest) -> HttpResponse:
    """One click: record the decision the button names, then back to the queue (or, for a
    decision on an account, to that contributor's page)."""
    _moderator_only(request)
    post = request.POST
    model_id, submission_id = post.get("device_model", ""), post.get("submission", "")
    username = post.get("contributor", "")
    person = Contributor.objects.filter(user__username=username).first() if username else None
    try:
        decision_record(
            moderator=contributor_for(request.user),
            kind=post.get("kind", ""),
            reason=post.get("reason", ""),
            device_model=DeviceModel.objects.filter(pk=model_id).first() if model_id.isdigit() else None,
            flow_key=post.get("flow", ""),
            firmware=post.get("firmware", ""),
            contributor=person,
            submission=Submission.objects.filter(pk=submission_id).first() if submission_id.isdigit() else None,
        )
    except DomainError as exc:
        problems = problems_by_path(exc.problems)
        if person is not None:
            context = {**_contributor_context(request, username), "problems": problems, "error": exc.message}
            return render(request, "web/contributor.html", context, status=exc.status)
        return render(request, "web/moderation.html", _queue_context(problems=problems, error=exc.message),
                      status=exc.status)  # fmt: skip
    if person is not None:
        messages.success(request, f"Recorded: {ModerationDecision.Kind(post['kind']).label}.")
        return redirect("web:contributor", username=username)
    return redirect("web:moderation")


@login_required
@require_POST
@page
def lift_lockout(request: HttpRequest) -> HttpResponse:
    """Lift a login lockout early, by username and/or network (the API's lockout lift)."""
    _moderator_only(request)
    username, address = request.POST.get("username", "").strip(), request.POST.get("network", "").strip()
    found = []
    if address:
        try:
            ipaddress.ip_address(address)
        except ValueError:
            found.append(problem("invalid", "/network", "an IPv4 or IPv6 address"))
    if not username and not address:
        found.append(problem("required", "/", "name a username, a network address, or both"))
    if found:
        error = DomainError("invalid_input", "Nothing was lifted.", problems=found)
        context = _queue_context(problems=problems_by_path(error.problems), error=error.message)
        return render(request, "web/moderation.html", context, status=400)
    network = network_of(address) if address else ""
    lifted = login_lockout_lift(username=username, network=network, by=request.user.get_username())
    named = " and ".join(v for v in (username, network) if v)
    if lifted:
        messages.success(request, f"Lifted the lockout of {named}.")
    else:
        messages.success(request, f"{named} was not locked out; its failed logins are forgotten.")
    return redirect("web:moderation")
