import hashlib
import json

import pytest

from profiles.models import DeviceModel, Submission
from tests.helpers import HUE, flow, payload, real_mud
from tests.support import require_shared

pytestmark = pytest.mark.django_db


def test_it_stores_a_native_flow_submission(auth_api, submit):
    client = auth_api(trust_level=2)
    response = submit(client, payload(flow("api.acme.example"), flow("API.Acme.Example.", direction="to-device")))
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["flow_count"] == 2
    assert body["status"] == "active"
    assert body["manufacturer"] == "acme"
    assert body["model"] == "cam-1"
    assert body["firmware"] == "unknown"
    stored = Submission.objects.get(pk=body["id"])
    assert stored.contributor == client.contributor


def test_it_keeps_the_raw_bytes_exactly(auth_api, submit):
    client = auth_api()
    raw = json.dumps(payload(flow("api.acme.example")), indent=3).encode() + b"\n\n"
    response = client.post("/api/v1/submissions/", raw, content_type="application/json")
    assert response.status_code == 201, response.content
    stored = Submission.objects.get(pk=response.json()["id"])
    assert bytes(stored.raw) == raw
    assert stored.sha256 == hashlib.sha256(raw).hexdigest()
    download = client.get(response.json()["raw_url"])
    assert download.status_code == 200
    assert download.content == raw


def test_the_same_bytes_twice_give_the_same_submission(auth_api, submit):
    client = auth_api()
    first = submit(client, payload(flow("api.acme.example")))
    again = submit(client, payload(flow("api.acme.example")))
    assert first.status_code == 201
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert Submission.objects.count() == 1


def test_another_contributor_with_the_same_bytes_is_another_submission(auth_api, submit):
    submit(auth_api(), payload(flow("api.acme.example")))
    response = submit(auth_api(), payload(flow("api.acme.example")))
    assert response.status_code == 201
    assert Submission.objects.count() == 2


def test_a_newer_submission_supersedes_the_older_for_the_same_model_and_firmware(auth_api, submit):
    client = auth_api()
    old = submit(client, payload(flow("a.acme.example"), firmware="1.0")).json()
    other_firmware = submit(client, payload(flow("a.acme.example"), firmware="2.0")).json()
    new = submit(client, payload(flow("b.acme.example"), firmware="1.0")).json()
    assert Submission.objects.get(pk=old["id"]).status == "superseded"
    assert Submission.objects.get(pk=old["id"]).superseded_by_id == new["id"]
    assert Submission.objects.get(pk=other_firmware["id"]).status == "active"
    assert Submission.objects.get(pk=new["id"]).status == "active"


@pytest.mark.shared
def test_it_imports_a_real_mudgee_file_with_dialect_warnings(auth_api, submit):
    require_shared()
    response = submit(auth_api(), {"device": {"manufacturer": "Philips", "model": "Hue Bulb"}, "mud": real_mud(HUE)})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["format"] == "mud"
    assert body["flow_count"] > 10
    codes = {w["code"] for w in body["warnings"]}
    assert "dialect-access-lists" in codes
    assert all(w["path"].startswith("/mud/") for w in body["warnings"])


def test_it_takes_mfg_and_model_names_from_the_mud_file(auth_api, submit, settings):
    mud = {
        "ietf-mud:mud": {
            "mud-version": 1,
            "mud-url": "https://lumen.example/bulb.json",
            "last-update": "2024-01-01T00:00:00Z",
            "is-supported": True,
            "mfg-name": "Lumen Home",
            "model-name": "Bulb A19",
            "from-device-policy": {"access-lists": {"access-list": [{"name": "out"}]}},
        },
        "ietf-access-control-list:acls": {
            "acl": [
                {
                    "name": "out",
                    "type": "ipv4-acl-type",
                    "aces": {
                        "ace": [
                            {
                                "name": "cloud",
                                "matches": {
                                    "ipv4": {"protocol": 6, "ietf-acldns:dst-dnsname": "api.lumen.example"},
                                    "tcp": {"destination-port": {"operator": "eq", "port": 443}},
                                },
                                "actions": {"forwarding": "accept"},
                            }
                        ]
                    },
                }
            ]
        },
    }
    response = submit(auth_api(), {"mud": mud})
    assert response.status_code == 201, response.content
    assert response.json()["manufacturer"] == "lumen-home"
    assert response.json()["model"] == "bulb-a19"


