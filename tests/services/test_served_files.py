"""Invariant 10 of CONSENSUS.md, end to end: every served profile is valid RFC 8520 and
round-trips through the codec to exactly the ALLOWED flows, whatever the crowd sent."""

import itertools
import subprocess

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from profiles import mud
from profiles.models import ConsensusProfile, DeviceModel
from profiles.mud.flows import Flow, PortMatch
from profiles.services.submissions import SubmissionContent, submission_create
from tests.factories import ContributorFactory
from tests.helpers import settle
from tests.support import require_validate_mud

pytestmark = pytest.mark.django_db

# A pool of flows of every peer kind the engine classifies differently.
POOL = [
    Flow("from-device", "ipv4", "dnsname", "api.vendor.example", protocol=6, dst_port=PortMatch.eq(443),
         initiated="from-device"),
    Flow("to-device", "ipv4", "dnsname", "api.vendor.example", protocol=6, src_port=PortMatch.eq(443)),
    Flow("from-device", "ipv4", "controller", "urn:ietf:params:mud:ntp", protocol=17, dst_port=PortMatch.eq(123)),
    Flow("from-device", "ipv4", "controller", "urn:ietf:params:mud:dns", protocol=17, dst_port=PortMatch.eq(53)),
    Flow("from-device", "ipv4", "local-networks", "", protocol=17, dst_port=PortMatch.eq(1900),
         network="239.255.255.250/32"),
    Flow("to-device", "ipv4", "local-networks", "", protocol=17, src_port=PortMatch.eq(5353)),
    Flow("from-device", "ipv6", "dnsname", "cdn.vendor.example", protocol=6, dst_port=PortMatch("range", 8000, 8100),
         initiated="from-device"),
    Flow("from-device", "ipv4", "my-controller", "", protocol=6, dst_port=PortMatch.eq(8883), initiated="from-device"),
    Flow("from-device", "ipv4", "network", "203.0.113.0/24", protocol=17, dst_port=PortMatch("gte", 1024, 1024)),
    Flow("from-device", "ipv4", "same-manufacturer", "", protocol=1, icmp_type=8, icmp_code=0),
    Flow("from-device", "eth", "mac", "ff:ff:ff:ff:ff:ff", ethertype=2054),
]  # fmt: skip
_models = itertools.count()


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    seen=st.lists(st.sets(st.sampled_from(range(len(POOL))), min_size=1), min_size=2, max_size=6),
    levels=st.lists(st.sampled_from([1, 2, 3]), min_size=6, max_size=6),
)
def test_every_served_file_is_exactly_the_allowed_flows(seen, levels):
    name = f"Model {next(_models)}"
    for observed, level in zip(seen, levels, strict=False):
        person = ContributorFactory(trust_level=level, reputation_r=4.0)
        flows = frozenset(POOL[i] for i in observed)
        content = SubmissionContent("flows", flows, [], {}, len(flows))
        submission_create(
            contributor=person, raw=f"{sorted(observed)} {name}".encode(), raw_content_type="application/json",
            device={"manufacturer": "Vendor", "model": name, "firmware": "1.0"}, observation=None, content=content,
        )  # fmt: skip
    device_model = DeviceModel.objects.get(name=name)
    settle(device_model.pk)
    for profile in ConsensusProfile.objects.filter(device_model=device_model):
        served = mud.parse(bytes(profile.mud_bytes), mode="strict")
        rows = profile.flows.filter(state="allowed").values_list("flow__key", flat=True)
        if profile.is_current:
            assert {f.key for f in served.flows} == set(rows)
        assert len(served.flows) == profile.allowed_count


def test_the_whole_pool_served_at_once_validates_with_yanglint(tmp_path):
    validate = require_validate_mud()
    for n in range(3):
        person = ContributorFactory(trust_level=3)
        submission_create(
            contributor=person, raw=f"pool {n}".encode(), raw_content_type="application/json",
            device={"manufacturer": "Vendor", "model": "Pool", "firmware": "1.0"}, observation=None,
            content=SubmissionContent("flows", frozenset(POOL), [], {}, len(POOL)),
        )  # fmt: skip
    device_model = DeviceModel.objects.get(name="Pool")
    settle(device_model.pk)
    paths = []
    for profile in ConsensusProfile.objects.filter(device_model=device_model):
        path = tmp_path / f"{profile.scope}-v{profile.version}.json"
        path.write_bytes(bytes(profile.mud_bytes))
        paths.append(str(path))
    current = ConsensusProfile.objects.get(device_model=device_model, scope="latest", is_current=True)
    assert current.allowed_count >= 5  # vendor-class and local flows at least
    done = subprocess.run([str(validate), *paths], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
