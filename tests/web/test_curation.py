"""Withdrawing, restoring and merging device models from the pages: the same services as the
API (profiles.services.curation), each refusal shown with its reason, nothing half done."""

from __future__ import annotations

import pytest
from django.test import TestCase

from profiles.models import Change, DeviceModel, ModerationDecision, Submission
from tests.factories import ContributorFactory
from tests.helpers import flow, payload, settle
from tests.web.data import submit

pytestmark = pytest.mark.django_db


@pytest.fixture
def models():
    """Cam 1 served (latest and 1.0), and Cam One, a duplicate of it."""
    for _ in range(3):
        submit(ContributorFactory(trust_level=3), payload(flow("api.acme.example"), firmware="1.0"))
    submit(ContributorFactory(trust_level=2), payload(flow("api.acme.example"), model="Cam One"))
    for model in DeviceModel.objects.all():
        settle(model.pk)
    return DeviceModel.objects.get(slug="cam-1"), DeviceModel.objects.get(slug="cam-one")


@pytest.fixture
def moderator(client):
    person = ContributorFactory(trust_level=3, is_moderator=True)
    client.force_login(person.user)
    return person


def post(client, url, body):
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(url, body)


def test_only_moderators_curate(client, models):
    client.force_login(ContributorFactory(trust_level=3).user)
    assert client.get("/moderation/devices/acme/cam-1/").status_code == 403
    response = client.post("/moderation/devices/acme/cam-1/", {"action": "withdraw", "reason": "x"})
    assert response.status_code == 403
    assert "Withdraw, restore or merge" not in client.get("/devices/acme/cam-1/").content.decode()
    assert not ModerationDecision.objects.exists()


def test_a_moderator_withdraws_a_scope_then_the_model_and_restores_it(client, models, moderator):
    cam1, _ = models
    assert 'href="/moderation/devices/acme/cam-1/"' in client.get("/devices/acme/cam-1/").content.decode()
    url = "/moderation/devices/acme/cam-1/"
    response = post(client, url, {"action": "withdraw", "scope": "1.0", "reason": "bad capture"})
    assert response.status_code == 302
    assert client.get("/mud/acme/cam-1/1.0.json").status_code == 410
    assert client.get("/mud/acme/cam-1.json").status_code == 200
    page = client.get(url).content.decode()
    assert "yes, except the withdrawn scope 1.0" in page and "its firmware scope 1.0" in page
    assert (
        "A moderator withdrew this firmware scope" in client.get("/devices/acme/cam-1/?firmware=1.0").content.decode()
    )
    post(client, url, {"action": "withdraw", "scope": "", "reason": "fabricated"})
    assert client.get("/mud/acme/cam-1.json").status_code == 410
    assert "A moderator withdrew this model" in client.get("/devices/acme/cam-1/").content.decode()
    again = post(client, url, {"action": "withdraw", "scope": "", "reason": "twice"})
    assert again.status_code == 409 and "That is withdrawn already." in again.content.decode()
    response = post(client, url, {"action": "restore", "scope": "", "reason": "it was real"})
    assert response.status_code == 302
    cam1.refresh_from_db()
    assert cam1.withdrawn_at is None and cam1.withdrawn_scopes == []  # the whole model: every scope
    kinds = list(ModerationDecision.objects.order_by("id").values_list("kind", "firmware", "moderator"))
    assert kinds == [("withdraw_model", "1.0", moderator.pk), ("withdraw_model", "", moderator.pk),
                     ("restore_model", "", moderator.pk)]  # fmt: skip
    assert "Withdrawn, restored and merged models" in client.get("/moderation/").content.decode()


def test_a_withdrawal_without_a_reason_or_for_an_unknown_scope_lists_both(client, models, moderator):
    response = post(client, "/moderation/devices/acme/cam-1/", {"action": "withdraw", "scope": "9.9", "reason": " "})
    body = response.content.decode()
    assert response.status_code == 400
    assert "<code>/reason</code> every decision gives its reason" in body
    assert "<code>/scope</code>" in body and "9.9" in body
    assert not ModerationDecision.objects.exists() and not Change.objects.filter(kind="removed").exists()


def test_a_moderator_merges_a_duplicate_into_its_model(client, models, moderator):
    cam1, duplicate = models
    url = "/moderation/devices/acme/cam-one/"
    refused = post(client, url, {"action": "merge", "into": "", "reason": ""})
    assert refused.status_code == 400
    assert "<code>/into</code>" in refused.content.decode() and "<code>/reason</code>" in refused.content.decode()
    response = post(client, url, {"action": "merge", "into": cam1.pk, "reason": "same camera"})
    assert response.status_code == 302 and response["Location"] == "/moderation/devices/acme/cam-1/"
    assert "Cam One is merged into Cam 1 (1 submissions" in client.get(response["Location"]).content.decode()
    duplicate.refresh_from_db()
    assert duplicate.merged_into == cam1
    assert Submission.objects.filter(device_model=cam1).count() == 4
    removed = Change.objects.get(kind="removed", device_model=duplicate)
    assert removed.merged_into == cam1
    page = client.get("/devices/acme/cam-one/").content.decode()
    assert 'it is merged into <a href="/devices/acme/cam-1/">Cam 1</a>' in page
