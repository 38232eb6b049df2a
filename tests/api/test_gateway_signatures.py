"""The .p7s beside every served file, the aggregator certificate, the signed index, and the
osMUD limits on what is served."""

from __future__ import annotations

import hashlib
import json

import pytest

from profiles.models import DeviceModel
from tests.delivery import openssl_cms_verify, publish_model, validate_mud
from tests.helpers import flow

pytestmark = pytest.mark.django_db


def test_the_signature_is_served_with_its_own_etag_and_verifies(client, auth_api, submit, tmp_path):
    profile = publish_model(auth_api, submit)
    cert = client.get("/.well-known/mudhub/aggregator.pem")
    assert cert.status_code == 200 and cert.content.startswith(b"-----BEGIN CERTIFICATE-----")
    for url in ("/mud/acme/cam-1", "/mud/acme/cam-1/1.0"):
        body = client.get(url + ".json")
        signature = client.get(url + ".p7s")
        assert signature.status_code == 200
        assert signature["Content-Type"] == "application/pkcs7-signature"
        assert signature["ETag"] == f'"{hashlib.sha256(signature.content).hexdigest()}"' != body["ETag"]
        (tmp_path / "x.json").write_bytes(body.content)
        (tmp_path / "x.p7s").write_bytes(signature.content)
        (tmp_path / "ca.pem").write_bytes(cert.content)
        assert openssl_cms_verify(tmp_path / "x.p7s", tmp_path / "x.json", tmp_path / "ca.pem").returncode == 0
        again = client.get(url + ".p7s", HTTP_IF_NONE_MATCH=signature["ETag"])
        assert again.status_code == 304
    assert bytes(profile.signature) == client.get("/mud/acme/cam-1.p7s").content


def test_the_signature_is_made_at_publish_not_per_request(client, auth_api, submit, django_assert_num_queries):
    publish_model(auth_api, submit)
    first = client.get("/mud/acme/cam-1.p7s").content
    with django_assert_num_queries(0):  # from the cache, as the file itself
        assert client.get("/mud/acme/cam-1.p7s").content == first


def test_an_unknown_signature_is_a_json_404(client, db):
    response = client.get("/mud/nobody/nothing.p7s")
    assert response.status_code == 404
    assert response.json()["code"] == "unknown_device_model"


def test_the_index_is_signed_and_lists_every_served_file(client, auth_api, submit, tmp_path):
    profile = publish_model(auth_api, submit)
    index = client.get("/mud/index.json")
    assert index.status_code == 200
    document = json.loads(index.content)
    assert document["expires"] > document["generated"]
    assert document["feed_seq"] >= 2
    assert document["signer"] in document["certificates"]
    entry = next(f for f in document["files"] if f["path"] == "mud/acme/cam-1.json")
    assert entry == {
        "path": "mud/acme/cam-1.json",
        "sha256": profile.etag,
        "version": profile.version,
        "signature": "mud/acme/cam-1.p7s",
    }
    (tmp_path / "index.json").write_bytes(index.content)
    (tmp_path / "index.p7s").write_bytes(client.get("/mud/index.p7s").content)
    (tmp_path / "ca.pem").write_bytes(client.get("/.well-known/mudhub/aggregator.pem").content)
    assert openssl_cms_verify(tmp_path / "index.p7s", tmp_path / "index.json", tmp_path / "ca.pem").returncode == 0


def test_a_profile_of_200_flows_is_served_with_no_acl_over_50_aces(client, auth_api, submit, tmp_path):
    flows = [flow(f"svc{n}.acme.example") for n in range(200)]
    publish_model(auth_api, submit, *flows, model="Hub 200")
    served = client.get("/mud/acme/hub-200.json")
    document = json.loads(served.content)
    acls = document["ietf-access-control-list:acls"]["acl"]
    sizes = [len(acl["aces"]["ace"]) for acl in acls]
    assert sum(sizes) == 200 and max(sizes) == 50
    policy = document["ietf-mud:mud"]["from-device-policy"]["access-lists"]["access-list"]
    assert [p["name"] for p in policy] == ["from-ipv4", "from-ipv4-2", "from-ipv4-3", "from-ipv4-4"]
    (tmp_path / "hub.json").write_bytes(served.content)
    assert validate_mud(tmp_path / "hub.json").returncode == 0
    model = DeviceModel.objects.get(slug="hub-200")
    report = client.get(f"/api/v1/device-models/{model.pk}/consensus/").json()["managers"]
    assert report == [{"manager": "osmud", "fits": True, "acls": 4, "max_aces_in_an_acl": 50, "problems": []}]


def test_the_metadata_reports_a_profile_osmud_cannot_hold(client, auth_api, submit):
    flows = [flow(f"svc{n}.acme.example") for n in range(560)]
    publish_model(auth_api, submit, *flows, model="Hub 560")
    model = DeviceModel.objects.get(slug="hub-560")
    (report,) = client.get(f"/api/v1/device-models/{model.pk}/consensus/").json()["managers"]
    assert report["fits"] is False
    assert report["acls"] == 12
    assert report["problems"] == ["12 ACLs: osMUD keeps the first 10 and drops the rest"]
