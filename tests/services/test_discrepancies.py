"""profiles/services/discrepancies.py: rows follow the consensus; their ids and the
manufacturer's answers outlive consensus versions, withdrawals and returns."""

from __future__ import annotations

import pytest

from profiles.models import DeviceModel, Discrepancy
from profiles.services.signed_profiles import profile_store, signed_profile_withdraw
from tests.helpers import payload, settle
from tests.manufacturer_helpers import API, METRICS, NTP, member_of, mud_file, native_keys
from tests.pki import Pki, require_openssl

pytestmark = pytest.mark.django_db


def test_a_discrepancy_clears_and_reopens_with_its_answer(auth_api, submit, tmp_path):
    require_openssl()
    pki = Pki(tmp_path)
    ca = pki.ca("Acme CA")
    signer = pki.issue(ca, "Acme Signing")
    for _ in range(3):
        assert submit(auth_api(trust_level=3), payload(API, NTP, METRICS, firmware="2.0")).status_code == 201
    model = DeviceModel.objects.get()
    member = member_of(auth_api, "acme")
    assert member.post("/api/v1/manufacturers/acme/certificates/", {"pem": ca.pem.decode()},
                       format="json").status_code == 201  # fmt: skip
    content = mud_file(API, NTP)
    profile, _ = profile_store(actor=member.contributor, manufacturer=model.manufacturer, device_model=model,
                               content=content, signature=pki.sign(content, signer), firmware=["2.0"])  # fmt: skip
    settle(model.pk)
    (metrics_key,) = native_keys(METRICS)
    rows = list(Discrepancy.objects.filter(scope="2.0"))
    assert [(r.flow.key, r.cleared_at, r.profile_id) for r in rows] == [(metrics_key, None, profile.pk)]
    row = rows[0]
    answered = member.post(f"/api/v1/manufacturers/acme/discrepancies/{row.pk}/response/",
                           {"state": "fixed", "comment": "removed in 2.1"}, format="json")  # fmt: skip
    assert answered.status_code == 200

    signed_profile_withdraw(actor=member.contributor, profile=profile)
    settle(model.pk)
    row.refresh_from_db()
    assert row.cleared_at is not None
    assert member.get("/api/v1/manufacturers/acme/discrepancies/").json()["results"] == []
    assert [r["id"] for r in member.get("/api/v1/manufacturers/acme/discrepancies/?cleared=1").json()["results"]]

    again, _ = profile_store(actor=member.contributor, manufacturer=model.manufacturer, device_model=model,
                             content=content, signature=pki.sign(content, signer), firmware=["2.0"])  # fmt: skip
    settle(model.pk)
    row.refresh_from_db()
    assert (row.cleared_at, row.profile_id, row.state, row.comment) == (None, again.pk, "fixed", "removed in 2.1")
    assert Discrepancy.objects.filter(scope="2.0").count() == 1
