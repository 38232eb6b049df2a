"""Daily limits by trust level (CONSENSUS.md, "Anti-abuse defaults"), counted in the cache
(Redis in production), answered with 429, Retry-After and the JSON error body."""

from __future__ import annotations

import ipaddress
import logging
from typing import Any

from django.conf import settings
from rest_framework.request import Request
from rest_framework.throttling import AnonRateThrottle, SimpleRateThrottle

log = logging.getLogger(__name__)

DAY = 86400


def network_of(address: str) -> str:
    """An address reduced to its /24 (IPv4) or /48 (IPv6): what mudhub keeps of observers."""
    try:
        ip = ipaddress.ip_address(address.split("%")[0])
    except ValueError:
        return "unknown"
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    prefix = 24 if ip.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


def client_network(request: Any) -> str:
    """The /24 or /48 of the client (behind MUDHUB_NUM_PROXIES proxies), of a DRF or Django request."""
    return network_of(AnonRateThrottle().get_ident(request))


class _FailOpen:
    """Limits are counted in the cache; when the cache is down, requests pass (and the outage
    is logged): a Redis outage must not turn submissions and reads into errors."""

    def allow_request(self, request: Request, view: Any) -> bool:
        try:
            return super().allow_request(request, view)  # type: ignore[misc]
        except Exception:
            log.warning("throttle %s: cache unavailable, letting the request through", type(self).__name__,
                        exc_info=True)  # fmt: skip
            return True


class AnonThrottle(_FailOpen, AnonRateThrottle):
    pass


class _DailyByTrustLevel(SimpleRateThrottle):
    """`limits` maps trust level to requests per day; only the methods in `methods` count."""

    limits: dict[int, int] = {}
    methods: frozenset[str] = frozenset({"POST"})

    def __init__(self) -> None:  # the rate depends on the caller; it is set per request
        pass

    def daily_limits(self) -> dict[int, int]:
        return self.limits

    def remaining(self, user: Any) -> int:
        """How many more the user may make today (pages show it before anyone is refused)."""
        contributor = getattr(user, "contributor", None)
        limit = self.daily_limits()[contributor.trust_level if contributor is not None else 0]
        try:
            history = self.cache.get(f"throttle:{self.scope}:{user.pk}", [])
        except Exception:
            log.warning("throttle %s: cache unavailable", type(self).__name__, exc_info=True)
            return limit
        now = self.timer()
        return max(0, limit - sum(1 for at in history if at > now - DAY))

    def allow_request(self, request: Request, view: Any) -> bool:
        if request.method not in self.methods or not request.user.is_authenticated:
            return True
        contributor = getattr(request.user, "contributor", None)
        level = contributor.trust_level if contributor is not None else 0
        self.num_requests, self.duration = self.daily_limits()[level], DAY
        if self.num_requests == 0:
            return True  # not allowed at all: the view says why (403), not a throttle
        self.key = f"throttle:{self.scope}:{request.user.pk}"
        self.history = self.cache.get(self.key, [])
        self.now = self.timer()
        while self.history and self.history[-1] <= self.now - self.duration:
            self.history.pop()
        if len(self.history) >= self.num_requests:
            return self.throttle_failure()
        return self.throttle_success()


class SubmissionThrottle(_FailOpen, _DailyByTrustLevel):
    scope = "submissions"

    def daily_limits(self) -> dict[int, int]:
        return settings.MUDHUB_SUBMISSIONS_PER_DAY


class VoteThrottle(_FailOpen, _DailyByTrustLevel):
    scope = "votes"

    def daily_limits(self) -> dict[int, int]:
        return settings.MUDHUB_VOTES_PER_DAY


class SignupThrottle(_FailOpen, SimpleRateThrottle):
    """At most N sign-ups per day from one /24 (IPv4) or /48 (IPv6) network."""

    scope = "signup"

    def __init__(self) -> None:
        pass

    def allow_request(self, request: Request, view: Any) -> bool:
        self.num_requests, self.duration = settings.MUDHUB_SIGNUPS_PER_NETWORK_PER_DAY, DAY
        self.rate = f"{self.num_requests}/day"
        return super().allow_request(request, view)

    def get_cache_key(self, request: Request, view: Any) -> str:
        return f"throttle:signup:{network_of(self.get_ident(request))}"
