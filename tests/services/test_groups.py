"""Independence groups from behaviour: mutual up-votes and co-backed rare flows."""

import pytest

from profiles.models import Contributor, DeviceModel, GroupMerge
from profiles.services.groups import groups_rebuild, merges_detect
from tests.helpers import flow, payload

pytestmark = pytest.mark.django_db


def test_accounts_that_back_the_same_rare_flows_are_merged(auth_api, submit):
    pair = [auth_api(trust_level=2), auth_api(trust_level=2)]
    rare = [flow(f"rare{k}.example") for k in range(3)]
    for client in pair:
        submit(client, payload(flow("common.example"), *rare))
    for _ in range(3):
        submit(auth_api(trust_level=2), payload(flow("common.example")))
    assert merges_detect() >= 1
    a, b = (Contributor.objects.get(pk=c.contributor.pk) for c in pair)
    assert a.group_key and a.group_key == b.group_key
    assert GroupMerge.objects.filter(reason="rare_flows").count() == 1
    assert merges_detect() == 0  # nothing new the second night


def test_mutual_up_votes_merge_the_voters(auth_api, submit):
    alice, bob = auth_api(trust_level=2), auth_api(trust_level=2)
    submit(alice, payload(flow("alice.example")))
    submit(bob, payload(flow("bob.example")))
    model = DeviceModel.objects.get()
    key = "from-device ipv4 dnsname={}.example proto=6 dport=eq443 init=from-device"
    vote = {"device_model": model.pk, "value": 1}
    assert alice.post("/api/v1/votes/", {**vote, "flow": key.format("bob")}, format="json").status_code == 201
    assert bob.post("/api/v1/votes/", {**vote, "flow": key.format("alice")}, format="json").status_code == 201
    a, b = (Contributor.objects.get(pk=c.contributor.pk) for c in (alice, bob))
    assert a.group_key and a.group_key == b.group_key
    assert GroupMerge.objects.get().reason == "mutual_votes"


def test_groups_are_connected_components(auth_api):
    people = [auth_api().contributor for _ in range(4)]
    GroupMerge.objects.create(a=people[0], b=people[1], reason="collector")
    GroupMerge.objects.create(a=people[1], b=people[2], reason="signup_network")
    assert groups_rebuild() == 3
    keys = [Contributor.objects.get(pk=p.pk).group_key for p in people]
    assert keys[0] == keys[1] == keys[2] == f"g{people[0].pk}"
    assert keys[3] == ""
