"""The contributor page and the moderation queue from the pages."""

from __future__ import annotations

import pytest

from profiles.models import ModerationDecision, Submission
from tests.factories import ContributorFactory
from tests.web.data import H_KEY, high_risk_flow_waiting

pytestmark = pytest.mark.django_db


def test_a_contributor_page_says_what_the_next_level_needs(client):
    person = ContributorFactory(trust_level=0, age_days=1)
    body = client.get(f"/contributors/{person.user.username}/").content.decode()
    assert "TL0 new" in body
    assert "an account at least 3 days old" in body
    assert "3 more valid submission(s)" in body


def test_an_unknown_contributor_is_a_404_page(client):
    response = client.get("/contributors/nobody-here/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_only_moderators_see_the_queue(client):
    client.force_login(ContributorFactory(trust_level=3).user)
    assert client.get("/moderation/").status_code == 403
    assert client.post("/moderation/decide/", {"kind": "approve"}).status_code == 403


def test_the_queue_lists_a_waiting_high_risk_flow_and_one_click_approves_it(client):
    model = high_risk_flow_waiting()
    moderator = ContributorFactory(trust_level=3, is_moderator=True)
    client.force_login(moderator.user)
    body = client.get("/moderation/").content.decode()
    assert H_KEY in body and "ip" in body
    # The evidence: the eight submissions behind the flow, each a link, and its TL2+ groups.
    backers = Submission.objects.filter(device_model=model, firmware__version="1.0")
    assert backers.count() == 8
    for submission in backers:
        assert f'<a href="/submissions/{submission.pk}/">submission {submission.pk}</a>' in body
    assert "from 8 groups (8 with a TL2+ member)" in body
    response = client.post(
        "/moderation/decide/",
        {"kind": "approve", "device_model": model.pk, "flow": H_KEY, "firmware": "1.0", "reason": "checked"},
    )
    assert response.status_code == 302
    decision = ModerationDecision.objects.get()
    assert (decision.kind, decision.firmware, decision.moderator) == ("approve", "1.0", moderator)


def test_a_decision_without_a_reason_is_refused_with_the_problem(client):
    model = high_risk_flow_waiting()
    client.force_login(ContributorFactory(trust_level=3, is_moderator=True).user)
    response = client.post("/moderation/decide/", {"kind": "approve", "device_model": model.pk, "flow": H_KEY})
    assert response.status_code == 400
    assert "every decision gives its reason" in response.content.decode()
    assert not ModerationDecision.objects.exists()
