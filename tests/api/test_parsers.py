"""Every JSON body is read strictly: duplicate members and lone surrogates are a 400 listing
each with its JSON pointer, on every endpoint, and nothing is stored for them."""

from __future__ import annotations

import json

import pytest

from profiles.models import ModerationDecision, Submission, Vote
from tests.helpers import HUE, flow, payload, real_mud
from tests.support import require_shared

pytestmark = pytest.mark.django_db


def post_raw(client, url: str, raw: bytes):
    return client.post(url, raw, content_type="application/json")


def problem_list(response) -> list[tuple[str, str]]:
    assert response.status_code == 400, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["code"] == "malformed_json"
    assert body["message"]
    return [(p["code"], p["path"]) for p in body["errors"]]


def test_a_submission_with_a_duplicate_key_deep_in_its_mud_file_is_refused(auth_api):
    require_shared()
    text = json.dumps({"device": {"manufacturer": "Philips", "model": "Hue"}, "mud": real_mud(HUE)})
    # The same member twice in the metadata, and once more in the first ACE's matches.
    text = text.replace('"mud-version": 1', '"mud-version": 1, "mud-version": 1', 1)
    text = text.replace('"matches": {', '"matches": {"ipv4": {}, ', 1)
    response = post_raw(auth_api(), "/api/v1/submissions/", text.encode())
    found = problem_list(response)
    assert ("duplicate-key", "/mud/ietf-mud:mud/mud-version") in found
    assert any(path.startswith("/mud/ietf-access-control-list:access-lists/") and path.endswith("/matches/ipv4")
               for code, path in found if code == "duplicate-key")  # fmt: skip
    assert len(found) == 2
    assert Submission.objects.count() == 0


def test_a_duplicate_top_level_member_is_refused_not_last_one_wins(auth_api):
    raw = json.dumps(payload(flow("a.example")))[:-1] + ', "device": {"manufacturer": "B", "model": "C"}}'
    assert problem_list(post_raw(auth_api(), "/api/v1/submissions/", raw.encode())) == [("duplicate-key", "/device")]
    assert Submission.objects.count() == 0


@pytest.mark.parametrize(
    "raw",
    [
        b'{"device": {"manufacturer": "A", "model": "B"}, "flows": [{"direction": "from-device", "peer": "\\ud800"}]}',
        b'{"device": {"manufacturer": "A\\udc00", "model": "B"}, "flows": []}',
        b'{"\\ud800": 1, "device": {"manufacturer": "A", "model": "B"}, "flows": []}',
        b'{"device": {"manufacturer": "A", "model": "B"}, "mud": {"ietf-mud:mud": {"systeminfo": "\\udbff"}}}',
    ],
)
def test_a_lone_surrogate_anywhere_in_a_submission_is_a_400(auth_api, raw):
    found = problem_list(post_raw(auth_api(), "/api/v1/submissions/", raw))
    assert [code for code, _ in found] == ["invalid-string"]
    assert Submission.objects.count() == 0


def test_the_pointer_names_the_member_with_the_surrogate(auth_api):
    raw = b'{"device": {"manufacturer": "A", "model": "B"}, "flows": [{"peer": "x"}, {"peer": "\\ud800"}]}'
    assert problem_list(post_raw(auth_api(), "/api/v1/submissions/", raw)) == [("invalid-string", "/flows/1/peer")]


def test_a_surrogate_in_a_member_name_is_escaped_in_the_pointer(auth_api):
    response = post_raw(auth_api(), "/api/v1/submissions/", b'{"a\\ud800b": 1}')
    assert problem_list(response) == [("invalid-string", "/a\\ud800b")]


def test_votes_and_decisions_refuse_surrogates_and_duplicates(auth_api):
    voter = auth_api(trust_level=2)
    assert problem_list(post_raw(voter, "/api/v1/votes/", b'{"value": "\\ud800"}')) == [("invalid-string", "/value")]
    twice = post_raw(voter, "/api/v1/votes/", b'{"value": 1, "value": -1}')
    assert problem_list(twice) == [("duplicate-key", "/value")]
    moderator = auth_api(trust_level=3, is_moderator=True)
    found = problem_list(post_raw(moderator, "/api/v1/moderation/decisions/", b'{"kind": "\\ud800"}'))
    assert found == [("invalid-string", "/kind")]
    assert Vote.objects.count() == 0
    assert ModerationDecision.objects.count() == 0


def test_the_token_login_refuses_a_duplicate_password(client):
    raw = b'{"username": "someone", "password": "a", "password": "b"}'
    assert problem_list(post_raw(client, "/api/v1/auth/token/", raw)) == [("duplicate-key", "/password")]


def test_malformed_json_names_where_it_broke(client):
    found = problem_list(post_raw(client, "/api/v1/auth/token/", b'{"username": '))
    assert found == [("not-json", "/")]
