"""A moderator's page for one device model: withdraw it (or one firmware scope) from what
gateways get, serve it again, or merge it into the model it duplicates. Each act is the
service the API's curation endpoints call (profiles.services.curation)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from profiles.errors import DomainError, problem
from profiles.models import LATEST, UNKNOWN_FIRMWARE, DeviceModel
from profiles.selectors.catalog import device_model_get
from profiles.selectors.moderation import curation_decisions, merge_targets
from profiles.services.accounts import contributor_for
from profiles.services.curation import device_model_merge, device_model_restore, device_model_withdraw
from profiles.web.pages import page


def _act(request: HttpRequest, model: DeviceModel) -> tuple[str, DeviceModel]:
    """Do what the form's `action` names: the message to show and the model to go back to."""
    moderator = contributor_for(request.user)
    post = request.POST
    action, reason, scope = post.get("action", ""), post.get("reason", ""), post.get("scope", "") or None
    if action == "withdraw":
        device_model_withdraw(moderator=moderator, device_model=model, reason=reason, scope=scope)
        what = f"its firmware scope {scope}" if scope else "every scope"
        return f"{model.name} is withdrawn ({what}): its files answer 410 and gateways are told.", model
    if action == "restore":
        device_model_restore(moderator=moderator, device_model=model, reason=reason, scope=scope)
        what = f"Its firmware scope {scope}" if scope else model.name
        return f"{what} is served again from its next recompute.", model
    if action == "merge":
        into = post.get("into", "")
        target = merge_targets(device_model=model).filter(pk=int(into)).first() if into.isdigit() else None
        problems = [] if target is not None else [problem("required", "/into", "choose the model it duplicates")]
        if not reason.strip():
            problems.append(problem("required", "/reason", "every decision gives its reason"))
        if problems or target is None:
            raise DomainError("invalid_input", f"{len(problems)} problem(s) in the request.", problems=problems)
        outcome = device_model_merge(moderator=moderator, source=model, target=target, reason=reason)
        moved = ", ".join(f"{count} {kind.replace('_', ' ')}" for kind, count in outcome.moved.items() if count)
        return f"{model.name} is merged into {target.name} ({moved or 'nothing'} moved).", target
    raise DomainError("invalid_input", "Unknown action.", problems=[problem("invalid_choice", "/action", action)])


def _context(model: DeviceModel, error: DomainError | None) -> dict[str, Any]:
    versions = [f.version for f in model.firmware_versions.exclude(version=UNKNOWN_FIRMWARE).order_by("version")]
    return {
        "device_model": model,
        "scopes": [LATEST, *versions],
        "withdrawn_scopes": list(model.withdrawn_scopes),
        "targets": merge_targets(device_model=model),
        "decisions": curation_decisions(device_model=model),
        "error": error,
    }


@login_required
@require_http_methods(["GET", "POST"])
@page
def curate(request: HttpRequest, manufacturer: str, model: str) -> HttpResponse:
    if not contributor_for(request.user).is_moderator:
        raise DomainError("not_a_moderator", "Only moderators withdraw or merge device models.", status=403)
    device_model = device_model_get(manufacturer_slug=manufacturer, model_slug=model)
    error: DomainError | None = None
    if request.method == "POST":
        try:
            message, back = _act(request, device_model)
        except DomainError as exc:
            error = exc
            device_model.refresh_from_db()
        else:
            messages.success(request, message)
            return redirect("web:curate", manufacturer=back.manufacturer.slug, model=back.slug)
    return render(request, "web/curate.html", _context(device_model, error), status=error.status if error else 200)
