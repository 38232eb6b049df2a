"""Canonical flows in the database: one row per key, read back as the same Flow values."""

import pytest

from profiles.mud.flows import Flow, PortMatch
from profiles.services import flows as service

pytestmark = pytest.mark.django_db


def _flows(count: int) -> list[Flow]:
    return [
        Flow("from-device", "ipv4", "dnsname", f"h{i}.example.com", protocol=6, dst_port=PortMatch.eq(443))
        for i in range(count)
    ]


def test_flows_read_back_equal_and_the_process_copy_stays_bounded(monkeypatch):
    made = _flows(30)
    ids = service.flows_ensure(made)
    assert service.flows_ensure(made) == ids  # one row per key
    monkeypatch.setattr(service, "_BY_KEY", {})
    monkeypatch.setattr(service, "_BY_KEY_MAX", 20)
    first = service.flows_by_id(list(ids.values())[:15])
    assert len(service._BY_KEY) == 15
    every = service.flows_by_id(ids.values())  # 15 more would pass the bound: start afresh
    assert len(service._BY_KEY) == 15
    assert {every[ids[f]] for f in made} == set(made)
    assert all(every[pk] == flow for pk, flow in first.items())
    assert service.flows_by_id([]) == {}
