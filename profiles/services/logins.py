"""Password login with brute-force protection, for every login form of mudhub (the token
endpoint, the web login): lock out a username, and separately a client network, after a
handful of failures.

Why both: one username guessed from many addresses is stopped by the per-username count, one
network spraying many usernames by the per-network count (a /24 or /48, so hopping addresses
inside it does not help). While either is locked, a login is refused before any password
hash is computed: a refused try costs two cache reads, not 0.6 s of PBKDF2. Counts live in
the cache (Redis in production) and expire on their own; a successful login clears its
username's count, never the network's (one valid account must not let a network reset its
own count between guesses). When the cache is down, logins are not locked (and that is
logged): an outage must not lock everyone out.

profiles.auth_backends applies them to every login through django.contrib.auth (the
admin's, the web pages'); login_authenticate is the API's. Lockouts are lifted early by a
moderator (POST /api/v1/moderation/login-lockouts/lift/) or an operator
(`manage.py login_unlock`).
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.models import AbstractBaseUser
from django.core.cache import cache

from profiles.errors import DomainError, problem

log = logging.getLogger(__name__)

SCOPES = ("username", "network")


@dataclass(frozen=True)
class Lockout:
    scope: str  # "username" or "network"
    retry_after: int  # seconds until it lifts on its own


class LoginLocked(DomainError):
    def __init__(self, lockout: Lockout) -> None:
        what = "this username" if lockout.scope == "username" else "your network"
        message = f"Too many failed logins for {what}; try again in {lockout.retry_after} s."
        where = "/username" if lockout.scope == "username" else "/"
        super().__init__(
            "login_locked",
            message,
            status=429,
            problems=[problem("login_locked", where, message)],
            retry_after=lockout.retry_after,
        )
        self.lockout = lockout


def _ident(scope: str, value: str) -> str:
    # Hashed: a username can be anything up to 150 characters, which not every cache takes as a key.
    return hashlib.sha256(f"{scope}:{value}".encode("utf-8", "backslashreplace")).hexdigest()[:32]


def _failures_key(scope: str, value: str) -> str:
    return f"login:failures:{_ident(scope, value)}"


def _lock_key(scope: str, value: str) -> str:
    return f"login:locked:{_ident(scope, value)}"


def _limits() -> dict[str, int]:
    return {
        "username": settings.MUDHUB_LOGIN_FAILURES_PER_USERNAME,
        "network": settings.MUDHUB_LOGIN_FAILURES_PER_NETWORK,
    }


def login_lockout_get(*, username: str, network: str) -> Lockout | None:
    """The lockout that refuses this login now, if any (the longer one when both are locked)."""
    keys = {_lock_key("username", username): "username", _lock_key("network", network): "network"}
    try:
        found: dict[str, Any] = cache.get_many(list(keys))
    except Exception:
        log.warning("login lockout: cache unavailable, not checking lockouts", exc_info=True)
        return None
    now = time.time()
    lockouts = [
        Lockout(keys[key], max(1, math.ceil(until - now)))
        for key, until in found.items()
        if isinstance(until, int | float) and until > now
    ]
    return max(lockouts, key=lambda lockout: lockout.retry_after, default=None)


def _count_failure(scope: str, value: str, window: int) -> int:
    key = _failures_key(scope, value)
    if cache.add(key, 1, timeout=window):
        return 1
    try:
        return int(cache.incr(key))
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window)
        return 1


def login_failure_record(*, username: str, network: str) -> Lockout | None:
    """Count one failed login; lock the username or the network when it reaches its limit."""
    seconds = settings.MUDHUB_LOGIN_LOCKOUT_SECONDS
    locked: Lockout | None = None
    try:
        for scope, value in (("username", username), ("network", network)):
            failures = _count_failure(scope, value, seconds)
            if failures >= _limits()[scope]:
                cache.set(_lock_key(scope, value), time.time() + seconds, timeout=seconds)
                cache.delete(_failures_key(scope, value))
                log.warning(
                    "login lockout: %s %r locked for %d s after %d failed logins (username %r, network %s)",
                    scope, value, seconds, failures, username, network,
                )  # fmt: skip
                locked = Lockout(scope, seconds)
    except Exception:
        log.warning("login lockout: cache unavailable, failure not counted", exc_info=True)
    return locked


def login_success_record(*, username: str) -> None:
    try:
        cache.delete(_failures_key("username", username))
    except Exception:
        log.warning("login lockout: cache unavailable", exc_info=True)


def login_lockout_lift(*, username: str = "", network: str = "", by: str = "") -> list[str]:
    """Lift the lockout (and forget the failures) of a username and/or a network; the scopes
    that were locked. `by` names who lifted it, for the log."""
    lifted = []
    for scope, value in (("username", username), ("network", network)):
        if not value:
            continue
        was_locked = cache.get(_lock_key(scope, value)) is not None
        cache.delete_many([_lock_key(scope, value), _failures_key(scope, value)])
        if was_locked:
            lifted.append(scope)
            log.warning("login lockout: %s %r lifted by %s", scope, value, by or "an operator")
    return lifted


def login_authenticate(*, request: Any, username: str, password: str) -> AbstractBaseUser:
    """The user these credentials name, or LoginLocked (429) / invalid_credentials (401).

    profiles.auth_backends refuses a locked username or network before any password hash is
    computed, and counts the failures; this turns its verdict into the API's answers.
    """
    user = authenticate(request, username=username, password=password)
    if user is None:
        lockout = getattr(request, "login_lockout", None)
        if lockout is not None:
            log.info("login lockout: refused a login for %r (%s locked)", username, lockout.scope)
            raise LoginLocked(lockout)
        raise DomainError("invalid_credentials", "Unknown username or wrong password.", status=401)
    login_success_record(username=username)
    return user
