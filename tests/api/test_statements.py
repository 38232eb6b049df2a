"""Manufacturer statements through the API: a claimed manufacturer allows or rejects single
flows for firmware no profile covers; a rejection costs the flow's supporters s +1."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from profiles.models import DeviceModel, FlowStatement, ManufacturerDomain, ReputationEvent
from tests.helpers import payload, settle
from tests.manufacturer_helpers import API, DOMAIN, METRICS, NTP, flow_keys, member_of, native_keys

pytestmark = pytest.mark.django_db


@pytest.fixture
def crowd(auth_api: Any, submit: Any) -> tuple[DeviceModel, list[Any]]:
    """Three trusted members saw API and METRICS on 1.0; one newcomer also saw NTP."""
    people = [auth_api(trust_level=3) for _ in range(3)]
    for person in people:
        assert submit(person, payload(API, METRICS, firmware="1.0")).status_code == 201
    assert submit(auth_api(trust_level=1), payload(NTP, firmware="1.0")).status_code == 201
    model = DeviceModel.objects.get()
    settle(model.pk)
    return model, people


def state(client: Any, model: DeviceModel, flow: dict[str, Any]) -> tuple[str, str]:
    (key,) = native_keys(flow)
    rows = client.get(f"/api/v1/device-models/{model.pk}/consensus/?firmware=1.0").json()["flows"]
    row = next(r for r in rows if r["key"] == key)
    return row["state"], row["source"]


def test_a_statement_needs_a_verified_domain(crowd, auth_api):
    model, _ = crowd
    member = member_of(auth_api, "acme")
    (key,) = native_keys(METRICS)
    refused = member.post(f"/api/v1/device-models/{model.pk}/statements/", {"flow": key, "verdict": "reject"},
                          format="json")  # fmt: skip
    assert refused.status_code == 403
    assert refused.json()["code"] == "domain_not_verified"
    assert not FlowStatement.objects.exists()


def test_a_rejection_rejects_the_flow_and_costs_its_supporters(crowd, auth_api, api):
    model, people = crowd
    ManufacturerDomain.objects.create(manufacturer=model.manufacturer, domain=DOMAIN, verified_at=timezone.now())
    member = member_of(auth_api, "acme")
    assert state(api, model, METRICS) == ("allowed", "crowd")
    (key,) = native_keys(METRICS)
    made = member.post(f"/api/v1/device-models/{model.pk}/statements/",
                       {"flow": key, "verdict": "reject", "comment": "debug build only"}, format="json")  # fmt: skip
    assert made.status_code == 201, made.content
    settle(model.pk)
    assert state(api, model, METRICS) == ("rejected", "manufacturer_statement")
    assert METRICS["peer"] not in str(flow_keys(api.get("/mud/acme/cam-1/1.0.json").content))
    for person in people:
        event = ReputationEvent.objects.get(contributor=person.contributor, kind="manufacturer_rejected")
        assert (event.delta_r, event.delta_s) == (0.0, 1.0)
    assert not ReputationEvent.objects.filter(kind="flow_rejected").exists()
    listed = api.get(f"/api/v1/device-models/{model.pk}/statements/").json()["results"]
    assert [(s["flow"], s["verdict"], s["comment"]) for s in listed] == [(key, "reject", "debug build only")]


def test_an_allowance_allows_a_flow_the_crowd_has_not_settled(crowd, auth_api, api):
    model, _ = crowd
    ManufacturerDomain.objects.create(manufacturer=model.manufacturer, domain=DOMAIN, verified_at=timezone.now())
    member = member_of(auth_api, "acme")
    assert state(api, model, NTP)[0] != "allowed"
    (key,) = native_keys(NTP)
    assert member.post(f"/api/v1/device-models/{model.pk}/statements/", {"flow": key, "verdict": "allow"},
                       format="json").status_code == 201  # fmt: skip
    settle(model.pk)
    assert state(api, model, NTP) == ("allowed", "manufacturer_statement")
    # A later statement on the same flow and firmware replaces it.
    assert member.post(f"/api/v1/device-models/{model.pk}/statements/", {"flow": key, "verdict": "reject"},
                       format="json").status_code == 201  # fmt: skip
    statements = [(s.verdict, s.withdrawn_at is None) for s in FlowStatement.objects.order_by("id")]
    assert statements == [("allow", False), ("reject", True)]
    settle(model.pk)
    assert state(api, model, NTP) == ("rejected", "manufacturer_statement")


def test_an_unknown_flow_or_verdict_is_refused(crowd, auth_api):
    model, _ = crowd
    ManufacturerDomain.objects.create(manufacturer=model.manufacturer, domain=DOMAIN, verified_at=timezone.now())
    member = member_of(auth_api, "acme")
    refused = member.post(f"/api/v1/device-models/{model.pk}/statements/", {"flow": "nope", "verdict": "maybe"},
                          format="json")  # fmt: skip
    assert refused.status_code == 400
    assert {p["path"] for p in refused.json()["errors"]} == {"/verdict"}
    unknown = member.post(f"/api/v1/device-models/{model.pk}/statements/", {"flow": "nope", "verdict": "allow"},
                          format="json")  # fmt: skip
    assert unknown.status_code == 400
    assert unknown.json()["errors"][0]["path"] == "/flow"
