"""The demo's served TCP connections are served whole: a reply sent beside its request is
paired with it on import, so it is classed and decided with it, not as an inbound H flow."""

import pytest
from django.core.management import call_command

from profiles.models import ConsensusFlow

pytestmark = pytest.mark.django_db


def test_the_demo_serves_each_tcp_connection_with_its_reply_and_shows_no_inbound_candidate():
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115 - closed with the process
    rows = ConsensusFlow.objects.filter(profile__is_current=True, profile__scope="latest").select_related("flow")
    by_key = {(row.profile.device_model_id, row.flow.key): row for row in rows.select_related("profile")}
    assert not [key for key, row in by_key.items() if row.provenance.get("class_reason") == "internet-initiated"]
    served_requests = [
        (model, key)
        for (model, key), row in by_key.items()
        if row.state == "allowed" and key.startswith("from-device") and "proto=6" in key and "dnsname=" in key
    ]
    assert len(served_requests) >= 5
    for model, key in served_requests:
        spec = by_key[model, key].flow.spec
        reply = f"to-device ipv4 dnsname={spec['peer']} proto=6 sport=eq{spec['dst_port']['lower']} init=from-device"
        assert by_key[model, reply].state == "allowed", (key, by_key[model, reply].state)
        assert by_key[model, reply].risk_class == by_key[model, key].risk_class
