import pytest

pytestmark = pytest.mark.django_db

GOOD = {"username": "alice", "email": "alice@example.org", "password": "a-long-unusual-passphrase-42"}


def test_it_registers_an_account_with_a_contributor(api):
    response = api.post("/api/v1/auth/register/", GOOD, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["username"] == "alice"
    from profiles.models import Contributor

    person = Contributor.objects.get(user__username="alice")
    assert person.trust_level == 0
    assert person.reputation == 0.5


def test_it_lists_every_registration_problem(api):
    api.post("/api/v1/auth/register/", GOOD, format="json")
    response = api.post("/api/v1/auth/register/", {**GOOD, "password": "123"}, format="json")
    assert response.status_code == 400
    body = response.json()
    codes = {(p["code"], p["path"]) for p in body["errors"]}
    assert ("username_taken", "/username") in codes
    assert ("weak_password", "/password") in codes
    assert sum(1 for p in body["errors"] if p["path"] == "/password") >= 2  # too short and numeric


def test_it_rejects_a_missing_field_with_its_path(api):
    response = api.post("/api/v1/auth/register/", {"username": "bob"}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_input"
    assert {p["path"] for p in response.json()["errors"]} == {"/email", "/password"}


def test_a_token_authorises_writes_and_logout_revokes_it(api):
    api.post("/api/v1/auth/register/", GOOD, format="json")
    token = api.post("/api/v1/auth/token/", {"username": "alice", "password": GOOD["password"]}, format="json")
    assert token.status_code == 200
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.json()['token']}")
    assert api.post("/api/v1/auth/logout/").status_code == 204
    again = api.post("/api/v1/auth/logout/")
    assert again.status_code == 401
    assert again.json()["code"] == "authentication_failed"


def test_tokens_are_stored_hashed(api):
    from knox.models import AuthToken

    api.post("/api/v1/auth/register/", GOOD, format="json")
    token = api.post("/api/v1/auth/token/", {"username": "alice", "password": GOOD["password"]}, format="json")
    plain = token.json()["token"]
    stored = AuthToken.objects.get()
    assert plain not in (stored.digest, stored.token_key)
    assert plain.startswith(stored.token_key)


def test_it_rejects_bad_credentials_with_a_code(api):
    api.post("/api/v1/auth/register/", GOOD, format="json")
    response = api.post("/api/v1/auth/token/", {"username": "alice", "password": "wrong"}, format="json")
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_credentials"


def test_a_bad_token_is_rejected_as_json(api):
    api.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    response = api.post("/api/v1/auth/logout/")
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"


def test_logout_without_a_token_is_not_authenticated(api):
    response = api.post("/api/v1/auth/logout/")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_an_expired_token_is_refused_and_deleted_and_the_daily_task_deletes_the_rest(api):
    from datetime import timedelta

    from django.utils import timezone
    from knox.models import AuthToken

    from profiles.tasks import expired_tokens_delete

    api.post("/api/v1/auth/register/", GOOD, format="json")
    tokens = [
        api.post("/api/v1/auth/token/", {"username": "alice", "password": GOOD["password"]}, format="json").json()
        for _ in range(3)
    ]
    AuthToken.objects.update(expiry=timezone.now() - timedelta(minutes=1))
    api.credentials(HTTP_AUTHORIZATION=f"Token {tokens[0]['token']}")
    refused = api.post("/api/v1/auth/logout/")
    assert refused.status_code == 401
    assert refused.json()["code"] == "authentication_failed"
    assert AuthToken.objects.count() == 2  # the one presented is gone; the others wait for the task
    api.credentials()
    fresh = api.post("/api/v1/auth/token/", {"username": "alice", "password": GOOD["password"]}, format="json")
    assert expired_tokens_delete.apply().get() == 2
    assert AuthToken.objects.count() == 1
    api.credentials(HTTP_AUTHORIZATION=f"Token {fresh.json()['token']}")
    assert api.post("/api/v1/auth/logout/").status_code == 204
