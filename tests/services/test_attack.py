"""An attack simulation with real accounts through the API (issue 5): sock puppets, aged
TL1 accounts, a shared installation and a vote ring try to get `evil.example` (high-risk,
a domain mudhub has never seen) into the consensus of a model 400 groups observed."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from profiles.models import ConsensusFlow, Contributor, DeviceModel, ModerationDecision, PeerDomain, Submission, Vote
from profiles.services.flows import flows_ensure
from profiles.services.native_flows import flows_from_native
from profiles.services.recompute import consensus_recompute
from tests.helpers import flow, payload

pytestmark = pytest.mark.django_db

MODEL = {"manufacturer": "Victim", "model": "Camera", "firmware": "3.1"}
COMMON = [flow("api.victim.example"), flow("ntp.victim.example", 123, protocol=17)]
EVIL = flow("evil.example", 8443)
EVIL_KEY = "from-device ipv4 dnsname=evil.example proto=6 dport=eq8443 init=from-device"
PASSWORD = "a-long-unusual-passphrase-42"


@pytest.fixture
def popular(auth_api, submit):
    """400 independent TL2 members observed the camera over the last months."""
    submit(auth_api(trust_level=2), payload(*COMMON, **MODEL))
    device_model = DeviceModel.objects.get()
    flows, _ = flows_from_native(COMMON)
    ids = sorted(flows_ensure(flows).values())
    now = timezone.now()
    users = get_user_model().objects.bulk_create(
        get_user_model()(username=f"member{n}", password="!") for n in range(399)
    )
    people = Contributor.objects.bulk_create(Contributor(user=user, trust_level=2, reputation_r=4.0) for user in users)
    Contributor.objects.filter(pk__in=[p.pk for p in people]).update(created_at=now - timedelta(days=300))
    firmware = device_model.firmware_versions.get(version="3.1")
    Submission.objects.bulk_create(
        Submission(
            contributor=person, device_model=device_model, firmware=firmware, format="flows", raw=b"{}",
            sha256=f"{person.pk:064d}", observed_start=now - timedelta(days=8), observed_end=now - timedelta(days=1),
            flow_ids=ids, flow_count=len(ids),
        )
        for person in people
    )  # fmt: skip
    PeerDomain.objects.update(first_seen=now - timedelta(days=200))
    consensus_recompute(device_model_id=device_model.pk)
    return device_model


def register(api, name, address):
    body = {"username": name, "email": f"{name}@example.org", "password": PASSWORD}
    assert api.post("/api/v1/auth/register/", body, format="json", REMOTE_ADDR=address).status_code == 201
    token = api.post("/api/v1/auth/token/", {"username": name, "password": PASSWORD}, format="json").json()["token"]
    return token


def evil_state(device_model):
    return ConsensusFlow.objects.get(
        profile__device_model=device_model, profile__scope="latest", profile__is_current=True, flow__key=EVIL_KEY
    )


def settle_over_days(device_model, days=10):
    start = timezone.now()
    for day in range(1, days + 1):
        consensus_recompute(device_model_id=device_model.pk, as_of=start + timedelta(days=day))


def test_fifty_fresh_accounts_never_get_it_allowed_and_trip_the_burst_freeze(popular, api, submit):
    from rest_framework.test import APIClient

    for n in range(50):
        token = register(api, f"puppet{n}", f"198.18.{n}.1")  # fifty distinct /24s: fifty groups
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        assert submit(client, payload(*COMMON, EVIL, **MODEL)).status_code == 201
    puppets = Contributor.objects.filter(user__username__startswith="puppet")
    assert set(puppets.values_list("group_key", flat=True)) == {""}  # distinct networks: no merge to hide behind
    settle_over_days(popular)
    row = evil_state(popular)
    assert row.state != "allowed"
    assert row.risk_class == "H"
    assert ModerationDecision.objects.filter(kind="freeze", flow__key=EVIL_KEY, moderator=None).exists()
    # TL0 weight is 0 towards ALLOWED; only the 0.1 candidate weight shows.
    assert row.support == 0


def test_twenty_aged_tl1_accounts_in_distinct_groups_never_get_it_allowed(popular, auth_api, submit):
    for _ in range(20):
        client = auth_api(trust_level=1, reputation_r=20.0)
        assert submit(client, payload(*COMMON, EVIL, **MODEL)).status_code == 201
    settle_over_days(popular)
    row = evil_state(popular)
    assert row.groups == 20
    assert row.state != "allowed"
    assert row.provenance["approved"] is False


def test_accounts_sharing_one_installation_count_as_one_group(popular, auth_api, submit):
    people = []
    for _ in range(20):
        client = auth_api(trust_level=1, reputation_r=20.0)
        envelope = payload(*COMMON, EVIL, **MODEL, observation={"collector": "install-7f3a"})
        assert submit(client, envelope).status_code == 201
        people.append(client.contributor.pk)
    keys = set(Contributor.objects.filter(pk__in=people).values_list("group_key", flat=True))
    assert len(keys) == 1 and keys != {""}
    consensus_recompute(device_model_id=popular.pk)
    row = evil_state(popular)
    assert row.groups == 1
    assert row.support <= 1.0
    # The token itself is never stored, only its keyed hash.
    assert not Submission.objects.filter(collector_hash="install-7f3a").exists()


def test_a_vote_ring_is_voided(popular, auth_api, submit):
    """Five members who up-vote one another's flows: the votes are voided, the accounts merged."""
    ring = [auth_api(trust_level=2, reputation_r=4.0) for _ in range(5)]
    for n, client in enumerate(ring):
        submit(client, payload(*COMMON, *[flow(f"r{n}-{k}.ring.example") for k in range(5)], **MODEL))
    for n, client in enumerate(ring):
        target = (n + 1) % len(ring)
        for k in range(5):
            key = f"from-device ipv4 dnsname=r{target}-{k}.ring.example proto=6 dport=eq443 init=from-device"
            response = client.post(
                "/api/v1/votes/", {"device_model": popular.pk, "flow": key, "value": 1}, format="json"
            )
            assert response.status_code in (200, 201), response.content
    votes = Vote.objects.filter(voter__in=[c.contributor for c in ring])
    assert votes.count() == 25
    assert votes.filter(voided_at__isnull=True).count() == 0
    assert all("serial votes" in reason for reason in votes.values_list("void_reason", flat=True))
