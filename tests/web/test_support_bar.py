"""The support bar on the device page tells the engine's truth: a T flow that TL1 accounts
alone report is short of its TL2+ group, however much support they give it."""

from __future__ import annotations

import pytest

from profiles.models import DeviceModel
from profiles.selectors.catalog import consensus_view_get
from tests.factories import ContributorFactory
from tests.helpers import flow, payload, settle
from tests.web.data import submit

pytestmark = pytest.mark.django_db


def test_a_flow_backed_by_tl1_accounts_alone_shows_the_tl2_group_it_lacks(client):
    # Three trusted members report the vendor API and a CDN; eight TL1 accounts (R = 0.99,
    # own groups: A = 3.96, over T's 2.81) report another CDN that no member saw.
    for _ in range(3):
        submit(ContributorFactory(trust_level=3), payload(flow("api.acme.example"), flow("cdn.example.net")))
    for _ in range(8):
        submit(ContributorFactory(trust_level=1, reputation_r=100.0), payload(flow("cdn.example.org")))
    model = DeviceModel.objects.get()
    settle(model.pk)
    view = consensus_view_get(device_model=model, scope="latest")
    rows = {row.peer: row for row in [*view.served, *view.candidates]}
    member_cdn, tl1_cdn = rows["cdn.example.net"], rows["cdn.example.org"]
    assert member_cdn.state == "allowed" and member_cdn.bar_reached
    assert (member_cdn.trusted_groups, member_cdn.trusted_groups_needed) == (3, 1)
    # Served, its conditions held in the previous run: the keep threshold's bar (2.28), not 2.81.
    assert member_cdn.bar == pytest.approx(2.28, abs=0.011)
    assert tl1_cdn.state == "candidate" and tl1_cdn.risk_class == "T"
    assert tl1_cdn.support >= tl1_cdn.bar == pytest.approx(2.81, abs=0.011)
    assert (tl1_cdn.trusted_groups, tl1_cdn.trusted_groups_needed, tl1_cdn.bar_reached) == (0, 1, False)
    body = client.get("/devices/acme/cam-1/").content.decode()
    assert "needs 1 TL2+ group, has 0" in body
    assert body.count("TL2+ group") == 1
