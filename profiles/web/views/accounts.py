"""Sign up, log in (Django's view with the API's login lockout), API tokens."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from profiles.api.throttles import SignupThrottle, network_of
from profiles.errors import DomainError
from profiles.selectors.trust import tokens_list
from profiles.services.accounts import user_register
from profiles.services.logins import LoginLocked, login_authenticate
from profiles.services.tokens import token_create, token_revoke
from profiles.web.pages import page, problems_by_path, throttle_allows


@require_http_methods(["GET", "POST"])
@page
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
                login(request, user, backend="profiles.auth_backends.LockoutBackend")
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


class LockoutAuthenticationForm(AuthenticationForm):
    """Django's login form, checked by the same lockout as the API's token login: a locked
    username or network is refused before any password hash is computed."""

    locked: LoginLocked | None = None

    def clean(self) -> dict[str, Any]:
        username, password = self.cleaned_data.get("username"), self.cleaned_data.get("password")
        if username is not None and password:
            try:
                self.user_cache = login_authenticate(request=self.request, username=username, password=password)
            except LoginLocked as exc:
                self.locked = exc
                raise ValidationError(exc.message, code="login_locked") from None
            except DomainError:
                raise self.get_invalid_login_error() from None
            self.confirm_login_allowed(self.user_cache)
        return self.cleaned_data


class LoginView(auth_views.LoginView):
    form_class = LockoutAuthenticationForm
    template_name = "web/login.html"

    def form_invalid(self, form: LockoutAuthenticationForm) -> HttpResponse:  # type: ignore[override]
        response = super().form_invalid(form)
        if form.locked is not None:
            response.status_code = 429
            response["Retry-After"] = str(form.locked.retry_after)
        elif form.errors:
            response.status_code = 400
        response.is_page = True  # type: ignore[attr-defined]
        return response
