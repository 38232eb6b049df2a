"""Sybil pushes through the API (issue 9): a month after the honest profile was served, 50
fresh TL0 accounts and 100 aged TL1 accounts send an attacker's domain beside every honest
flow; the consensus is judged a month later again, when the attacker's domain is no longer
new (the new-domain fuse has burnt out and the flow is plain third party). Neither push gets
the domain served nor takes one honest flow out of the served file, on a popular model (12
honest TL3 observers with full-week windows) or on a new one with two honest observers."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from rest_framework.test import APIClient

from profiles import mud
from profiles.models import ConsensusFlow, DeviceModel, ModerationDecision, PeerDomain
from profiles.services.recompute import consensus_recompute
from tests.helpers import flow, payload

pytestmark = pytest.mark.django_db

MODEL = {"manufacturer": "Victim", "model": "Camera"}
MDNS = {"direction": "from-device", "family": "ipv4", "peer_kind": "local-networks", "protocol": 17, "dst_port": 5353}
HONEST = [flow("api.victim.example"), flow("time.victim.example", 123, protocol=17), MDNS]
ATTACK = flow("c2-exfil.example", 443)
ATTACK_KEY = "from-device ipv4 dnsname=c2-exfil.example proto=6 dport=eq443 init=from-device"
PASSWORD = "a-long-unusual-passphrase-42"


def window(end, days):
    return {"observation": {"start": (end - timedelta(days=days)).isoformat(), "end": end.isoformat()}}


def served() -> set[str]:
    response = APIClient().get("/mud/victim/camera.json")
    assert response.status_code == 200, response.content
    return {f.key for f in mud.parse(response.content).flows}


def recompute() -> None:
    consensus_recompute(device_model_id=DeviceModel.objects.get().pk)


def fresh_account(n: int) -> APIClient:
    client = APIClient()
    body = {"username": f"puppet{n}", "email": f"puppet{n}@example.org", "password": PASSWORD}
    address = f"198.18.{n}.1"  # a network of its own each: no sign-up merge to hide behind
    assert client.post("/api/v1/auth/register/", body, format="json", REMOTE_ADDR=address).status_code == 201
    token = client.post("/api/v1/auth/token/", {"username": body["username"], "password": PASSWORD}, format="json")
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.json()['token']}")
    return client


@pytest.mark.parametrize("honest", [12, 2], ids=["popular-model", "new-model"])
def test_fifty_fresh_and_a_hundred_aged_tl1_accounts_neither_serve_the_domain_nor_remove_an_honest_flow(
    honest, auth_api
):
    start = timezone.now().replace(microsecond=0) - timedelta(days=62)
    with time_machine.travel(start, tick=False) as clock:
        PeerDomain.objects.create(name="victim.example", first_seen=start - timedelta(days=90))
        for _ in range(honest):
            response = auth_api(trust_level=3).post(
                "/api/v1/submissions/", payload(*HONEST, **MODEL, **window(start, 7)), format="json"
            )
            assert response.status_code == 201, response.content
        recompute()
        clock.move_to(start + timedelta(days=1, minutes=1))
        recompute()
        before = served()
        # Two observers are enough for the local flow (V) only; twelve for everything.
        assert len(before) == (3 if honest == 12 else 1)

        push = start + timedelta(days=30)
        clock.move_to(push)
        attackers = [fresh_account(n) for n in range(50)]
        attackers += [auth_api(trust_level=1, age_days=40) for _ in range(100)]
        for client in attackers:
            response = client.post(
                "/api/v1/submissions/", payload(*HONEST, ATTACK, **MODEL, **window(push, 1)), format="json"
            )
            assert response.status_code == 201, response.content
        # The fresh accounts tripped the burst freeze on every flow they sent, honest ones included.
        frozen = set(
            ModerationDecision.objects.filter(kind="freeze", moderator=None).values_list("flow__key", flat=True)
        )
        assert ATTACK_KEY in frozen and len(frozen) == 4
        for days in (0, 1, 3):
            clock.move_to(push + timedelta(days=days, minutes=1))
            recompute()
            assert before <= served() and ATTACK_KEY not in served()
        # The freeze holds what the honest flows were: served, for a moderator to look at.
        rows = ConsensusFlow.objects.filter(profile__is_current=True, profile__scope="latest", flow__key__in=before)
        assert {(state, rule) for state, rule in rows.values_list("state", "rule")} == {("allowed", "6.2-frozen")}

        # A month later the attacker's domain is 30 days old: a third-party flow, no longer H.
        clock.move_to(push + timedelta(days=31))
        recompute()
        clock.move_to(push + timedelta(days=32))
        recompute()
        now_served = served()
        assert before <= now_served
        assert ATTACK_KEY not in now_served
        row = ConsensusFlow.objects.get(profile__is_current=True, profile__scope="latest", flow__key=ATTACK_KEY)
        assert row.risk_class == "T" and row.provenance["K2"] == 0
        assert row.groups >= 100  # every aged TL1 account is a group of its own: numbers alone


def test_a_hundred_and_fifty_aged_tl1_accounts_that_leave_flows_out_take_none_from_the_served_file(auth_api):
    """Silence, the other push: three TL3 members serve the model's flows; a week later 150
    aged TL1 accounts (R = 0.5, groups of their own, full-week windows) each submit the model
    without its two third-party flows. Under `2026-11-28` their exposure (N = 40.5) took both
    out of the file (W = 0.036 < 0.05); only TL2+ observations make the exposure now, as only
    TL2+ members may vote against a flow."""
    start = timezone.now().replace(microsecond=0) - timedelta(days=20)
    with time_machine.travel(start, tick=False) as clock:
        PeerDomain.objects.create(name="victim.example", first_seen=start - timedelta(days=90))
        for _ in range(3):
            response = auth_api(trust_level=3).post(
                "/api/v1/submissions/", payload(*HONEST, **MODEL, **window(start, 7)), format="json"
            )
            assert response.status_code == 201, response.content
        recompute()
        clock.move_to(start + timedelta(days=1, minutes=1))
        recompute()
        before = served()
        assert len(before) == 3

        push = start + timedelta(days=7)
        clock.move_to(push)
        for _ in range(150):
            client = auth_api(trust_level=1, age_days=40)
            response = client.post("/api/v1/submissions/", payload(MDNS, **MODEL, **window(push, 7)), format="json")
            assert response.status_code == 201, response.content
        for days in (0, 1, 3):
            clock.move_to(push + timedelta(days=days, minutes=1))
            recompute()
            assert served() == before
        rows = ConsensusFlow.objects.filter(profile__is_current=True, profile__scope="latest")
        third_party = rows.filter(risk_class="T")
        assert third_party.count() == 2
        # Their exposure is the three members' alone (n = A, slightly decayed): the TL1 accounts'
        # silence counts for nothing.
        assert {row.groups for row in third_party} == {3}
        assert all(row.exposure == row.support < 3.0 for row in third_party)
        assert rows.get(flow__key__contains="local-networks").groups == 153
