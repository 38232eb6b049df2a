"""Loose edges closed for every input serializer and list filter: unknown members, strings
that are not strings, names with control characters, blank filters, unknown orderings."""

from __future__ import annotations

import json

import pytest

from profiles.models import DeviceModel, ModerationDecision, Submission, SubmissionReport, Vote
from tests.helpers import flow, payload

pytestmark = pytest.mark.django_db


def problems(response) -> list[tuple[str, str]]:
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "invalid_input"
    return sorted((p["code"], p["path"]) for p in body["errors"])


@pytest.mark.parametrize(
    ("extra", "path"),
    [
        ({"device": {"manufacturer": "Acme", "model": "Cam", "colour": "red"}}, "/device/colour"),
        ({"observation": {"collector": "gw-1", "weather": "fine"}}, "/observation/weather"),
        ({"colour": "red"}, "/colour"),
    ],
)
def test_an_unknown_member_anywhere_in_a_submission_is_a_400(auth_api, submit, extra, path):
    body = {**payload(flow("api.acme.example")), **extra}
    assert problems(submit(auth_api(), body)) == [("unknown_member", path)]
    assert Submission.objects.count() == 0


def test_every_unknown_member_is_listed_at_once(auth_api, submit):
    body = payload(flow("api.acme.example"), observation={"x": 1}, extra=2)
    body["device"]["y"] = 3
    found = problems(submit(auth_api(), body))
    assert found == [("unknown_member", path) for path in ("/device/y", "/extra", "/observation/x")]


@pytest.mark.parametrize("name", ["Acme\nCorp", "Acme\tCorp", "Acme\rCorp"])
@pytest.mark.parametrize("member", ["manufacturer", "model", "firmware"])
def test_a_device_name_with_a_control_character_is_refused(auth_api, submit, name, member):
    body = payload(flow("api.acme.example"), firmware="1.0")
    body["device"][member] = name
    assert problems(submit(auth_api(), body)) == [("control_character", f"/device/{member}")]
    assert DeviceModel.objects.count() == 0


@pytest.mark.parametrize("value", [0, 1.5, True, [], {}])
def test_a_string_member_given_another_json_type_is_refused(auth_api, submit, value):
    body = payload(flow("api.acme.example"))
    body["device"]["manufacturer"] = value
    assert ("wrong_type", "/device/manufacturer") in problems(submit(auth_api(), body))


def test_reason_0_is_refused_for_votes_decisions_and_reports(auth_api, submit):
    author = auth_api(trust_level=2)
    stored = submit(author, payload(flow("api.acme.example"))).json()
    voter = auth_api(trust_level=2)
    vote = {"device_model": stored["device_model"], "flow": "x", "value": 1, "reason": 0}
    assert ("wrong_type", "/reason") in problems(voter.post("/api/v1/votes/", vote, format="json"))
    moderator = auth_api(trust_level=3, is_moderator=True)
    decision = {"kind": "freeze", "device_model": stored["device_model"], "reason": 0}
    recorded = moderator.post("/api/v1/moderation/decisions/", decision, format="json")
    assert ("wrong_type", "/reason") in problems(recorded)
    report = voter.post(f"/api/v1/submissions/{stored['id']}/report/", {"reason": 0}, format="json")
    assert problems(report) == [("wrong_type", "/reason")]
    assert (Vote.objects.count(), ModerationDecision.objects.count(), SubmissionReport.objects.count()) == (0, 0, 0)


def test_unknown_members_of_votes_and_logins_are_refused(auth_api, api):
    login = api.post("/api/v1/auth/token/", {"username": "a", "password": "b", "otp": "1"}, format="json")
    assert problems(login) == [("unknown_member", "/otp")]
    vote = auth_api(trust_level=2).post("/api/v1/votes/", {"value": 1, "weight": 9}, format="json")
    assert ("unknown_member", "/weight") in problems(vote)


