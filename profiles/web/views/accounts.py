"""Sign up and API tokens (logging in and out are Django's own views, at /accounts/)."""

from __future__ import annotations

from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from profiles.api.throttles import SignupThrottle, network_of
from profiles.errors import DomainError
from profiles.selectors.trust import tokens_list
from profiles.services.accounts import user_register
from profiles.services.tokens import token_create, token_revoke
from profiles.web.pages import page, problems_by_path, throttle_allows


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    values = {"username": request.POST.get("username", ""), "email": request.POST.get("email", "")}
    problems: dict[str, list[str]] = {}
    if request.method == "POST":
        throttle = SignupThrottle()
        if not throttle_allows(throttle, request):
            problems = {"/": ["Too many accounts were made from your network today; try again tomorrow."]}
        else:
            try:
                user = user_register(
                    username=values["username"],
                    email=values["email"],
                    password=request.POST.get("password", ""),
                    signup_network=network_of(throttle.get_ident(request)),
                )
            except DomainError as exc:
                problems = problems_by_path(exc.problems) or {"/": [exc.message]}
            else:
                login(request, user, backend="django.contrib.auth.backends.ModelBackend")
                return redirect("web:contribute")
    status = 400 if problems else 200
    return render(request, "web/signup.html", {"values": values, "problems": problems}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
@page
def tokens(request: HttpRequest) -> HttpResponse:
    new_token = ""
    if request.method == "POST":
        if request.POST.get("action") == "revoke":
            token_revoke(user=request.user, digest=request.POST.get("digest", ""))
        else:
            _, new_token = token_create(user=request.user)
    return render(request, "web/tokens.html", {"tokens": tokens_list(user=request.user), "new_token": new_token})
