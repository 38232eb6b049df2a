"""Votes: TL2+ only, not on one's own flows, replaceable, withdrawable, limited per day."""

import pytest

from profiles.models import ConsensusFlow, DeviceModel, Vote
from tests.helpers import flow, payload

pytestmark = pytest.mark.django_db

KEY = "from-device ipv4 dnsname=api.acme.example proto=6 dport=eq443 init=from-device"


@pytest.fixture
def model(auth_api, submit):
    submit(auth_api(trust_level=2), payload(flow("api.acme.example"), firmware="1.0"))
    device_model = DeviceModel.objects.get()
    assert ConsensusFlow.objects.filter(flow__key=KEY).exists()
    return device_model


def cast(client, model, value=1, **extra):
    body = {"device_model": model.pk, "flow": KEY, "value": value, **extra}
    return client.post("/api/v1/votes/", body, format="json")


def test_a_member_votes_and_the_consensus_counts_it(auth_api, model):
    client = auth_api(trust_level=2)
    response = cast(client, model, reason="seen on my gateway too")
    assert response.status_code == 201, response.content
    assert response.json()["value"] == 1
    model.refresh_from_db()
    assert model.dirty_since is not None  # a vote is an input: the model is recomputed


def test_changing_a_vote_replaces_it_and_delete_withdraws_it(auth_api, model):
    client = auth_api(trust_level=2)
    first = cast(client, model, 1).json()
    again = cast(client, model, -1)
    assert again.status_code == 200
    assert again.json()["id"] == first["id"]
    assert Vote.objects.get().value == -1
    assert client.delete(f"/api/v1/votes/{first['id']}/").status_code == 204
    assert not Vote.objects.exists()


def test_only_the_voter_withdraws_a_vote(auth_api, model):
    vote = cast(auth_api(trust_level=2), model).json()
    response = auth_api(trust_level=3).delete(f"/api/v1/votes/{vote['id']}/")
    assert response.status_code == 403
    assert response.json()["code"] == "not_your_vote"


@pytest.mark.parametrize("level", [0, 1])
def test_voting_needs_trust_level_two(auth_api, model, level):
    response = cast(auth_api(trust_level=level), model)
    assert response.status_code == 403
    assert response.json()["code"] == "trust_level_too_low"


def test_nobody_votes_on_their_own_flows(auth_api, submit, model):
    client = auth_api(trust_level=2)
    submit(client, payload(flow("api.acme.example"), firmware="1.0"))
    response = cast(client, model)
    assert response.status_code == 403
    assert response.json()["code"] == "own_flow"


def test_an_unknown_flow_or_firmware_is_a_400(auth_api, model):
    client = auth_api(trust_level=2)
    bad_flow = client.post(
        "/api/v1/votes/", {"device_model": model.pk, "flow": "from-device nonsense", "value": 1}, format="json"
    )
    assert bad_flow.status_code == 400
    assert bad_flow.json()["errors"][0]["code"] == "unknown_flow"
    bad_firmware = cast(client, model, firmware="9.9")
    assert bad_firmware.status_code == 400
    assert bad_firmware.json()["errors"][0]["code"] == "unknown_firmware"
    assert cast(client, model, value=2).status_code == 400


def test_votes_are_limited_per_day_by_trust_level(auth_api, model, settings):
    settings.MUDHUB_VOTES_PER_DAY = {0: 0, 1: 0, 2: 2, 3: 4}
    client = auth_api(trust_level=2)
    assert cast(client, model, 1).status_code == 201
    assert cast(client, model, -1).status_code == 200
    third = cast(client, model, 1)
    assert third.status_code == 429
    assert third.json()["code"] == "throttled"
    assert int(third["Retry-After"]) > 0
    assert third.json()["retry_after"] > 0
