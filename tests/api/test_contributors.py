"""The public contributor page, the sign-up network, and the daily submission limit."""

import pytest

from profiles.models import Contributor, GroupMerge, ReputationEvent
from tests.helpers import flow, payload

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-unusual-passphrase-42"


def register(api, name, address):
    body = {"username": name, "email": f"{name}@example.org", "password": PASSWORD}
    return api.post("/api/v1/auth/register/", body, format="json", REMOTE_ADDR=address)


def test_the_contributor_page_shows_standing_and_the_public_ledger(api, auth_api, submit):
    client = auth_api(trust_level=2, reputation_r=3.0)
    person = client.contributor
    submit(client, payload(flow("api.acme.example")))
    ReputationEvent.objects.create(
        contributor=person, kind="vote_agreed", delta_r=0.1, cause="vote:1", created_at=person.created_at
    )
    body = api.get(f"/api/v1/contributors/{person.user.username}/").json()
    assert body["trust_level"] == 2
    assert body["reputation"] == pytest.approx(0.8)
    assert body["counts"]["submissions"] == 1
    assert body["counts"]["models"] == 1
    assert [e["kind"] for e in body["ledger"]] == ["vote_agreed"]
    assert "email" not in body
    assert "signup_network" not in body
    assert api.get("/api/v1/contributors/nobody/").status_code == 404


def test_only_the_signup_network_is_kept_and_it_groups_accounts(api):
    assert register(api, "ana", "192.0.2.10").status_code == 201
    assert register(api, "ben", "192.0.2.77").status_code == 201
    assert register(api, "cho", "198.51.100.5").status_code == 201
    ana, ben, cho = (Contributor.objects.get(user__username=n) for n in ("ana", "ben", "cho"))
    assert ana.signup_network == "192.0.2.0/24"
    assert ana.group_key and ana.group_key == ben.group_key
    assert cho.group_key == ""
    assert GroupMerge.objects.get().reason == "signup_network"


def test_ipv6_sign_ups_are_reduced_to_a_48(api):
    register(api, "dee", "2001:db8:1:2::5")
    assert Contributor.objects.get(user__username="dee").signup_network == "2001:db8:1::/48"


def test_at_most_three_sign_ups_a_day_from_one_network(api):
    for n in range(3):
        assert register(api, f"u{n}", f"203.0.113.{n + 1}").status_code == 201
    refused = register(api, "u3", "203.0.113.200")
    assert refused.status_code == 429
    assert refused.json()["code"] == "throttled"
    assert register(api, "elsewhere", "198.51.100.9").status_code == 201


def test_newcomers_get_three_submissions_a_day(auth_api, submit):
    client = auth_api(trust_level=0)
    for n in range(3):
        assert submit(client, payload(flow(f"h{n}.acme.example"), model=f"M{n}")).status_code == 201
    refused = submit(client, payload(flow("h9.acme.example"), model="M9"))
    assert refused.status_code == 429
    assert "Retry-After" in refused
    member = auth_api(trust_level=2)
    for n in range(4):
        assert submit(member, payload(flow(f"h{n}.acme.example"), model=f"M{n}")).status_code == 201
