"""Moderation: recorded decisions, their effects, the queue and reports."""

import pytest

from profiles.models import ConsensusFlow, Contributor, DeviceModel, ModerationDecision, ReputationEvent, Submission
from profiles.services.recompute import consensus_recompute
from tests.helpers import flow, payload

pytestmark = pytest.mark.django_db

KEY = "from-device ipv4 dnsname=api.acme.example proto=6 dport=eq443 init=from-device"


@pytest.fixture
def moderator(auth_api):
    return auth_api(trust_level=3, is_moderator=True)


@pytest.fixture
def model(auth_api, submit):
    submit(auth_api(trust_level=2), payload(flow("api.acme.example"), firmware="1.0"))
    submit(auth_api(trust_level=2), payload(flow("api.acme.example"), firmware="1.0"))
    return DeviceModel.objects.get()


def decide(client, **body):
    return client.post("/api/v1/moderation/decisions/", body, format="json")


def state_of(model, key=KEY):
    return ConsensusFlow.objects.get(profile__device_model=model, profile__scope="latest",
                                     profile__is_current=True, flow__key=key)  # fmt: skip


def test_only_moderators_record_decisions(auth_api, model):
    response = decide(auth_api(trust_level=3), kind="reject", device_model=model.pk, flow=KEY, reason="spam")
    assert response.status_code == 403


def test_a_rejection_is_recorded_listed_and_applied(moderator, model, api):
    response = decide(moderator, kind="reject", device_model=model.pk, flow=KEY, reason="not this device")
    assert response.status_code == 201, response.content
    listed = api.get("/api/v1/moderation/decisions/").json()["results"]
    assert [d["kind"] for d in listed] == ["reject"]
    assert listed[0]["moderator"] == moderator.contributor.user.username
    consensus_recompute(device_model_id=model.pk)
    row = state_of(model)
    assert row.state == "rejected"
    assert row.rule == "6.2-moderator"


def test_a_malicious_ruling_strikes_every_supporter(moderator, model):
    supporters = list(Submission.objects.values_list("contributor_id", flat=True))
    decide(moderator, kind="reject_malicious", device_model=model.pk, flow=KEY, reason="exfiltration host")
    for contributor_id in supporters:
        person = Contributor.objects.get(pk=contributor_id)
        assert person.strikes == 1
        event = ReputationEvent.objects.get(contributor=person, kind="malicious")
        assert event.delta_s == 10.0
        assert event.strike


def test_freeze_and_unfreeze(moderator, model):
    decide(moderator, kind="freeze", device_model=model.pk, flow=KEY, reason="looks odd")
    consensus_recompute(device_model_id=model.pk)
    assert state_of(model).provenance["frozen"] is True
    decide(moderator, kind="unfreeze", device_model=model.pk, flow=KEY, reason="checked")
    consensus_recompute(device_model_id=model.pk)
    assert state_of(model).provenance["frozen"] is False


def test_grant_tl3_and_suspend_change_the_account(moderator, auth_api):
    member = auth_api(trust_level=2).contributor
    name = member.user.username
    assert decide(moderator, kind="grant_tl3", contributor=name, reason="long record").status_code == 201
    member.refresh_from_db()
    assert member.tl3_granted
    assert decide(moderator, kind="suspend", contributor=name, reason="abuse").status_code == 201
    member.refresh_from_db()
    assert member.suspended


def test_a_decision_lists_every_missing_part(moderator):
    response = decide(moderator, kind="reject", reason="")
    assert response.status_code == 400
    paths = {p["path"] for p in response.json()["errors"]}
    assert {"/device_model", "/flow", "/reason"} <= paths


def test_reports_wait_in_the_queue_until_a_decision(moderator, auth_api, model):
    submission = Submission.objects.first()
    reporter = auth_api(trust_level=1)
    response = reporter.post(f"/api/v1/submissions/{submission.pk}/report/", {"reason": "fabricated"}, format="json")
    assert response.status_code == 201
    queue = moderator.get("/api/v1/moderation/queue/").json()
    assert queue["reported_submissions"] == [{"submission_id": submission.pk, "reports": 1}]
    decide(moderator, kind="reject_submission", submission=submission.pk, reason="fabricated indeed")
    submission.refresh_from_db()
    assert submission.status == "rejected"
    assert moderator.get("/api/v1/moderation/queue/").json()["reported_submissions"] == []


def test_the_queue_is_for_moderators(auth_api, model):
    assert auth_api(trust_level=3).get("/api/v1/moderation/queue/").status_code == 403


def test_frozen_flows_are_in_the_queue(moderator, model):
    decide(moderator, kind="freeze", device_model=model.pk, flow=KEY, reason="check")
    frozen = moderator.get("/api/v1/moderation/queue/").json()["frozen_flows"]
    assert [row["device_model"] for row in frozen] == [model.pk]
    assert ModerationDecision.objects.filter(kind="freeze").count() == 1


def test_the_queue_lists_every_high_risk_candidate_two_groups_support_by_support(moderator, auth_api, submit):
    # Port 8080 on a third-party peer is high risk. Two and three members are far from the
    # lower bound an H flow needs (about six), and the queue still shows both, best first.
    two = flow("stream.example.net", 8080)
    three = flow("relay.example.net", 8080)
    lone = flow("solo.example.net", 8080)
    for n in range(3):
        submit(auth_api(trust_level=2), payload(three, *([two] if n < 2 else []), *([lone] if n == 0 else [])))
    model = DeviceModel.objects.get()
    consensus_recompute(device_model_id=model.pk)
    rows = moderator.get("/api/v1/moderation/queue/").json()["high_risk_flows"]
    assert [row["flow"].split()[2] for row in rows] == ["dnsname=relay.example.net", "dnsname=stream.example.net"]
    assert [row["groups"] for row in rows] == [3, 2]
    assert all(row["lower_bound"] < 0.40 and row["class_reason"] == "port" for row in rows)
    assert rows[0]["support"] > rows[1]["support"] and rows[0]["trusted_groups"] == 3
    # Approved, a flow leaves the queue (and, short of support, stays a candidate).
    decide(moderator, kind="approve", device_model=model.pk, flow=rows[0]["flow"], reason="a known relay")
    consensus_recompute(device_model_id=model.pk)
    left = moderator.get("/api/v1/moderation/queue/").json()["high_risk_flows"]
    assert [row["flow"] for row in left] == [rows[1]["flow"]]
    assert ConsensusFlow.objects.get(profile__is_current=True, flow__key=rows[0]["flow"]).state == "candidate"
