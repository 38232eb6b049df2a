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


def test_a_moderator_decides_on_an_account_from_its_page(client):
    person = ContributorFactory(trust_level=2)
    name = person.user.username
    client.force_login(ContributorFactory(trust_level=1).user)
    assert "Moderate this account" not in client.get(f"/contributors/{name}/").content.decode()
    moderator = ContributorFactory(trust_level=3, is_moderator=True)
    client.force_login(moderator.user)
    page = client.get(f"/contributors/{name}/").content.decode()
    assert 'value="grant_tl3">Grant trusted (TL3)</button>' in page and 'value="suspend"' in page
    refused = client.post("/moderation/decide/", {"contributor": name, "kind": "suspend", "reason": ""})
    assert refused.status_code == 400 and "every decision gives its reason" in refused.content.decode()
    assert "Moderate this account" in refused.content.decode()  # the contributor's page, with the problem
    response = client.post("/moderation/decide/", {"contributor": name, "kind": "suspend", "reason": "spam wave"})
    assert response.status_code == 302 and response["Location"] == f"/contributors/{name}/"
    decision = ModerationDecision.objects.get()
    assert (decision.kind, decision.contributor, decision.moderator, decision.reason) == (
        "suspend", person, moderator, "spam wave"
    )  # fmt: skip
    person.refresh_from_db()
    assert person.suspended
    assert "Recorded: suspend an account." in client.get(f"/contributors/{name}/").content.decode()


def test_a_moderator_lifts_a_login_lockout_and_the_person_logs_in(client, settings):
    person = ContributorFactory()
    name = person.user.username
    for _ in range(settings.MUDHUB_LOGIN_FAILURES_PER_USERNAME):
        client.post("/accounts/login/", {"username": name, "password": "wrong"})
    right = {"username": name, "password": "correct horse battery staple"}
    assert client.post("/accounts/login/", right).status_code == 429
    client.force_login(ContributorFactory(trust_level=3, is_moderator=True).user)
    bad = client.post("/moderation/login-lockouts/lift/", {"network": "not an address"})
    assert bad.status_code == 400 and "<code>/network</code> an IPv4 or IPv6 address" in bad.content.decode()
    response = client.post("/moderation/login-lockouts/lift/", {"username": name})
    assert response.status_code == 302
    assert f"Lifted the lockout of {name}." in client.get("/moderation/").content.decode()
    client.logout()
    assert client.post("/accounts/login/", right).status_code == 302


def test_only_moderators_lift_lockouts(client):
    client.force_login(ContributorFactory(trust_level=3).user)
    assert client.post("/moderation/login-lockouts/lift/", {"username": "x"}).status_code == 403
