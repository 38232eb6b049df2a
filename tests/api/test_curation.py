"""Moderators withdraw, restore and merge device models; gateways see it everywhere they look:
/mud/ answers 410, the publish directory and the signed index drop the files, the feed says
`removed` (with `merged_into` for a merge), and nothing publishes a withdrawn model again."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import TestCase

from profiles.models import Change, ConsensusProfile, DeviceModel, DeviceModelAlias, ModerationDecision, Submission
from profiles.services.index import index_current
from tests.delivery import publish_model
from tests.helpers import flow, payload, settle

pytestmark = pytest.mark.django_db


@pytest.fixture
def moderator(auth_api: Any) -> Any:
    return auth_api(trust_level=3, is_moderator=True)


@pytest.fixture
def site(settings: Any, tmp_path: Path) -> Path:
    settings.MUDHUB_PUBLISH_DIR = str(tmp_path / "site")
    return tmp_path / "site"


def post(client: Any, url: str, **body: Any) -> Any:
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(url, body, format="json")


def indexed_paths() -> set[str]:
    index = index_current()
    assert index is not None
    return {entry["path"] for entry in json.loads(bytes(index.body))["files"]}


def feed_after(client: Any, since: int) -> list[dict[str, Any]]:
    return client.get(f"/api/v1/changes/?since={since}").json()["results"]


def test_a_withdrawn_model_is_gone_from_every_place_a_gateway_looks(client, moderator, auth_api, submit, site):
    publish_model(auth_api, submit)
    model = DeviceModel.objects.get(slug="cam-1")
    current = ConsensusProfile.objects.filter(device_model=model, is_current=True)
    scopes = sorted(current.values_list("scope", flat=True))
    assert scopes == ["1.0", "latest"]
    assert (site / "mud/acme/cam-1.json").exists() and "mud/acme/cam-1.json" in indexed_paths()
    since = Change.objects.order_by("-seq").first().seq

    response = post(moderator, f"/api/v1/device-models/{model.pk}/withdraw/", reason="a fabricated model")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["withdrawn"] is True and sorted(body["removed"]) == scopes and len(body["changes"]) == 2

    for url in ("/mud/acme/cam-1.json", "/mud/acme/cam-1.p7s", "/mud/acme/cam-1/1.0.json"):
        gone = client.get(url)
        assert gone.status_code == 410, url
        assert gone.json()["code"] == "withdrawn"
    assert not list((site / "mud/acme").rglob("*.json")) and not list((site / "mud/acme").rglob("*.p7s"))
    assert not {p for p in indexed_paths() if p.startswith("mud/acme/cam-1")}
    entries = feed_after(client, since)
    assert [(e["kind"], e["scope"], e["merged_into"]) for e in entries] == [
        ("removed", scope, None) for scope in sorted(scopes, key=lambda s: body["removed"].index(s))
    ]
    decision = ModerationDecision.objects.get(pk=body["decision"])
    assert decision.kind == "withdraw_model" and decision.moderator == moderator.contributor
    assert decision.reason == "a fabricated model" and decision.device_model == model
    listed = client.get(f"/api/v1/moderation/decisions/{decision.pk}/").json()
    assert listed["kind"] == "withdraw_model" and listed["merged_into"] is None

    # New evidence recomputes the model but publishes nothing while it is withdrawn.
    count = ConsensusProfile.objects.filter(device_model=model).count()
    assert submit(auth_api(trust_level=3), payload(flow("new.acme.example"), firmware="1.0")).status_code == 201
    settle(model.pk)
    assert ConsensusProfile.objects.filter(device_model=model).count() == count
    assert client.get("/mud/acme/cam-1.json").status_code == 410

    # Restored: served again, with a version number after the withdrawn one.
    before = ConsensusProfile.objects.filter(device_model=model, scope="latest").order_by("-version").first()
    restored = post(moderator, f"/api/v1/device-models/{model.pk}/restore/", reason="it was genuine")
    assert restored.status_code == 200, restored.content
    settle(model.pk)
    served = client.get("/mud/acme/cam-1.json")
    assert served.status_code == 200
    current = ConsensusProfile.objects.get(device_model=model, scope="latest", is_current=True)
    assert current.version > before.version and (site / "mud/acme/cam-1.json").read_bytes() == served.content
    assert "mud/acme/cam-1.json" in indexed_paths()


def test_one_scope_is_withdrawn_alone(client, moderator, auth_api, submit, site):
    publish_model(auth_api, submit)
    model = DeviceModel.objects.get(slug="cam-1")
    response = post(moderator, f"/api/v1/device-models/{model.pk}/withdraw/", reason="bad firmware", scope="1.0")
    assert response.status_code == 200, response.content
    assert response.json()["removed"] == ["1.0"] and response.json()["withdrawn_scopes"] == ["1.0"]
    assert client.get("/mud/acme/cam-1/1.0.json").status_code == 410
    assert client.get("/mud/acme/cam-1.json").status_code == 200
    assert (site / "mud/acme/cam-1.json").exists() and not (site / "mud/acme/cam-1/1.0.json").exists()
    assert indexed_paths() >= {"mud/acme/cam-1.json"} and "mud/acme/cam-1/1.0.json" not in indexed_paths()
    again = post(moderator, f"/api/v1/device-models/{model.pk}/withdraw/", reason="again", scope="1.0")
    assert again.status_code == 409 and again.json()["code"] == "already_withdrawn"


def test_bad_withdrawals_are_refused_with_every_problem(client, moderator, auth_api, submit):
    publish_model(auth_api, submit)
    model = DeviceModel.objects.get(slug="cam-1")
    url = f"/api/v1/device-models/{model.pk}/withdraw/"
    member = auth_api(trust_level=3)
    assert post(member, url, reason="mine").status_code == 403
    assert client.post(url, {"reason": "anonymous"}, content_type="application/json").status_code in (401, 403)
    missing = post(moderator, url)
    assert missing.status_code == 400 and [p["path"] for p in missing.json()["errors"]] == ["/reason"]
    unknown = post(moderator, url, reason="x", scope="9.9")
    assert unknown.status_code == 400 and unknown.json()["errors"][0]["code"] == "unknown_scope"
    assert post(moderator, "/api/v1/device-models/999999/withdraw/", reason="x").status_code == 404
    not_withdrawn = post(moderator, f"/api/v1/device-models/{model.pk}/restore/", reason="x")
    assert not_withdrawn.status_code == 409 and not_withdrawn.json()["code"] == "not_withdrawn"
    # The generic decisions endpoint does not record model decisions behind the services' back.
    generic = post(moderator, "/api/v1/moderation/decisions/", kind="withdraw_model", device_model=model.pk,
                   reason="x")  # fmt: skip
    assert generic.status_code == 400 and generic.json()["errors"][0]["path"] == "/kind"
    assert client.get("/mud/acme/cam-1.json").status_code == 200
    assert not ModerationDecision.objects.filter(kind="withdraw_model").exists()


def test_a_merge_moves_the_duplicate_into_its_target(client, moderator, auth_api, submit, site):
    publish_model(auth_api, submit)  # acme/cam-1
    publish_model(auth_api, submit, flow("img.acme.example"), model="Cam One")
    source, target = DeviceModel.objects.get(slug="cam-one"), DeviceModel.objects.get(slug="cam-1")
    moved_ids = set(Submission.objects.filter(device_model=source).values_list("pk", flat=True))
    since = Change.objects.order_by("-seq").first().seq

    response = post(moderator, f"/api/v1/device-models/{source.pk}/merge/", into=target.pk, reason="same camera")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["merged_into"] == target.pk and body["moved"]["submissions"] == len(moved_ids) == 3
    assert set(Submission.objects.filter(device_model=target, pk__in=moved_ids).values_list("pk", flat=True)) == (
        moved_ids
    )
    assert {s.firmware.device_model_id for s in Submission.objects.filter(pk__in=moved_ids)} == {target.pk}
    assert DeviceModelAlias.objects.get(slug="cam-one").device_model == target

    gone = client.get("/mud/acme/cam-one.json")
    assert gone.status_code == 410 and gone.json()["code"] == "merged"
    assert gone.json()["merged_into"] == {"manufacturer": "acme", "model": "cam-1", "mud_url": target.mud_url}
    removals = [e for e in feed_after(client, since) if e["kind"] == "removed"]
    assert {e["scope"] for e in removals} == set(body["removed"]) and "latest" in body["removed"]
    assert all(e["model"] == "cam-one" and e["merged_into"]["model"] == "cam-1" for e in removals)
    assert not (site / "mud/acme/cam-one.json").exists() and "mud/acme/cam-one.json" not in indexed_paths()

    # The target was recomputed with the duplicate's evidence: once settled it serves its flow.
    settle(target.pk)
    served = client.get("/mud/acme/cam-1.json")
    assert served.status_code == 200 and b"img.acme.example" in served.content
    # A submission under the duplicate's name lands on the target.
    again = submit(auth_api(trust_level=3), payload(flow("img.acme.example"), model="Cam One", firmware="1.0"))
    assert again.status_code == 201 and Submission.objects.get(pk=again.json()["id"]).device_model == target
    decision = ModerationDecision.objects.get(pk=body["decision"])
    assert (decision.kind, decision.device_model, decision.merged_into) == ("merge_model", source, target)


def test_bad_merges_are_refused(moderator, auth_api, submit):
    publish_model(auth_api, submit)
    publish_model(auth_api, submit, model="Cam One")
    source, target = DeviceModel.objects.get(slug="cam-one"), DeviceModel.objects.get(slug="cam-1")
    url = f"/api/v1/device-models/{source.pk}/merge/"
    itself = post(moderator, url, into=source.pk, reason="x")
    assert itself.status_code == 400 and itself.json()["errors"][0]["code"] == "merge_into_itself"
    nowhere = post(moderator, url, into=999999, reason="x")
    assert nowhere.status_code == 400 and nowhere.json()["errors"][0]["path"] == "/into"
    both = post(moderator, url)
    assert both.status_code == 400 and {p["path"] for p in both.json()["errors"]} == {"/into", "/reason"}
    assert post(auth_api(trust_level=3), url, into=target.pk, reason="x").status_code == 403
    assert post(moderator, url, into=target.pk, reason="dup").status_code == 200
    twice = post(moderator, url, into=target.pk, reason="dup")
    assert twice.status_code == 409 and twice.json()["errors"][0]["code"] == "already_merged"
    into_merged = post(moderator, f"/api/v1/device-models/{target.pk}/merge/", into=source.pk, reason="x")
    assert into_merged.status_code == 409 and into_merged.json()["errors"][0]["code"] == "target_merged"
    withdraw_merged = post(moderator, f"/api/v1/device-models/{source.pk}/withdraw/", reason="x")
    assert withdraw_merged.status_code == 409 and withdraw_merged.json()["code"] == "merged"


def test_a_merge_across_manufacturers_or_of_a_signed_model_is_refused(moderator, auth_api, submit):
    from profiles.services.catalog import device_model_resolve, manufacturer_resolve

    publish_model(auth_api, submit)
    target = DeviceModel.objects.get(slug="cam-1")
    other = device_model_resolve(manufacturer=manufacturer_resolve(name="Brand"), name="Cam 1")
    across = post(moderator, f"/api/v1/device-models/{other.pk}/merge/", into=target.pk, reason="x")
    assert across.status_code == 400 and across.json()["errors"][0]["code"] == "different_manufacturer"


def test_the_commands_withdraw_restore_and_merge(auth_api, submit, moderator):
    publish_model(auth_api, submit)
    publish_model(auth_api, submit, model="Cam One")
    name = moderator.contributor.user.username
    with TestCase.captureOnCommitCallbacks(execute=True):
        call_command("withdraw_model", "acme/cam-1", "--reason", "checking", "--scope", "1.0", "--moderator", name)
    assert DeviceModel.objects.get(slug="cam-1").withdrawn_scopes == ["1.0"]
    with TestCase.captureOnCommitCallbacks(execute=True):
        call_command("withdraw_model", "acme/cam-1", "--reason", "fine", "--scope", "1.0", "--restore")
    assert DeviceModel.objects.get(slug="cam-1").withdrawn_scopes == []
    with TestCase.captureOnCommitCallbacks(execute=True):
        call_command("merge_model", "acme/cam-one", "acme/cam-1", "--reason", "duplicate")
    source = DeviceModel.objects.get(slug="cam-one")
    assert source.merged_into == DeviceModel.objects.get(slug="cam-1")
    decisions = list(ModerationDecision.objects.filter(kind__in=ModerationDecision.MODEL_KINDS).order_by("id"))
    assert [(d.kind, d.moderator_id) for d in decisions] == [
        ("withdraw_model", moderator.contributor.pk), ("restore_model", None), ("merge_model", None)
    ]  # fmt: skip
    with pytest.raises(CommandError, match="already_merged"):
        call_command("merge_model", "acme/cam-one", "acme/cam-1", "--reason", "again")
    with pytest.raises(CommandError, match="no device model"):
        call_command("withdraw_model", "acme/nothing", "--reason", "x")


def test_withdrawing_a_scope_takes_its_regional_variants_with_it(client, moderator, auth_api, submit, site):
    for country in ("DE", "FR", "DE"):
        body = payload(flow("api.eu.acme.example"), firmware="1.0", observation={"country": country})
        assert submit(auth_api(trust_level=3), body).status_code == 201
    model = DeviceModel.objects.get(slug="cam-1")
    settle(model.pk)
    current = set(ConsensusProfile.objects.filter(device_model=model, is_current=True).values_list("scope", flat=True))
    assert {"latest", "latest@western-europe", "1.0", "1.0@western-europe"} <= current
    assert client.get("/mud/acme/cam-1@western-europe.json").status_code == 200

    response = post(moderator, f"/api/v1/device-models/{model.pk}/withdraw/", reason="bad", scope="latest")
    assert response.status_code == 200, response.content
    assert sorted(response.json()["removed"]) == ["latest", "latest@western-europe"]
    assert client.get("/mud/acme/cam-1@western-europe.json").status_code == 410
    assert client.get("/mud/acme/cam-1.json?region=DE").status_code == 410
    assert client.get("/mud/acme/cam-1/1.0.json?region=DE").status_code == 200
    assert not (site / "mud/acme/cam-1@western-europe.json").exists()
    # A recompute publishes neither the scope nor its variant again.
    settle(model.pk)
    still = ConsensusProfile.objects.filter(device_model=model, is_current=True).values_list("scope", flat=True)
    assert not {"latest", "latest@western-europe"} & set(still)


def test_a_contributor_of_both_models_keeps_one_active_submission_after_a_merge(moderator, auth_api, submit):
    person = auth_api(trust_level=3)
    first = submit(person, payload(flow("api.acme.example"), model="Cam 1", firmware="1.0")).json()["id"]
    second = submit(person, payload(flow("img.acme.example"), model="Cam One", firmware="1.0")).json()["id"]
    source, target = DeviceModel.objects.get(slug="cam-one"), DeviceModel.objects.get(slug="cam-1")
    response = post(moderator, f"/api/v1/device-models/{source.pk}/merge/", into=target.pk, reason="duplicate")
    assert response.status_code == 200 and response.json()["moved"]["superseded"] == 1
    active = Submission.objects.filter(contributor=person.contributor, status="active")
    assert list(active.values_list("pk", "device_model_id")) == [(second, target.pk)]
    older = Submission.objects.get(pk=first)
    assert older.status == "superseded" and older.superseded_by_id == second
