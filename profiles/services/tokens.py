"""API tokens of an account (django-rest-knox stores only their hashes)."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from knox.models import AuthToken

from profiles.errors import NotFound


def token_create(*, user: AbstractBaseUser) -> tuple[AuthToken, str]:
    """A new token; the clear text is returned once and never stored."""
    instance, token = AuthToken.objects.create(user)
    return instance, token


@transaction.atomic
def token_revoke(*, user: AbstractBaseUser, digest: str) -> None:
    deleted, _ = AuthToken.objects.filter(user=user, digest=digest).delete()
    if not deleted:
        raise NotFound("No such token of yours.", code="unknown_token")
