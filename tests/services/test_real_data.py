"""Real files: one camera profiled in nine countries (Deepness Lab, 2021), each country's file
submitted by a different TL2 member. The consensus must keep what enough countries saw, drop
what only one saw, and serve files that validate against the official YANG modules."""

import json
import subprocess
from collections import Counter
from datetime import timedelta

import pytest
from django.utils.dateparse import parse_datetime

from profiles import mud
from profiles.models import ConsensusFlow, ConsensusProfile, DeviceModel
from profiles.services.recompute import consensus_recompute
from tests.support import require_shared, require_validate_mud

pytestmark = [pytest.mark.django_db, pytest.mark.shared]

COUNTRIES = ["australia", "france", "germany", "hk", "india", "mexico", "russia", "uk", "us"]


@pytest.fixture
def camera(auth_api):
    dataset = require_shared()
    seen: Counter[str] = Counter()
    newest = None
    for country in COUNTRIES:
        path = dataset / "deepness-lab-iot-mud-locations" / f"{country}_yi_camera" / f"{country}_yi_cameraMud.json"
        raw = path.read_bytes()
        document = mud.parse(raw)
        seen.update(flow.key for flow in document.flows)
        end = document.meta.last_update
        newest = max(newest, end) if newest else end
        # TL2 members with R = 0.8 (r = 3, s = 0), as CONSENSUS.md's worked example.
        client = auth_api(trust_level=2, reputation_r=3.0)
        envelope = {
            "device": {"manufacturer": "Yi", "model": "Home Camera", "firmware": "2021-study"},
            "observation": {"end": end.isoformat(), "start": (end - timedelta(days=1)).isoformat()},
            "mud": json.loads(raw),
        }
        response = client.post("/api/v1/submissions/", envelope, format="json")
        assert response.status_code == 201, response.content
    device_model = DeviceModel.objects.get()
    # As of the study: the domains were as old then as the capture campaign; the second run
    # comes after the 24-hour hold of third-party flows.
    from profiles.models import PeerDomain

    PeerDomain.objects.update(first_seen=newest - timedelta(days=90))
    consensus_recompute(device_model_id=device_model.pk, as_of=newest + timedelta(hours=1))
    consensus_recompute(device_model_id=device_model.pk, as_of=newest + timedelta(days=3))
    return device_model, seen


def decisions(device_model):
    rows = ConsensusFlow.objects.filter(profile__device_model=device_model, profile__scope="latest")
    return {key: (state, cls) for key, state, cls in rows.filter(profile__is_current=True).values_list(
        "flow__key", "state", "risk_class")}  # fmt: skip


def test_flows_seen_in_one_country_only_are_never_allowed(camera):
    device_model, seen = camera
    allowed = {key for key, (state, _) in decisions(device_model).items() if state == "allowed"}
    assert allowed, "the consensus should allow the flows most countries share"
    assert all(seen[key] >= 2 for key in allowed)
    singles = {key for key, count in seen.items() if count == 1}
    assert singles, "the data set has country-specific flows"
    assert not singles & allowed


def test_flows_seen_widely_are_allowed_unless_high_risk(camera):
    device_model, seen = camera
    rows = decisions(device_model)
    widely = {key for key, count in seen.items() if count >= 6}
    assert widely
    for key in widely:
        state, risk = rows[key]
        assert state == "allowed" or risk == "H", (key, state, risk)
    # High-risk flows wait for a trusted approval, however many countries saw them.
    assert all(state != "allowed" for state, risk in rows.values() if risk == "H")


def test_every_served_file_validates_and_round_trips(camera, tmp_path):
    validate = require_validate_mud()
    device_model, _ = camera
    profiles = list(ConsensusProfile.objects.filter(device_model=device_model))
    paths = []
    for profile in profiles:
        path = tmp_path / f"v{profile.version}-{profile.scope}.json"
        path.write_bytes(bytes(profile.mud_bytes))
        paths.append(path)
        served = mud.parse(bytes(profile.mud_bytes), mode="strict")
        allowed = set(profile.flows.filter(state="allowed").values_list("flow__key", flat=True))
        assert {f.key for f in served.flows} == allowed
        assert served.meta.mud_url == device_model.mud_url_for(profile.scope)
    done = subprocess.run([str(validate), *map(str, paths)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_served_last_update_is_the_newest_input_not_the_clock(camera):
    device_model, _ = camera
    profile = ConsensusProfile.objects.get(device_model=device_model, scope="latest", is_current=True)
    last_update = parse_datetime(mud.parse(bytes(profile.mud_bytes)).meta.last_update.isoformat())
    newest = max(s.created_at for s in device_model.submissions.all())
    assert abs((last_update - newest).total_seconds()) < 1.0
