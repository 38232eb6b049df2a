"""The manufacturer story, end to end through the API (issue 11): the crowd first, then a
member proves the domain, pins a certificate, uploads a signed profile for firmware 2.0,
answers the discrepancy, and withdraws the profile again."""

from __future__ import annotations

import pytest

from profiles.models import DeviceModel, ReputationEvent
from tests.helpers import payload, settle
from tests.manufacturer_helpers import (
    API,
    DOMAIN,
    FIRMWARE_SERVER,
    METRICS,
    NTP,
    flow_keys,
    mud_file,
    native_keys,
    upload,
)
from tests.pki import Pki, require_openssl
from tests.servers import dnsmasq

pytestmark = pytest.mark.django_db

CROWD = (API, NTP, METRICS)
MANUFACTURER = (API, NTP, FIRMWARE_SERVER)


@pytest.fixture
def pki(tmp_path):
    require_openssl()
    return Pki(tmp_path)


def test_the_manufacturer_story(auth_api, submit, api, pki, settings):
    # A crowd consensus exists: three trusted members saw the same flows on 1.0 and on 2.0.
    for firmware in ("1.0", "2.0"):
        for _ in range(3):
            assert submit(auth_api(trust_level=3), payload(*CROWD, firmware=firmware)).status_code == 201
    model = DeviceModel.objects.get()
    settle(model.pk)
    assert flow_keys(api.get("/mud/acme/cam-1/2.0.json").content) == native_keys(*CROWD)

    # A moderator adds a member; the member claims the domain and proves it in DNS.
    moderator = auth_api(trust_level=3, is_moderator=True)
    member = auth_api(trust_level=0)
    username = member.contributor.user.username
    added = moderator.post("/api/v1/manufacturers/acme/members/", {"username": username}, format="json")
    assert added.status_code == 201, added.content
    claim = member.post("/api/v1/manufacturers/acme/claims/", {"domain": DOMAIN, "method": "dns"}, format="json")
    assert claim.status_code == 201, claim.content
    body = claim.json()
    assert body["dns_name"] == f"_mudhub-challenge.{DOMAIN}"
    assert body["well_known_url"] == f"https://{DOMAIN}/.well-known/mudhub-challenge/{body['token']}"
    with dnsmasq(txt={body["dns_name"]: ["unrelated", body["dns_value"]]}) as resolver:
        settings.MUDHUB_DNS_RESOLVER = resolver
        verified = member.post(f"/api/v1/manufacturers/acme/claims/{body['id']}/verify/")
    assert verified.status_code == 200, verified.content
    assert verified.json()["verified_at"] is not None

    # It pins its CA's certificate and uploads a profile signed by `openssl cms` for 2.0.
    ca = pki.ca("Acme Devices CA")
    signer = pki.issue(ca, "Acme Release Signing")
    pinned = member.post("/api/v1/manufacturers/acme/certificates/", {"pem": ca.pem.decode()}, format="json")
    assert pinned.status_code == 201, pinned.content
    content = mud_file(*MANUFACTURER)
    uploaded = upload(member, "acme", model.pk, content, pki.sign(content, signer), firmware=("2.0",))
    assert uploaded.status_code == 201, uploaded.content
    assert uploaded.json()["state"] == "active"
    assert api.get(uploaded.json()["mud_download"]).content == content  # kept byte for byte
    settle(model.pk)

    # The gateway file for 2.0 is exactly the manufacturer's flows; 1.0 is still the crowd's.
    assert flow_keys(api.get("/mud/acme/cam-1/2.0.json").content) == native_keys(*MANUFACTURER)
    assert flow_keys(api.get("/mud/acme/cam-1/1.0.json").content) == native_keys(*CROWD)
    rows = api.get(f"/api/v1/device-models/{model.pk}/consensus/?firmware=2.0").json()["flows"]
    sources = {row["key"]: (row["state"], row["source"]) for row in rows}
    for key in native_keys(*MANUFACTURER):
        assert sources[key] == ("allowed", "manufacturer_profile")
    (metrics_key,) = native_keys(METRICS)
    assert sources[metrics_key] == ("discrepancy", "manufacturer_profile")
    crowd_rows = api.get(f"/api/v1/device-models/{model.pk}/consensus/?firmware=1.0").json()["flows"]
    assert {row["source"] for row in crowd_rows} == {"crowd"}

    # The crowd-only flow is a public discrepancy, on the model's list and the manufacturer's.
    listed = api.get(f"/api/v1/device-models/{model.pk}/discrepancies/").json()["results"]
    assert {row["flow"] for row in listed} == {metrics_key}
    assert "2.0" in {row["scope"] for row in listed}
    assert all(row["state"] == "open" for row in listed)
    own = api.get("/api/v1/manufacturers/acme/discrepancies/").json()["results"]
    assert [row["id"] for row in own] == [row["id"] for row in listed]

    # The manufacturer answers it publicly.
    target = next(row for row in listed if row["scope"] == "2.0")
    answer = {"state": "disputed", "comment": "metrics are opt-in and off by default"}
    answered = member.post(f"/api/v1/device-models/{model.pk}/discrepancies/{target['id']}/response/", answer,
                           format="json")  # fmt: skip
    assert answered.status_code == 200, answered.content
    shown = {row["id"]: row for row in api.get(f"/api/v1/device-models/{model.pk}/discrepancies/").json()["results"]}
    assert shown[target["id"]]["state"] == "disputed"
    assert shown[target["id"]]["comment"] == answer["comment"]
    assert shown[target["id"]]["responded_by"] == username

    # Withdrawing the profile hands 2.0 back to the crowd; the discrepancy is cleared.
    withdrawn = member.delete(f"/api/v1/manufacturers/acme/profiles/{uploaded.json()['id']}/")
    assert withdrawn.status_code == 200
    assert withdrawn.json()["state"] == "withdrawn"
    settle(model.pk)
    assert flow_keys(api.get("/mud/acme/cam-1/2.0.json").content) == native_keys(*CROWD)
    assert api.get(f"/api/v1/device-models/{model.pk}/discrepancies/").json()["results"] == []

    # Every act is on the manufacturer's public record.
    kinds = [row["kind"] for row in api.get("/api/v1/manufacturers/acme/decisions/").json()["results"]]
    assert kinds == [
        "profile_withdraw", "discrepancy_response", "profile_publish", "certificate_pin", "domain_verify", "member_add"
    ]  # fmt: skip
    assert not ReputationEvent.objects.filter(kind=ReputationEvent.Kind.MANUFACTURER_REJECTED).exists()
