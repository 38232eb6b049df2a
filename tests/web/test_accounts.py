"""Signing up, logging in and API tokens from the pages."""

from __future__ import annotations

import pytest
from knox.models import AuthToken

from profiles.models import Contributor
from tests.factories import ContributorFactory

pytestmark = pytest.mark.django_db

PASSWORD = "a long enough passphrase 42"


def test_signing_up_creates_the_contributor_and_logs_in(client):
    response = client.post("/accounts/signup/", {"username": "ann", "email": "ann@example.org", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/contribute/"
    person = Contributor.objects.get(user__username="ann")
    assert person.signup_network == "127.0.0.0/24"
    assert client.get("/contribute/").status_code == 200


def test_sign_up_problems_are_listed_by_field(client):
    ContributorFactory(user__username="taken")
    response = client.post("/accounts/signup/", {"username": "taken", "email": "x@example.org", "password": "123"})
    body = response.content.decode()
    assert response.status_code == 400
    assert "An account with this username exists." in body
    assert "This password is too short" in body


def test_a_network_gets_three_sign_ups_a_day(client):
    for n in range(3):
        client.post("/accounts/signup/", {"username": f"u{n}", "email": f"u{n}@example.org", "password": PASSWORD})
        client.logout()
    response = client.post("/accounts/signup/", {"username": "u3", "email": "u3@example.org", "password": PASSWORD})
    assert response.status_code == 400
    assert "Too many accounts" in response.content.decode()
    assert not Contributor.objects.filter(user__username="u3").exists()


def test_logging_in_at_the_conventional_address(client):
    person = ContributorFactory()
    response = client.post(
        "/accounts/login/", {"username": person.user.username, "password": "correct horse battery staple"}
    )
    assert response.status_code == 302
    assert client.get("/accounts/tokens/").status_code == 200


def test_every_form_carries_a_csrf_token(client):
    client.force_login(ContributorFactory().user)
    for path in ("/accounts/tokens/", "/contribute/"):
        assert 'name="csrfmiddlewaretoken"' in client.get(path).content.decode()


def test_a_token_is_shown_once_works_on_the_api_and_can_be_revoked(client, api):
    person = ContributorFactory()
    client.force_login(person.user)
    body = client.post("/accounts/tokens/", {"action": "create"}).content.decode()
    token = body.split('<code id="new-token">')[1].split("<")[0]
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api.post("/api/v1/auth/logout/").status_code == 204  # the token authenticated
    client.post("/accounts/tokens/", {"action": "create"})
    stored = AuthToken.objects.get(user=person.user)
    assert token not in client.get("/accounts/tokens/").content.decode()
    client.post("/accounts/tokens/", {"action": "revoke", "digest": stored.digest})
    assert not AuthToken.objects.filter(user=person.user).exists()


def test_revoking_someone_elses_token_is_a_404(client):
    other = ContributorFactory()
    AuthToken.objects.create(other.user)
    client.force_login(ContributorFactory().user)
    digest = AuthToken.objects.get().digest
    assert client.post("/accounts/tokens/", {"action": "revoke", "digest": digest}).status_code == 404
    assert AuthToken.objects.filter(user=other.user).exists()


def test_a_wrong_password_is_a_400_with_the_reason(client):
    person = ContributorFactory()
    response = client.post("/accounts/login/", {"username": person.user.username, "password": "wrong"})
    assert response.status_code == 400
    assert "Please enter a correct username and password" in response.content.decode()


def test_the_login_page_shares_the_api_lockout(client, api, settings):
    person = ContributorFactory()
    name = person.user.username
    for _ in range(settings.MUDHUB_LOGIN_FAILURES_PER_USERNAME):
        client.post("/accounts/login/", {"username": name, "password": "wrong"})
    response = client.post("/accounts/login/", {"username": name, "password": "correct horse battery staple"})
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert "Too many failed logins for this username" in response.content.decode()
    assert "_auth_user_id" not in client.session
    body = {"username": name, "password": "correct horse battery staple"}
    assert api.post("/api/v1/auth/token/", body, format="json").status_code == 429
