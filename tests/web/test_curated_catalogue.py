"""What curation does to the catalogue and to voting, on the pages and in the API alike: a
merged model leaves the catalogue (its name finds the model it went into), a withdrawn one
stays listed and marked, and neither takes a vote (the service refuses one with a 409)."""

from __future__ import annotations

import re

import pytest
from django.test import TestCase

from profiles.models import ConsensusFlow, DeviceModel, Vote
from profiles.services.curation import device_model_merge, device_model_withdraw
from tests.factories import ContributorFactory
from tests.helpers import flow, payload, settle
from tests.web.data import submit

pytestmark = pytest.mark.django_db


@pytest.fixture
def models():
    """Cam 1 served (latest and 1.0), Cam One (a duplicate of it) and Doorbell, all settled."""
    for _ in range(3):
        submit(ContributorFactory(trust_level=3), payload(flow("api.acme.example"), firmware="1.0"))
        submit(ContributorFactory(trust_level=3), payload(flow("ring.acme.example"), model="Doorbell"))
    submit(ContributorFactory(trust_level=2), payload(flow("api.acme.example"), model="Cam One"))
    for model in DeviceModel.objects.all():
        settle(model.pk)
    return {m.slug: m for m in DeviceModel.objects.all()}


def merge(source: DeviceModel, target: DeviceModel) -> None:
    with TestCase.captureOnCommitCallbacks(execute=True):
        device_model_merge(moderator=None, source=source, target=target, reason="the same camera")


def withdraw(model: DeviceModel, scope: str | None = None) -> None:
    with TestCase.captureOnCommitCallbacks(execute=True):
        device_model_withdraw(moderator=None, device_model=model, reason="fabricated captures", scope=scope)


def listed(body: str) -> list[str]:
    """The model pages the catalogue's table links to, in order."""
    return re.findall(r'<td><a href="/devices/acme/([-a-z0-9]+)/">', body)


def api_listed(api, query: str = "") -> list[str]:
    response = api.get(f"/api/v1/device-models/?{query}")
    assert response.status_code == 200
    return sorted(row["slug"] for row in response.json()["results"])


def test_a_merged_model_leaves_the_catalogue_and_its_name_finds_the_model_it_went_into(client, api, models):
    assert listed(client.get("/").content.decode()) == ["cam-1", "cam-one", "doorbell"]
    assert listed(client.get("/?q=Cam+One").content.decode()) == ["cam-one"]
    merge(models["cam-one"], models["cam-1"])
    assert listed(client.get("/").content.decode()) == ["cam-1", "doorbell"]
    # The duplicate's name is now an alias of the target: searching it finds the target.
    for words in ("Cam One", "cam one", "cam-one", "one"):
        assert listed(client.get("/", {"q": words}).content.decode()) == ["cam-1"], words
        assert api_listed(api, f"q={words}") == ["cam-1"], words
    assert api_listed(api) == ["cam-1", "doorbell"]
    # Its page stays, saying where it went; the API still reads it by id, naming its target.
    page = client.get("/devices/acme/cam-one/").content.decode()
    assert 'it is merged into <a href="/devices/acme/cam-1/">Cam 1</a>' in page
    detail = api.get(f"/api/v1/device-models/{models['cam-one'].pk}/").json()
    assert detail["merged_into"] == models["cam-1"].pk


def test_a_withdrawn_model_stays_listed_and_marked(client, api, models):
    withdraw(models["doorbell"])
    body = client.get("/").content.decode()
    assert listed(body) == ["cam-1", "cam-one", "doorbell"]
    rows = dict(re.findall(r'(?s)<td><a href="/devices/acme/([-a-z0-9]+)/">(.*?)</tr>', body))
    assert '<span class="tag withdrawn">withdrawn</span>' in rows["doorbell"]
    assert "withdrawn" not in rows["cam-1"] and "serves flows" in rows["cam-1"]
    assert listed(client.get("/?has_consensus=true").content.decode()) == ["cam-1"]
    rows_api = {row["slug"]: row for row in api.get("/api/v1/device-models/").json()["results"]}
    assert rows_api["doorbell"]["withdrawn_at"] is not None and rows_api["cam-1"]["withdrawn_at"] is None


def flow_key(model: DeviceModel) -> str:
    return ConsensusFlow.objects.filter(profile__device_model=model).values_list("flow__key", flat=True).first()


def test_a_merged_or_withdrawn_models_page_offers_no_vote(client, models):
    client.force_login(ContributorFactory(trust_level=2).user)
    assert 'aria-label="Vote for ' in client.get("/devices/acme/cam-1/").content.decode()  # a served model does
    merge(models["cam-one"], models["cam-1"])
    withdraw(models["doorbell"])
    withdraw(models["cam-1"], scope="1.0")
    for url in ("/devices/acme/cam-one/", "/devices/acme/doorbell/", "/devices/acme/cam-1/?firmware=1.0"):
        body = client.get(url).content.decode()
        assert 'aria-label="Vote for ' not in body and "votes left today" not in body, url
    assert 'aria-label="Vote for ' in client.get("/devices/acme/cam-1/").content.decode()


def test_a_vote_on_a_merged_or_withdrawn_model_is_refused_on_the_page_and_in_the_api(client, auth_api, models):
    keys = {slug: flow_key(model) for slug, model in models.items()}
    merge(models["cam-one"], models["cam-1"])
    withdraw(models["doorbell"])
    withdraw(models["cam-1"], scope="1.0")
    voter = auth_api(trust_level=2)
    cases = [
        ("cam-one", "", "merged", "/device_model", f"Cam One was merged into model {models['cam-1'].pk}"),
        ("doorbell", "", "withdrawn", "/device_model", "A moderator withdrew Doorbell"),
        ("cam-1", "1.0", "scope_withdrawn", "/firmware", "withdrew the firmware scope '1.0' of Cam 1"),
    ]
    for slug, firmware, code, path, message in cases:
        body = {"device_model": models[slug].pk, "flow": keys[slug], "value": 1, "firmware": firmware}
        response = voter.post("/api/v1/votes/", body, format="json")
        assert response.status_code == 409, (slug, response.content)
        assert response.json()["code"] == code
        assert [(p["code"], p["path"]) for p in response.json()["errors"]] == [(code, path)]
        assert message in response.json()["message"]
    client.force_login(voter.contributor.user)
    page = client.post("/devices/acme/doorbell/vote/", {"flow": keys["doorbell"], "value": "1"})
    assert page.status_code == 409
    assert "Your vote was not taken: A moderator withdrew Doorbell" in page.content.decode()
    assert not Vote.objects.filter(voter=voter.contributor).exists()
    # The same voter's vote on the served scope of the target is taken.
    served = voter.post("/api/v1/votes/", {"device_model": models["cam-1"].pk, "flow": keys["cam-1"], "value": 1},
                        format="json")  # fmt: skip
    assert served.status_code == 201, served.content
