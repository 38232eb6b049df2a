"""Small builders the pipeline tests share."""

from __future__ import annotations

import json
from typing import Any

from tests.support import DATASET

HUE = "iot-onboarding-mudfiles/unsw/HueBulbMud.json"


def real_mud(relative: str) -> Any:
    """A file of the shared real dataset, as the JSON a contributor would send."""
    return json.loads((DATASET / relative).read_text())


def flow(peer: str, port: int = 443, *, direction: str = "from-device", protocol: int = 6, **more: Any) -> dict:
    """A native flow to (or from) a DNS name."""
    item: dict[str, Any] = {"direction": direction, "family": "ipv4", "peer_kind": "dnsname", "peer": peer}
    item["protocol"] = protocol
    item["dst_port" if direction == "from-device" else "src_port"] = port
    if protocol == 6 and direction == "from-device":
        item["initiated"] = "from-device"
    item.update(more)
    return item


def payload(*flows: dict, manufacturer: str = "Acme", model: str = "Cam 1", firmware: str | None = None, **rest: Any):
    device = {"manufacturer": manufacturer, "model": model}
    if firmware:
        device["firmware"] = firmware
    return {"device": device, "flows": list(flows), **rest}


def settle(device_model_id: int, *, days: float = 4.0) -> None:
    """Recompute twice, `days` apart, after mudhub has known the peer domains for two months:
    the hold periods (24 h for third-party flows) need conditions to hold across runs, and a
    domain first seen less than 30 days ago makes its flows high-risk."""
    from datetime import timedelta

    from django.db.models import Max
    from django.test import TestCase
    from django.utils import timezone

    from profiles.models import ConsensusProfile, PeerDomain
    from profiles.services.recompute import consensus_recompute

    # Time only moves forward: start after the last computation of this model, if later.
    last = ConsensusProfile.objects.filter(device_model_id=device_model_id).aggregate(Max("as_of"))["as_of__max"]
    now = max(timezone.now(), last) if last else timezone.now()
    PeerDomain.objects.update(first_seen=now - timedelta(days=60))
    # A test's transaction never commits: run the publish hooks (cache writes) by hand.
    with TestCase.captureOnCommitCallbacks(execute=True):
        consensus_recompute(device_model_id=device_model_id, as_of=now + timedelta(hours=1))
        consensus_recompute(device_model_id=device_model_id, as_of=now + timedelta(days=days))
