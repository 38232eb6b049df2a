"""Data the page tests build through the same services the API uses."""

from __future__ import annotations

import json
from typing import Any

from django.core.management import call_command

from profiles.models import DeviceModel
from profiles.services.submissions import submission_content_read, submission_create
from tests.factories import ContributorFactory
from tests.helpers import flow, payload, settle

DEMO_PASSWORD = "mudhub-demo-password"
H_PEER = "203.0.113.7/32"
H_KEY = "from-device ipv4 network=203.0.113.7/32 proto=6 dport=eq8443 init=from-device"


def demo() -> None:
    """The community `make run` shows (seed_demo): three models, sixteen accounts."""
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115 - closed with the process


def submit(person: Any, body: dict[str, Any]) -> None:
    content, problems = submission_content_read(body)
    assert content is not None, problems
    submission_create(
        contributor=person,
        raw=json.dumps(body, sort_keys=True).encode(),
        raw_content_type="application/json",
        device=body["device"],
        observation=None,
        content=content,
    )


def high_risk_flow_waiting() -> DeviceModel:
    """Eight trusted members in eight groups report a flow to an IP literal on port 8443: a
    high-risk flow whose numbers would allow it, held back for a moderator's approval."""
    ip_flow = {**flow("unused.example", 8443), "peer_kind": "network", "peer": H_PEER}
    for _ in range(8):
        person = ContributorFactory(trust_level=3)
        submit(person, payload(flow("api.acme.example"), ip_flow, firmware="1.0"))
    device_model = DeviceModel.objects.get(slug="cam-1")
    settle(device_model.pk)
    return device_model
