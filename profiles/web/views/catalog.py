"""The catalogue, a device model's page, its version diff, and voting on its flows."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRefresh

from profiles.api.filters import DeviceModelFilter
from profiles.api.throttles import VoteThrottle
from profiles.errors import DomainError
from profiles.models import LATEST, UNKNOWN_FIRMWARE, Contributor, DeviceModel, Manufacturer
from profiles.regions import region_names, scope_file_path
from profiles.selectors.catalog import (
    catalogue_queryset,
    consensus_diff,
    consensus_profiles,
    consensus_view_get,
    device_model_get,
    firmware_scope_check,
    regional_variants,
    variant_scope_check,
    votes_refused,
)
from profiles.selectors.manufacturers import discrepancies_list
from profiles.selectors.trust import vote_of, votes_of
from profiles.services.accounts import contributor_for
from profiles.services.votes import vote_cast, vote_withdraw
from profiles.web.charts import support_chart
from profiles.web.pages import page, problems_by_path, throttle_allows

PAGE_SIZE = 25
FILTERS = ("q", "manufacturer", "has_consensus", "has_manufacturer_profile", "changed")
# "Recently changed": the API's `updated_since` filter, offered as a few spans.
CHANGED_WITHIN = {"day": timedelta(days=1), "week": timedelta(days=7), "month": timedelta(days=30)}
ORDERINGS = {"name": ("manufacturer__slug", "slug"), "recent": ("-updated_at", "id")}


@require_GET
@page
def catalogue(request: HttpRequest) -> HttpResponse:
    filters = {k: v for k, v in request.GET.items() if k in FILTERS and v}
    order = request.GET.get("order", "name")
    queryset = catalogue_queryset().order_by(*ORDERINGS.get(order, ORDERINGS["name"]))
    data = {k: v for k, v in filters.items() if k != "changed"}
    if filters.get("changed") in CHANGED_WITHIN:
        data["updated_since"] = (timezone.now() - CHANGED_WITHIN[filters["changed"]]).isoformat()
    filterset = DeviceModelFilter(data=data, queryset=queryset)
    problems: dict[str, list[str]] = {}
    if filterset.is_valid():
        results = filterset.qs
    else:
        problems = {name: [str(e) for e in errors] for name, errors in filterset.errors.items()}
        results = DeviceModel.objects.none()
    paginator = Paginator(results, PAGE_SIZE)
    page_obj = paginator.get_page(request.GET.get("page"))
    context = {
        "page_obj": page_obj,
        "filters": filters,
        "order": order,
        "problems": problems,
        "manufacturers": Manufacturer.objects.order_by("name").values_list("slug", "name"),
        "query_string": urlencode({**filters, "order": order}),
    }
    template = "web/_catalogue_results.html" if request.htmx else "web/catalogue.html"  # type: ignore[attr-defined]
    return render(request, template, context, status=400 if problems else 200)


def _voter(request: HttpRequest) -> Contributor | None:
    if not request.user.is_authenticated:
        return None
    person = contributor_for(request.user)
    return person if person.trust_level >= Contributor.TrustLevel.MEMBER and not person.suspended else None


def _device_context(request: HttpRequest, manufacturer: str, model: str) -> dict[str, Any]:
    device_model = device_model_get(manufacturer_slug=manufacturer, model_slug=model)
    scope = firmware_scope_check(device_model=device_model, scope=request.GET.get("firmware"))
    region = request.GET.get("region") or ""
    key = variant_scope_check(device_model=device_model, scope=scope, region=region)
    consensus = consensus_view_get(device_model=device_model, scope=key)
    names = region_names()
    versions = list(
        consensus_profiles(device_model=device_model, scope=key)
        .order_by("-version")
        .only("version", "created_at", "allowed_count", "etag", "params_version")[:50]
    )
    # A merged or withdrawn model (or withdrawn scope) offers no vote: the service refuses one.
    voter = None if votes_refused(device_model=device_model, scope=scope) else _voter(request)
    firmware = "" if scope == LATEST else scope
    answers = [d for d in discrepancies_list(device_model=device_model) if d.scope == scope and d.responded_at]
    return {
        "answers": answers,
        "region": region,
        "regions": [
            (slug, names.get(slug, slug)) for slug in regional_variants(device_model=device_model, scope=scope)
        ],
        "region_name": names.get(region, region),
        "device_model": device_model,
        "scope": scope,
        "scope_key": key,
        # "unknown" gathers observations that named no firmware: they count in `latest`, and
        # it is no scope of its own (no file, no page), so it is not offered.
        "firmware_versions": [f.version for f in device_model.firmware_versions.all() if f.version != UNKNOWN_FIRMWARE],
        "consensus": consensus,
        "chart": support_chart([*consensus.served, *consensus.candidates]),
        "versions": versions,
        # A regional variant's own URL, file and signature (what its mud-url names); the global
        # file's beside it.
        "mud_url": device_model.mud_url_for(key),
        "mud_path": _mud_path(device_model, key),
        "global_path": _mud_path(device_model, scope),
        # The aggregator's detached CMS signature is served beside every file (RFC 8520 section 13).
        "signature_path": _mud_path(device_model, key).removesuffix(".json") + ".p7s",
        "voter": voter,
        "my_votes": votes_of(voter=voter, device_model=device_model, firmware=firmware) if voter else {},
        "votes_left": VoteThrottle().remaining(request.user) if voter else 0,
    }


def _mud_path(device_model: DeviceModel, scope: str) -> str:
    return "/" + scope_file_path(
        manufacturer_slug=device_model.manufacturer.slug, model_slug=device_model.slug, scope=scope
    )


@require_GET
@page
def device_model_page(request: HttpRequest, manufacturer: str, model: str) -> HttpResponse:
    context = _device_context(request, manufacturer, model)
    context["diff"] = _diff(request, context)
    return render(request, "web/device_model.html", context)


def _diff(request: HttpRequest, context: dict[str, Any]) -> Any:
    a, b = request.GET.get("a", ""), request.GET.get("b", "")
    if not (a.isdigit() and b.isdigit()):
        return None
    return consensus_diff(device_model=context["device_model"], scope=context["scope_key"], a=int(a), b=int(b))


@require_GET
@page
def device_model_diff(request: HttpRequest, manufacturer: str, model: str) -> HttpResponse:
    """The diff of two versions: the fragment the page includes, or the whole page."""
    if not request.htmx:  # type: ignore[attr-defined]
        return device_model_page(request, manufacturer, model)
    device_model = device_model_get(manufacturer_slug=manufacturer, model_slug=model)
    scope = firmware_scope_check(device_model=device_model, scope=request.GET.get("firmware"))
    key = variant_scope_check(device_model=device_model, scope=scope, region=request.GET.get("region"))
    return render(request, "web/_diff.html", {"diff": _diff(request, {"device_model": device_model, "scope_key": key})})


@require_POST
@login_required
@page
def vote(request: HttpRequest, manufacturer: str, model: str) -> HttpResponse:
    """One click on +1 or -1 (or on withdrawing one's vote): the flow's row comes back (htmx
    swaps it in), with the votes left. A withdrawal is the API's DELETE: it spends no vote."""
    device_model = device_model_get(manufacturer_slug=manufacturer, model_slug=model)
    scope = firmware_scope_check(device_model=device_model, scope=request.POST.get("firmware"))
    key, value = request.POST.get("flow", ""), request.POST.get("value", "")
    firmware = "" if scope == LATEST else scope
    voter = contributor_for(request.user)
    error, done, status = "", "Vote recorded.", 200
    try:
        if value == "withdraw":
            done = "Vote withdrawn."
            mine = vote_of(voter=voter, device_model=device_model, flow_key=key, firmware=firmware)
            if mine is None:
                error = "You have no vote on this flow to withdraw."
            else:
                vote_withdraw(voter=voter, vote=mine)
        elif not throttle_allows(VoteThrottle(), request):
            error = "You have used all your votes for today."
        else:
            vote_cast(
                voter=voter,
                device_model=device_model,
                flow_key=key,
                value=int(value) if value in ("1", "-1") else 0,
                firmware=firmware,
            )
    except DomainError as exc:
        messages = problems_by_path(exc.problems)
        error = "; ".join(m for items in messages.values() for m in items) or exc.message
        status = exc.status
    context = _device_context(request, manufacturer, model)
    consensus = context["consensus"]
    listed = [*consensus.served, *consensus.candidates, *consensus.discrepancies, *consensus.rejected]
    flow = next((f for f in listed if f.key == key), None)
    context.update({"flow": flow, "vote_error": error, "vote_done": done, "vote_flow_key": key})
    if flow is None and request.htmx:  # type: ignore[attr-defined]
        # The row is gone (the recompute moved it out of every table): the whole page again.
        return HttpResponseClientRefresh()
    if flow is None or not request.htmx:  # type: ignore[attr-defined]
        # Without htmx the whole page answers, with the refusal's status (htmx swaps only a 2xx).
        context["diff"] = None
        return render(request, "web/device_model.html", context, status=status)
    return render(request, "web/_vote_result.html", context)
