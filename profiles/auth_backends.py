"""Login lockouts for every password login that goes through django.contrib.auth: the token
endpoint, the admin, the web pages' login (profiles/services/logins.py has the rules).

LockoutBackend is Django's ModelBackend (the one AUTHENTICATION_BACKENDS names) with a check
first: while the username or the client network is locked it stops `authenticate()` before
the password hash is computed, and leaves the lockout on the request
(`request.login_lockout`) for the view to answer 429 with.
The signal receivers count each failure and clear a username's count on a session login;
ProfilesConfig.ready connects them.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied

from profiles.api.throttles import client_network
from profiles.services.logins import login_failure_record, login_lockout_get, login_success_record


class LockoutBackend(ModelBackend):
    def authenticate(self, request: Any, username: Any = None, password: Any = None, **kwargs: Any) -> Any:
        if request is not None and isinstance(username, str):
            lockout = login_lockout_get(username=username, network=client_network(request))
            if lockout is not None:
                request.login_lockout = lockout
                raise PermissionDenied("login locked")
        return super().authenticate(request, username=username, password=password, **kwargs)


def on_login_failed(sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any) -> None:
    username = credentials.get("username")
    if request is None or not isinstance(username, str) or getattr(request, "login_lockout", None) is not None:
        return  # a refusal while locked is not another guess: the lockout does not grow
    login_failure_record(username=username, network=client_network(request))


def on_logged_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    login_success_record(username=user.get_username())
