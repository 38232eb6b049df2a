"""manage.py login_unlock: an operator lifts a login lockout."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def run(*args):
    out = StringIO()
    call_command("login_unlock", *args, stdout=out)
    return out.getvalue()


def login(api, username, password, address="198.51.100.7"):
    return api.post(
        "/api/v1/auth/token/", {"username": username, "password": password}, format="json", REMOTE_ADDR=address
    )


def test_it_lifts_a_locked_username(api):
    UserFactory(username="ivan")
    for _ in range(5):
        login(api, "ivan", "guess")
    assert login(api, "ivan", "correct horse battery staple").status_code == 429
    assert run("--username", "ivan") == "username ivan: lifted\n"
    assert login(api, "ivan", "correct horse battery staple").status_code == 200


def test_it_lifts_a_network_given_any_address_or_prefix_in_it(api, settings):
    UserFactory(username="judy")
    for attempt in range(settings.MUDHUB_LOGIN_FAILURES_PER_NETWORK):
        login(api, f"spray{attempt}", "guess", address="203.0.113.5")
    assert login(api, "judy", "correct horse battery staple", address="203.0.113.6").status_code == 429
    assert run("--network", "203.0.113.0/24") == "network 203.0.113.0/24: lifted\n"
    assert login(api, "judy", "correct horse battery staple", address="203.0.113.6").status_code == 200
    assert "was not locked" in run("--network", "203.0.113.99")


def test_it_needs_something_to_lift():
    with pytest.raises(CommandError, match="--username"):
        run()
    with pytest.raises(CommandError, match="not an IP address"):
        run("--network", "nowhere")
