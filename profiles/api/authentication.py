"""Token authentication: django-rest-knox, without its per-request sweep of the user's other tokens.

knox reads every token of the user on each request to delete the expired ones. mudhub checks
only the token presented (an expired one is deleted and refused, as knox does) and deletes
everybody's expired tokens once a day (`profiles.tasks.expired_tokens_delete`), sparing a
query on every authenticated request.
"""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.contrib.knox_auth_token import KnoxTokenScheme
from knox.auth import TokenAuthentication as KnoxTokenAuthentication
from knox.models import AuthToken


class TokenAuthentication(KnoxTokenAuthentication):
    def _cleanup_token(self, auth_token: AuthToken) -> bool:
        if auth_token.expiry is not None and auth_token.expiry < timezone.now():
            auth_token.delete()
            return True
        return False


class TokenScheme(KnoxTokenScheme):  # the OpenAPI security scheme, as for knox's own class
    target_class = "profiles.api.authentication.TokenAuthentication"


def expired_tokens_delete() -> int:
    deleted, _ = AuthToken.objects.filter(expiry__lt=timezone.now()).delete()
    return deleted
