"""Token login brute-force protection: per username and per client network, 429 with
Retry-After, refused before any password hash is computed, lifted by a moderator."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth.hashers import MD5PasswordHasher
from django.utils import timezone

from tests.factories import ContributorFactory, UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"  # tests/factories.py


class CountingHasher(MD5PasswordHasher):
    """The test suite's MD5 hasher, counting how many hashes were computed."""

    computed = 0

    def encode(self, password, salt):
        CountingHasher.computed += 1
        return super().encode(password, salt)


def login(api, username, password, address="198.51.100.7"):
    return api.post(
        "/api/v1/auth/token/", {"username": username, "password": password}, format="json", REMOTE_ADDR=address
    )


def assert_locked(response, path):
    assert response.status_code == 429, response.content
    body = response.json()
    assert body["code"] == "login_locked"
    assert [p["path"] for p in body["errors"]] == [path]
    assert 1 <= int(response["Retry-After"]) <= 900
    assert body["retry_after"] == int(response["Retry-After"])


def test_five_wrong_passwords_lock_the_username_even_against_the_right_one(api, caplog):
    UserFactory(username="alice")
    caplog.set_level(logging.WARNING, logger="profiles.services.logins")
    for attempt in range(5):
        # From five networks: the count is per username, wherever the guesses come from.
        response = login(api, "alice", "guess", address=f"203.0.{attempt}.1")
        assert response.status_code == 401
        assert response.json()["code"] == "invalid_credentials"
    assert_locked(login(api, "alice", PASSWORD), "/username")
    assert any("locked" in record.getMessage() and "alice" in record.getMessage() for record in caplog.records)
    assert login(api, "bob-unrelated", "guess").status_code == 401  # other usernames are not locked


def test_a_network_spraying_many_usernames_is_locked(api, settings):
    UserFactory(username="carol")
    for attempt in range(settings.MUDHUB_LOGIN_FAILURES_PER_NETWORK):
        # Many usernames, many addresses, one /24.
        assert login(api, f"victim{attempt}", "guess", address=f"192.0.2.{attempt + 1}").status_code == 401
    assert_locked(login(api, "carol", PASSWORD, address="192.0.2.200"), "/")
    assert login(api, "carol", PASSWORD, address="192.0.3.1").status_code == 200  # another network is not locked


def test_a_successful_login_clears_the_usernames_failures(api):
    UserFactory(username="dave")
    for _ in range(3):
        for _ in range(4):
            assert login(api, "dave", "typo").status_code == 401
        assert login(api, "dave", PASSWORD).status_code == 200


def test_a_locked_login_is_refused_before_any_password_is_hashed(api, settings, django_assert_num_queries):
    settings.PASSWORD_HASHERS = [f"{__name__}.CountingHasher"]
    UserFactory(username="erin")
    for _ in range(5):
        login(api, "erin", "guess")
    before = CountingHasher.computed
    assert before >= 5  # every failure did cost a hash
    with django_assert_num_queries(0):
        assert_locked(login(api, "erin", PASSWORD), "/username")
        assert_locked(login(api, "erin", "guess"), "/username")
    assert CountingHasher.computed == before


def test_the_lockout_lifts_by_itself(api, settings):
    UserFactory(username="frank")
    for _ in range(5):
        login(api, "frank", "guess")
    assert login(api, "frank", PASSWORD).status_code == 429
    with time_machine.travel(timezone.now() + timedelta(seconds=settings.MUDHUB_LOGIN_LOCKOUT_SECONDS + 1)):
        assert login(api, "frank", PASSWORD).status_code == 200


def test_a_moderator_lifts_a_lockout(api, auth_api):
    UserFactory(username="grace")
    for attempt in range(20):  # grace's 5 lock her username, the 20 together lock the network
        login(api, "grace" if attempt < 5 else f"other{attempt}", "guess", address="198.51.100.9")
    assert login(api, "grace", PASSWORD, address="198.51.100.9").status_code == 429
    member = auth_api(trust_level=2)
    forbidden = member.post("/api/v1/moderation/login-lockouts/lift/", {"username": "grace"}, format="json")
    assert forbidden.status_code == 403
    moderator = auth_api(trust_level=3, is_moderator=True)
    lift = moderator.post(
        "/api/v1/moderation/login-lockouts/lift/", {"username": "grace", "network": "198.51.100.77"}, format="json"
    )
    assert lift.status_code == 200, lift.content
    assert lift.json() == {"username": "grace", "network": "198.51.100.0/24", "lifted": ["username", "network"]}
    assert login(api, "grace", PASSWORD, address="198.51.100.9").status_code == 200


def test_lifting_needs_a_username_or_a_network(auth_api):
    moderator = auth_api(trust_level=3, is_moderator=True)
    response = moderator.post("/api/v1/moderation/login-lockouts/lift/", {}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_input"
    bad = moderator.post("/api/v1/moderation/login-lockouts/lift/", {"network": "not-an-ip"}, format="json")
    assert [p["path"] for p in bad.json()["errors"]] == ["/network"]


def test_an_ipv6_client_is_counted_by_its_48(api):
    ContributorFactory(user__username="heidi")
    for attempt in range(20):
        login(api, f"spray{attempt}", "guess", address=f"2001:db8:1:{attempt:x}::1")
    assert login(api, "heidi", PASSWORD, address="2001:db8:1:ffff::2").status_code == 429
    assert login(api, "heidi", PASSWORD, address="2001:db8:2::1").status_code == 200


def test_with_the_cache_down_logins_are_not_locked_and_the_outage_is_logged(api, settings, caplog):
    UserFactory(username="ken")
    # A cache at a closed port: every cache operation fails at once.
    settings.CACHES = {
        "default": {"BACKEND": "profiles.cache.RedisCache", "LOCATION": "redis://127.0.0.1:1/0",
                    "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1}}
    }  # fmt: skip
    caplog.set_level(logging.WARNING, logger="profiles.services.logins")
    for _ in range(7):
        assert login(api, "ken", "guess").status_code == 401
    assert login(api, "ken", PASSWORD).status_code == 200
    assert any("cache unavailable" in record.getMessage() for record in caplog.records)


def test_every_django_login_is_protected_too_the_admins_for_one(client, settings):
    settings.PASSWORD_HASHERS = [f"{__name__}.CountingHasher"]
    staff = UserFactory(username="lena")
    staff.is_staff = staff.is_superuser = True
    staff.save()
    for _ in range(5):
        page = client.post("/admin/login/", {"username": "lena", "password": "guess"}, REMOTE_ADDR="198.51.100.3")
        assert page.status_code == 200  # the form again, with its error
    before = CountingHasher.computed
    page = client.post("/admin/login/", {"username": "lena", "password": PASSWORD}, REMOTE_ADDR="198.51.100.3")
    assert page.status_code == 200 and "_auth_user_id" not in client.session  # not logged in
    assert CountingHasher.computed == before  # refused before any hash
    api_login = client.post(
        "/api/v1/auth/token/", {"username": "lena", "password": PASSWORD}, content_type="application/json"
    )
    assert_locked(api_login, "/username")  # the failures on the admin count for the API too


def test_a_session_login_clears_the_usernames_failures(client):
    staff = UserFactory(username="mia")
    staff.is_staff = True
    staff.save()
    for _ in range(2):
        for _ in range(4):
            client.post("/admin/login/", {"username": "mia", "password": "guess"})
        page = client.post("/admin/login/", {"username": "mia", "password": PASSWORD})
        assert page.status_code == 302
        client.logout()