@pytest.mark.parametrize(
    ("url", "name"),
    [
        ("/api/v1/device-models/?updated_since=", "updated_since"),
        ("/api/v1/device-models/?q=", "q"),
        ("/api/v1/device-models/?manufacturer=", "manufacturer"),
        ("/api/v1/manufacturers/?slug=", "slug"),
        ("/api/v1/submissions/?status=", "status"),
        ("/api/v1/votes/?value=", "value"),
        ("/api/v1/moderation/decisions/?kind=", "kind"),
    ],
)
def test_a_blank_filter_is_a_400_not_no_filter(api, url, name):
    assert problems(api.get(url)) == [("blank", f"/{name}")]


@pytest.mark.parametrize("ordering", ["nope", "", "slug,nope", "--slug", "manufacturer__name"])
def test_an_unknown_ordering_is_a_400(api, ordering):
    response = api.get("/api/v1/device-models/", {"ordering": ordering})
    assert problems(response) == [("invalid_choice", "/ordering")]
    assert "updated_at" in response.json()["errors"][0]["message"]


def test_known_orderings_still_work(api, auth_api, submit):
    submit(auth_api(), payload(flow("a.example"), model="B"))
    submit(auth_api(), payload(flow("a.example"), model="A"))
    slugs = [m["slug"] for m in api.get("/api/v1/device-models/?ordering=-slug,created_at").json()["results"]]
    assert slugs == ["b", "a"]


@pytest.mark.parametrize(
    ("member", "value"),
    [("documentation", "javascript:alert(1)"), ("mud-signature", "data:text/html,x"),
     ("documentation", "file:///etc/passwd")],
)  # fmt: skip
def test_a_mud_file_with_a_dangerous_uri_is_refused_with_the_reason(auth_api, submit, member, value):
    from tests.mud.helpers import doc

    mud = doc()
    mud["ietf-mud:mud"][member] = value
    response = submit(auth_api(), {"device": {"manufacturer": "A", "model": "B"}, "mud": mud})
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert [(p["code"], p["path"]) for p in errors] == [("invalid-uri-scheme", f"/mud/ietf-mud:mud/{member}")]
    assert "not " + value.split(":")[0] + ":" in errors[0]["message"]
    assert Submission.objects.count() == 0


@pytest.mark.parametrize("kind", ["controller", "model"])
def test_a_native_flow_with_a_dangerous_peer_uri_is_refused(auth_api, submit, kind):
    bad = {"direction": "from-device", "peer_kind": kind, "peer": "javascript:alert(document.cookie)"}
    response = submit(auth_api(), payload(bad))
    assert response.status_code == 400
    assert [(p["code"], p["path"]) for p in response.json()["errors"]] == [("invalid_uri_scheme", "/flows/0/peer")]


def test_a_nul_anywhere_in_a_body_is_refused_before_the_database_sees_it(auth_api):
    body = json.dumps(payload(flow("api.acme.example")))
    body = body.replace('"Acme"', '"Ac\\u0000me"')
    response = auth_api().post("/api/v1/submissions/", body.encode(), content_type="application/json")
    assert response.status_code == 400
    found = [(p["code"], p["path"]) for p in response.json()["errors"]]
    assert found == [("control-character", "/device/manufacturer")]


@pytest.mark.parametrize("stamp", ["9999-12-31T23:59:59-12:00", "0001-01-01T00:00:00+12:00"])
def test_a_date_time_filter_out_of_range_in_utc_is_a_400(api, stamp):
    assert problems(api.get("/api/v1/device-models/", {"updated_since": stamp})) == [("overflow", "/updated_since")]


def test_a_date_time_filter_in_range_filters(api, auth_api, submit):
    submit(auth_api(), payload(flow("a.example")))
    assert api.get("/api/v1/device-models/", {"updated_since": "2000-01-01T00:00:00+14:00"}).json()["count"] == 1
    assert api.get("/api/v1/device-models/", {"updated_since": "9999-12-31T00:00:00Z"}).json()["count"] == 0
