from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from tests.factories import ContributorFactory


@pytest.fixture
def api() -> APIClient:
    return APIClient()


@pytest.fixture
def auth_api(db: Any) -> Callable[..., APIClient]:
    """An API client logged in as a fresh contributor (keyword arguments go to the factory)."""

    def make(**contributor: Any) -> APIClient:
        from knox.models import AuthToken

        person = ContributorFactory(**contributor)
        _, token = AuthToken.objects.create(person.user)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        client.contributor = person  # type: ignore[attr-defined]
        return client

    return make


@pytest.fixture(autouse=True)
def fast_password_hashing(settings: Any) -> None:
    # PBKDF2 at its production cost takes half a second per account on these machines.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
