"""Contributing: check a MUD file or a flow list, submit it, and follow one's submissions."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from profiles.api.throttles import SubmissionThrottle
from profiles.errors import DomainError, problem
from profiles.selectors.submissions import submission_fate_get, submission_get, submissions_of
from profiles.selectors.trust import report_of
from profiles.services.accounts import contributor_for
from profiles.services.moderation import submission_report
from profiles.services.submissions import SubmissionContent, submission_content_read, submission_create
from profiles.web.pages import page, problems_by_path, throttle_allows

FIELDS = ("manufacturer", "model", "firmware", "start", "end", "country", "kind", "document")


def _when(value: str, path: str, problems: list[dict[str, str]]) -> datetime | None:
    """A datetime-local field, read as UTC."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        problems.append(problem("invalid_datetime", path, "not a date and time"))
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _read(request: HttpRequest) -> tuple[dict[str, Any], bytes, SubmissionContent | None, list[dict[str, str]]]:
    """The form as the API's envelope, the raw bytes of the file (or pasted text), the parsed
    content and every problem found, with the JSON path the API would report."""
    values = {name: request.POST.get(name, "").strip() for name in FIELDS if name != "document"}
    values["document"] = request.POST.get("document", "")
    upload = request.FILES.get("file")
    problems: list[dict[str, str]] = []
    if upload is not None and upload.size and upload.size > settings.MUDHUB_MAX_BODY_BYTES:
        problems.append(
            problem("too_large", "/file", f"the file is larger than {settings.MUDHUB_MAX_BODY_BYTES} bytes")
        )
        raw = b""
    elif upload is not None and upload.size:
        raw = upload.read()
    else:
        raw = values["document"].encode("utf-8")
    kind = "flows" if values["kind"] == "flows" else "mud"
    if not raw.strip():
        problems.append(problem("required", f"/{kind}", "upload a file or paste its JSON"))
    start, end = (
        _when(values["start"], "/observation/start", problems),
        _when(values["end"], "/observation/end", problems),
    )
    country = values["country"]
    if country and not (len(country) == 2 and country.isascii() and country.isalpha()):
        problems.append(problem("invalid", "/observation/country", "an ISO 3166-1 alpha-2 code, such as DE or US"))
    observation = {name: value for name, value in (("start", start), ("end", end), ("country", country)) if value}
    envelope: dict[str, Any] = {
        "device": {"manufacturer": values["manufacturer"], "model": values["model"], "firmware": values["firmware"]},
        "observation": observation or None,
    }
    content = None
    if raw.strip() and not problems:
        try:
            document = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            problems.append(problem("malformed_json", f"/{kind}", f"not JSON: {exc}"))
        else:
            if kind == "flows" and isinstance(document, dict) and "flows" in document:
                document = document["flows"]
            content, found = submission_content_read({kind: document})
            problems += found
    return envelope, raw, content, problems


@login_required
@require_http_methods(["GET", "POST"])
@page
def contribute(request: HttpRequest) -> HttpResponse:
    """GET: the form. POST with action=check: the problems and warnings, nothing stored (htmx
    swaps the result in). POST with action=submit: store it and go to the submission."""
    context: dict[str, Any] = {"values": {"kind": "mud"}, "checked": False}
    if request.method == "POST":
        envelope, raw, content, problems = _read(request)
        context["values"] = {name: request.POST.get(name, "") for name in FIELDS}
        context.update({"checked": True, "problems": problems, "content": content})
        if not problems and content is not None and request.POST.get("action") == "submit":
            if not throttle_allows(SubmissionThrottle(), request):
                context["problems"] = [problem("throttled", "/", "You have reached your submissions for today.")]
            else:
                try:
                    submission, _ = submission_create(
                        contributor=contributor_for(request.user),
                        raw=raw,
                        raw_content_type="application/json",
                        device=envelope["device"],
                        observation=envelope["observation"],
                        content=content,
                    )
                except DomainError as exc:
                    context["problems"] = exc.problems or [problem(exc.code, "/", exc.message)]
                else:
                    target = reverse("web:submission", kwargs={"submission_id": submission.pk})
                    if request.htmx:  # type: ignore[attr-defined]
                        return HttpResponseClientRedirect(target)
                    return redirect(target)
        if request.htmx:  # type: ignore[attr-defined]
            return render(request, "web/_check.html", context)
    context["remaining"] = SubmissionThrottle().remaining(request.user)
    status = 400 if context.get("problems") else 200
    return render(request, "web/contribute.html", context, status=status)


@login_required
@require_GET
@page
def my_submissions(request: HttpRequest) -> HttpResponse:
    rows = submissions_of(contributor=contributor_for(request.user))
    page_obj = Paginator(rows, 25).get_page(request.GET.get("page"))
    return render(request, "web/submissions.html", {"page_obj": page_obj})


def _submission_context(request: HttpRequest, submission: Any) -> dict[str, Any]:
    """The submission, how its flows fared, and (for someone else signed in) their report on it."""
    person = contributor_for(request.user) if request.user.is_authenticated else None
    can_report = person is not None and person.pk != submission.contributor_id
    return {
        "submission": submission,
        "fate": submission_fate_get(submission=submission),
        "can_report": can_report,
        "my_report": report_of(reporter=person, submission=submission) if can_report and person else None,
        "report_problems": {},
        "reason": "",
    }


@require_GET
@page
def submission_page(request: HttpRequest, submission_id: int) -> HttpResponse:
    submission = submission_get(submission_id=submission_id)
    return render(request, "web/submission.html", _submission_context(request, submission))


@login_required
@require_POST
@page
def report(request: HttpRequest, submission_id: int) -> HttpResponse:
    """Report a submission as fabricated or abusive (the API's report): it joins the moderation
    queue. htmx swaps the answer in for the form; without htmx, back to the submission."""
    submission = submission_get(submission_id=submission_id)
    reason = request.POST.get("reason", "")
    answer: dict[str, Any] = {"submission": submission, "can_report": True, "reason": reason, "report_problems": {}}
    try:
        answer["my_report"] = submission_report(
            reporter=contributor_for(request.user), submission=submission, reason=reason
        )
    except DomainError as exc:
        answer.update({"my_report": None, "report_problems": problems_by_path(exc.problems)})
        status = exc.status
    else:
        status = 200
    if request.htmx:  # type: ignore[attr-defined]
        # htmx swaps only 2xx answers: the problems come back as the fragment, like the check's.
        return render(request, "web/_report.html", answer)
    if status == 200:
        return redirect("web:submission", submission_id=submission.pk)
    return render(request, "web/submission.html", {**_submission_context(request, submission), **answer}, status=status)
