"""A contributor's page and the moderation queue with its one-click decisions."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from profiles.errors import DomainError
from profiles.models import DeviceModel, ModerationDecision, Submission
from profiles.selectors.trust import contributor_standing_get, moderation_queue_get
from profiles.services.accounts import contributor_for
from profiles.services.moderation import decision_record
from profiles.web.pages import page, problems_by_path


@require_GET
@page
def contributor_page(request: HttpRequest, username: str) -> HttpResponse:
    return render(request, "web/contributor.html", {"standing": contributor_standing_get(username=username)})


def _moderator_only(request: HttpRequest) -> None:
    if not contributor_for(request.user).is_moderator:
        raise DomainError("not_a_moderator", "Only moderators see the moderation queue.", status=403)


@login_required
@require_GET
@page
def moderation(request: HttpRequest) -> HttpResponse:
    _moderator_only(request)
    return render(request, "web/moderation.html", {"queue": moderation_queue_get(), "kinds": ModerationDecision.Kind})


@login_required
@require_POST
@page
def decide(request: HttpRequest) -> HttpResponse:
    """One click: record the decision the button names, then back to the queue."""
    _moderator_only(request)
    model_id, submission_id = request.POST.get("device_model", ""), request.POST.get("submission", "")
    try:
        decision_record(
            moderator=contributor_for(request.user),
            kind=request.POST.get("kind", ""),
            reason=request.POST.get("reason", ""),
            device_model=DeviceModel.objects.filter(pk=model_id).first() if model_id.isdigit() else None,
            flow_key=request.POST.get("flow", ""),
            firmware=request.POST.get("firmware", ""),
            submission=Submission.objects.filter(pk=submission_id).first() if submission_id.isdigit() else None,
        )
    except DomainError as exc:
        problems = problems_by_path(exc.problems)
        context = {"queue": moderation_queue_get(), "kinds": ModerationDecision.Kind, "problems": problems,
                   "error": exc.message}  # fmt: skip
        return render(request, "web/moderation.html", context, status=exc.status)
    return redirect("web:moderation")
