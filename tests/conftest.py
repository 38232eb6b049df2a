from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

# Django, DRF and the factories are imported inside the fixtures, so that the pure-core
# suites (tests/mud, tests/consensus) also run with `-p no:django`.


@pytest.fixture
def api() -> Any:
    from rest_framework.test import APIClient

    return APIClient()


@pytest.fixture
def auth_api(db: Any) -> Callable[..., Any]:
    """An API client logged in as a fresh contributor (keyword arguments go to the factory)."""

    def make(**contributor: Any) -> Any:
        from knox.models import AuthToken
        from rest_framework.test import APIClient

        from tests.factories import ContributorFactory

        person = ContributorFactory(**contributor)
        _, token = AuthToken.objects.create(person.user)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        client.contributor = person  # type: ignore[attr-defined]
        return client

    return make


def _django_settings(request: pytest.FixtureRequest) -> Any:
    """pytest-django's `settings`, or None when the plugin is off (`-p no:django`)."""
    if not request.config.pluginmanager.hasplugin("django"):
        return None
    return request.getfixturevalue("settings")


@pytest.fixture(autouse=True)
def fast_password_hashing(request: pytest.FixtureRequest) -> None:
    # PBKDF2 at its production cost takes half a second per account on these machines.
    settings = _django_settings(request)
    if settings is not None:
        settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def isolated_cache(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Each test gets a cache of its own, of the configured kind: a fresh folder for the file
    cache, a fresh key prefix on Redis (cleared afterwards; the broker shares that Redis, so
    the database itself is never flushed)."""
    settings = _django_settings(request)
    if settings is None:
        yield
        return
    from profiles.selectors import mud_files

    mud_files._MEMORY.clear()  # each process's short-lived copies of served files
    config = dict(settings.CACHES["default"])
    prefix = f"mudhub-test-{uuid.uuid4().hex[:12]}"
    if "Redis" in config["BACKEND"]:
        config["KEY_PREFIX"] = prefix
    else:
        config["LOCATION"] = str(tmp_path_factory.mktemp("cache"))
    settings.CACHES = {"default": config}
    yield
    if "Redis" in config["BACKEND"]:
        import redis

        client = redis.Redis.from_url(config["LOCATION"])
        for key in client.scan_iter(f"{prefix}*"):
            client.delete(key)


@pytest.fixture
def submit(settings: Any, django_capture_on_commit_callbacks: Any) -> Callable[..., Any]:
    """POST a submission and run what its commit queues (the recompute) inline, as the
    embedded mode does; test transactions never commit, so the hooks are run by hand."""
    settings.CELERY_TASK_ALWAYS_EAGER = True

    def post(client: Any, payload: Any, **extra: Any) -> Any:
        with django_capture_on_commit_callbacks(execute=True):
            return client.post("/api/v1/submissions/", payload, format="json", **extra)

    return post


@pytest.fixture(scope="session")
def signing_dir(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return tmp_path_factory.mktemp("signing")


@pytest.fixture(autouse=True)
def isolated_signing_key(request: pytest.FixtureRequest, signing_dir: Any) -> None:
    """The aggregator key of the test session, created on first use in a temporary folder
    (never under var/), and no publish directory unless a test sets one."""
    settings = _django_settings(request)
    if settings is None:
        return
    settings.MUDHUB_SIGNING_KEY = signing_dir / "aggregator.key"
    settings.MUDHUB_SIGNING_CERT = signing_dir / "aggregator.pem"
    settings.MUDHUB_SIGNING_NEXT_CERT = signing_dir / "next.pem"
    settings.MUDHUB_SIGNING_CREATE = True
    settings.MUDHUB_PUBLISH_DIR = ""