def test_it_lists_every_problem_at_once(auth_api):
    bad = {
        "device": {"manufacturer": "Acme", "model": "Cam"},
        "observation": {"start": "2024-02-01T00:00:00Z", "end": "yesterday"},
        "flows": [
            flow("api.acme.example", 70000),
            {"direction": "sideways", "family": "ipv4"},
            flow("*.acme.example"),
        ],
        "extra_member": 1,
    }
    response = auth_api().post("/api/v1/submissions/", bad, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid_input"
    paths = {p["path"] for p in body["errors"]}
    assert {"/observation/end", "/flows/0/dst_port", "/flows/1/direction", "/flows/2/peer", "/extra_member"} <= paths
    assert Submission.objects.count() == 0
    assert DeviceModel.objects.count() == 0


def test_a_broken_mud_file_reports_its_problems_with_paths(auth_api):
    mud = {"ietf-mud:mud": {"mud-version": 1, "cache-validity": 500}}
    response = auth_api().post(
        "/api/v1/submissions/", {"device": {"manufacturer": "A", "model": "B"}, "mud": mud}, format="json"
    )
    assert response.status_code == 400
    problems = response.json()["errors"]
    assert any(p["path"] == "/mud/ietf-mud:mud/cache-validity" for p in problems)
    assert sum(1 for p in problems if p["path"].startswith("/mud")) >= 3  # mud-url, last-update, is-supported too


def test_it_needs_a_manufacturer_and_model(auth_api):
    response = auth_api().post("/api/v1/submissions/", {"flows": [flow("api.acme.example")]}, format="json")
    assert response.status_code == 400
    assert {p["path"] for p in response.json()["errors"]} == {"/device/manufacturer", "/device/model"}


def test_it_needs_exactly_one_of_mud_and_flows(auth_api):
    response = auth_api().post("/api/v1/submissions/", {"device": {"manufacturer": "A", "model": "B"}}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "content_required"


def test_an_observation_in_the_future_is_rejected(auth_api):
    response = auth_api().post(
        "/api/v1/submissions/",
        payload(flow("api.acme.example"), observation={"end": "2999-01-01T00:00:00Z"}),
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "in_future"


def test_an_oversized_body_is_a_413(auth_api, settings):
    settings.MUDHUB_MAX_BODY_BYTES = 2000
    big = payload(*[flow(f"host{i}.acme.example") for i in range(100)])
    response = auth_api().post("/api/v1/submissions/", big, format="json")
    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"
    assert Submission.objects.count() == 0


def test_deeply_nested_json_is_a_400_not_a_crash(auth_api):
    body = b'{"mud": ' + b"[" * 100000 + b"]" * 100000 + b"}"
    response = auth_api().post("/api/v1/submissions/", body, content_type="application/json")
    assert response.status_code in (400, 413)
    assert response.json()["code"] in ("malformed_json", "invalid_input", "payload_too_large")


def test_writes_need_a_token(api):
    response = api.post("/api/v1/submissions/", payload(flow("api.acme.example")), format="json")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_the_list_filters_and_rejects_unknown_values(auth_api, submit, api):
    alice, bob = auth_api(), auth_api()
    submit(alice, payload(flow("a.acme.example")))
    submit(bob, payload(flow("b.acme.example"), model="Plug"))
    name = alice.contributor.user.username
    listed = api.get(f"/api/v1/submissions/?contributor={name}").json()
    assert [row["contributor"] for row in listed["results"]] == [name]
    model_id = DeviceModel.objects.get(slug="plug").pk
    assert api.get(f"/api/v1/submissions/?device_model={model_id}").json()["count"] == 1
    assert api.get("/api/v1/submissions/?status=active").json()["count"] == 2
    for bad in ("contributor=nobody", "device_model=999999", "status=sleeping", "manufacturer=nope"):
        response = api.get(f"/api/v1/submissions/?{bad}")
        assert response.status_code == 400, bad
        assert response.json()["code"] == "invalid_input"


def test_a_routine_submission_runs_a_fixed_handful_of_queries(auth_api, submit, django_assert_max_num_queries):
    """An established contributor re-submitting a known model with one new flow: token,
    contributor, duplicate check, manufacturer, model, firmware, flows (look up, insert the
    new one, read its id, its peer domain), insert, supersede, dirty mark, and three
    savepoint statements. No sweep of the user's other tokens, no burst check for an old
    account, no re-read for the response."""
    client = auth_api(trust_level=2)
    flows = [flow(f"h{i}.acme.example") for i in range(20)]
    assert submit(client, payload(*flows, firmware="2.0")).status_code == 201
    with django_assert_max_num_queries(17) as captured:
        # Posted without `submit`: the recompute its commit queues is not part of the request.
        body = payload(*flows[1:], flow("h0.acme.example", 8443), firmware="2.0")
        response = client.post("/api/v1/submissions/", body, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["manufacturer"] == "acme"
    sql = [q["sql"] for q in captured.captured_queries]
    assert not any('WHERE "knox_authtoken"."user_id" =' in q for q in sql)  # knox's sweep of other tokens
    assert not any('FROM "profiles_submission" INNER JOIN "profiles_contributor"' in q for q in sql)  # burst check
