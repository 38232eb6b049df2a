"""Contributing from the pages: the check stores nothing, a submit keeps the bytes sent."""

from __future__ import annotations

import json

import pytest

from profiles import mud
from profiles.models import Submission, SubmissionReport
from tests.factories import ContributorFactory
from tests.helpers import HUE, flow
from tests.support import DATASET, require_shared
from tests.web.data import submit

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def member(client):
    person = ContributorFactory(trust_level=1)
    client.force_login(person.user)
    return person


def form(**fields):
    return {"manufacturer": "Acme", "model": "Cam 1", "firmware": "1.0", "kind": "mud", **fields}


def test_contributing_needs_an_account(client):
    response = client.get("/contribute/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/contribute/")


def test_a_check_lists_every_problem_with_its_path_and_stores_nothing(client, member):
    document = {"ietf-mud:mud": {"mud-version": 9}}
    response = client.post("/contribute/", form(document=json.dumps(document), action="check"), **HTMX)
    body = response.content.decode()
    assert "3 problems: nothing was stored" in body
    assert "/mud/ietf-mud:mud/mud-version" in body
    assert "/mud/ietf-mud:mud/is-supported" in body
    assert not Submission.objects.exists()


def test_text_that_is_not_json_is_a_problem_not_an_error(client, member):
    response = client.post("/contribute/", form(document="{not json", action="submit"))
    assert response.status_code == 400
    assert "not JSON" in response.content.decode()
    assert not Submission.objects.exists()


def test_a_real_mud_file_shows_its_warnings_and_is_kept_byte_for_byte(client, member):
    require_shared()
    raw = (DATASET / HUE).read_bytes()
    parsed = mud.parse(raw, mode="import")
    check = client.post("/contribute/", form(document=raw.decode(), action="check"), **HTMX).content.decode()
    assert f"Ready to submit: {len(parsed.flows)} flows from {parsed.ace_count} ACEs" in check
    assert f"{len(parsed.warnings)} warnings" in check and "no model-name" in check
    response = client.post("/contribute/", form(document=raw.decode(), action="submit"), **HTMX)
    submission = Submission.objects.get()
    assert response["HX-Redirect"] == f"/submissions/{submission.pk}/"
    assert bytes(submission.raw) == raw
    assert (submission.device_model.name, submission.firmware.version) == ("Cam 1", "1.0")
    assert len(submission.warnings) == len(parsed.warnings)


def test_a_flow_list_is_submitted_with_its_observation_window(client, member):
    flows = json.dumps([flow("api.acme.example"), flow("ntp.acme.example", 123, protocol=17)])
    response = client.post(
        "/contribute/",
        form(kind="flows", document=flows, start="2026-11-01T00:00", end="2026-11-02T12:00", action="submit"),
    )
    submission = Submission.objects.get()
    assert response.status_code == 302
    assert (submission.format, submission.flow_count, submission.window_hours) == ("flows", 2, 36.0)


def test_a_window_that_ends_before_it_starts_is_refused(client, member):
    flows = json.dumps([flow("api.acme.example")])
    body = client.post(
        "/contribute/",
        form(kind="flows", document=flows, start="2026-11-03T00:00", end="2026-11-02T00:00", action="submit"),
    ).content.decode()
    assert "/observation/start" in body and "starts after it ends" in body
    assert not Submission.objects.exists()


def test_the_daily_limit_of_the_api_applies_to_the_page(client):
    newcomer = ContributorFactory(trust_level=0)
    client.force_login(newcomer.user)
    for n in range(4):
        document = json.dumps([flow(f"host{n}.acme.example")])
        response = client.post("/contribute/", form(kind="flows", document=document, action="submit"))
    assert Submission.objects.count() == 3
    assert "You have reached your submissions for today." in response.content.decode()


def test_a_submission_page_shows_how_each_flow_fared(client, member):
    submit(member, {"device": {"manufacturer": "Acme", "model": "Cam 1", "firmware": "1.0"},
                    "flows": [flow("api.acme.example")]})  # fmt: skip
    submission = Submission.objects.get()
    body = client.get(f"/submissions/{submission.pk}/").content.decode()
    assert "How its flows fared" in body
    assert "dnsname=api.acme.example" in body
    mine = client.get("/submissions/").content.decode()
    assert f"/submissions/{submission.pk}/" in mine


def test_a_country_that_is_not_an_iso_code_is_a_problem_at_its_path(client, member):
    flows = json.dumps([flow("api.acme.example")])
    body = client.post(
        "/contribute/", form(kind="flows", document=flows, country="Germany", action="check")
    ).content.decode()
    assert "/observation/country" in body
    assert not Submission.objects.exists()


def test_someone_else_reports_a_submission_once_and_it_joins_the_queue(client, member):
    author = ContributorFactory(trust_level=1)
    submit(author, {"device": {"manufacturer": "Acme", "model": "Cam 1"}, "flows": [flow("api.acme.example")]})
    submission = Submission.objects.get()
    url = f"/submissions/{submission.pk}/"
    assert "Report it to the moderators" in client.get(url).content.decode()
    response = client.post(url + "report/", {"reason": "these flows were made up"}, **HTMX)
    body = response.content.decode()
    assert response.status_code == 200 and body.lstrip().startswith('<div id="report">')
    assert "You reported this submission" in body and "It waits in the moderation queue." in body
    client.post(url + "report/", {"reason": "again"}, **HTMX)
    report = SubmissionReport.objects.get()
    assert (report.reporter, report.reason) == (member, "these flows were made up")
    page = client.get(url).content.decode()
    assert "Report it to the moderators" not in page and "these flows were made up" in page


def test_a_report_without_a_reason_says_so_and_stores_nothing(client, member):
    submit(ContributorFactory(trust_level=1), {"device": {"manufacturer": "Acme", "model": "Cam 1"},
                                               "flows": [flow("api.acme.example")]})  # fmt: skip
    submission = Submission.objects.get()
    response = client.post(f"/submissions/{submission.pk}/report/", {"reason": "  "})
    assert response.status_code == 400
    assert "a report gives its reason" in response.content.decode()
    assert not SubmissionReport.objects.exists()


def test_nobody_is_offered_to_report_their_own_submission_and_visitors_must_log_in(client, member):
    submit(member, {"device": {"manufacturer": "Acme", "model": "Cam 1"}, "flows": [flow("api.acme.example")]})
    submission = Submission.objects.get()
    assert "Report it to the moderators" not in client.get(f"/submissions/{submission.pk}/").content.decode()
    client.logout()
    response = client.post(f"/submissions/{submission.pk}/report/", {"reason": "spam"})
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert not SubmissionReport.objects.exists()
