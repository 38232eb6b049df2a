"""Signed profile uploads through the API: what `openssl cms -sign` makes is accepted, anything
else is a clear 4xx and stores nothing; newer profiles replace older ones; rotation and
revocation of the pinned certificates."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from profiles.models import DeviceModel, FirmwareVersion, ReputationEvent, SignedProfile, SigningCertificate
from profiles.services.catalog import device_model_resolve, manufacturer_resolve
from tests.helpers import payload, settle
from tests.manufacturer_helpers import (
    API,
    FIRMWARE_SERVER,
    METRICS,
    NTP,
    flow_keys,
    member_of,
    mud_file,
    native_keys,
    upload,
)
from tests.pki import Identity, Pki, openssl, require_openssl

pytestmark = pytest.mark.django_db

CONTENT = mud_file(API, NTP)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    require_openssl()
    return Pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def ca(pki: Pki) -> Identity:
    return pki.ca("Acme Devices CA")


@pytest.fixture(scope="module")
def signer(pki: Pki, ca: Identity) -> Identity:
    return pki.issue(ca, "Acme Release Signing")


@pytest.fixture
def model() -> DeviceModel:
    return device_model_resolve(manufacturer=manufacturer_resolve(name="Acme"), name="Cam 1")


@pytest.fixture
def member(auth_api: Any, model: DeviceModel, ca: Identity) -> Any:
    client = member_of(auth_api, "acme", trust_level=1)
    response = client.post("/api/v1/manufacturers/acme/certificates/", {"pem": ca.pem.decode()}, format="json")
    assert response.status_code == 201, response.content
    return client


def _refused(response: Any, code: str) -> None:
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "invalid_signature"
    assert [(p["code"], p["path"]) for p in body["errors"]] == [(code, "/signature")]
    assert not SignedProfile.objects.exists()
    assert not FirmwareVersion.objects.filter(version="2.0").exists()


def test_an_openssl_signature_by_a_certificate_the_pinned_ca_issued_is_accepted(member, model, pki, signer, api):
    signature = pki.sign(CONTENT, signer)
    response = upload(member, "acme", model.pk, CONTENT, signature, firmware=("2.0", "2.1"))
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["firmware"] == ["2.0", "2.1"]
    assert body["signer_subject"] == "CN=Acme Release Signing"
    assert api.get(body["signature_download"]).content == signature
    stored = SignedProfile.objects.get()
    assert bytes(stored.mud) == CONTENT and bytes(stored.signature) == signature
    assert set(FirmwareVersion.objects.filter(device_model=model).values_list("version", flat=True)) >= {"2.0", "2.1"}
    again = upload(member, "acme", model.pk, CONTENT, signature, firmware=("2.1", "2.0"))
    assert again.status_code == 200 and again.json()["id"] == body["id"]


def test_a_changed_byte_is_refused(member, model, pki, signer):
    signature = pki.sign(CONTENT, signer)
    changed = CONTENT.replace(b"api.acme.test", b"apj.acme.test")
    _refused(upload(member, "acme", model.pk, changed, signature, firmware=("2.0",)), "digest_mismatch")


def test_a_signature_by_another_key_is_refused(member, model, pki):
    stranger = pki.issue(pki.ca("Acme Devices CA"), "Acme Release Signing")  # same names, other keys
    _refused(upload(member, "acme", model.pk, CONTENT, pki.sign(CONTENT, stranger), firmware=("2.0",)), "unpinned")


def test_an_unpinned_self_signed_certificate_is_refused(member, model, pki):
    alone = pki.self_signed("Acme Release Signing")
    _refused(upload(member, "acme", model.pk, CONTENT, pki.sign(CONTENT, alone), firmware=("2.0",)), "unpinned")


def test_an_expired_certificate_is_refused(member, model, pki, ca):
    expired = pki.issue(ca, "Old Signing", start="20200101000000Z", end="20210101000000Z")
    _refused(upload(member, "acme", model.pk, CONTENT, pki.sign(CONTENT, expired), firmware=("2.0",)), "expired")


def test_a_pem_signature_is_refused(member, model, pki, signer):
    pem = pki.sign(CONTENT, signer, "-outform", "PEM")
    _refused(upload(member, "acme", model.pk, CONTENT, pem, firmware=("2.0",)), "not_der")


@pytest.mark.parametrize("mangle", [lambda s: s[: len(s) // 2], lambda s: s[:-1], lambda s: b"\x00garbage" * 20])
def test_a_truncated_or_garbage_signature_is_refused(member, model, pki, signer, mangle):
    _refused(upload(member, "acme", model.pk, CONTENT, mangle(pki.sign(CONTENT, signer)), firmware=("2.0",)),
             "malformed")  # fmt: skip


def test_an_empty_signature_file_is_refused(member, model):
    response = upload(member, "acme", model.pk, CONTENT, b"", firmware=("2.0",))
    assert response.status_code == 400
    assert [p["path"] for p in response.json()["errors"]] == ["/signature"]
    assert not SignedProfile.objects.exists()


def test_a_signed_file_that_is_not_strict_rfc_8520_is_refused_with_its_problems(member, model, pki, signer):
    broken = b'{"ietf-mud:mud": {"mud-version": 1}}'
    response = upload(member, "acme", model.pk, broken, pki.sign(broken, signer))
    assert response.status_code == 400
    assert all(p["path"].startswith("/mud") for p in response.json()["errors"])
    assert not SignedProfile.objects.exists()


def test_missing_parts_and_bad_firmware_are_listed(member, model):
    response = member.post(
        "/api/v1/manufacturers/acme/profiles/", {"device_model": model.pk, "firmware": ["latest"]}, format="multipart"
    )
    assert response.status_code == 400
    assert {p["path"] for p in response.json()["errors"]} == {"/mud", "/signature"}


def test_an_upload_over_the_body_limit_is_refused_before_it_is_read(member, model, settings):
    settings.MUDHUB_MAX_BODY_BYTES = 4096
    big = mud_file(API) + b" " * 8192
    response = upload(member, "acme", model.pk, big, b"\x30" * 10)
    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"
    assert not SignedProfile.objects.exists()


def test_another_manufacturers_model_is_refused(member, pki, signer):
    other = device_model_resolve(manufacturer=manufacturer_resolve(name="Other Corp"), name="Cam 1")
    response = upload(member, "acme", other.pk, CONTENT, pki.sign(CONTENT, signer))
    assert response.status_code == 400
    assert response.json()["errors"][0]["path"] == "/device_model"


def test_a_newer_profile_for_the_same_firmware_replaces_the_older(member, model, pki, signer, api):
    first = upload(member, "acme", model.pk, CONTENT, pki.sign(CONTENT, signer), firmware=("2.0",)).json()
    newer_content = mud_file(API, NTP, FIRMWARE_SERVER)
    newer = upload(member, "acme", model.pk, newer_content, pki.sign(newer_content, signer), firmware=("2.0",))
    assert newer.status_code == 201
    states = {row["id"]: row["state"] for row in api.get("/api/v1/manufacturers/acme/profiles/").json()["results"]}
    assert states == {first["id"]: "superseded", newer.json()["id"]: "active"}
    settle(model.pk)
    assert flow_keys(api.get("/mud/acme/cam-1/2.0.json").content) == native_keys(API, NTP, FIRMWARE_SERVER)


def test_rotation_needs_the_pinned_key_or_a_moderator(member, auth_api, pki, ca, signer, model):
    successor = pki.ca("Acme Devices CA 2027")
    refused = member.post("/api/v1/manufacturers/acme/certificates/", {"pem": successor.pem.decode()}, format="json")
    assert refused.status_code == 403
    assert refused.json()["code"] == "rotation_signature_required"
    wrong = base64.b64encode(pki.sign(successor.der, pki.self_signed("Impostor"))).decode()
    forged = member.post("/api/v1/manufacturers/acme/certificates/",
                         {"pem": successor.pem.decode(), "rotation_signature": wrong}, format="json")  # fmt: skip
    assert forged.status_code == 403 and forged.json()["errors"][0]["code"] == "unpinned"
    proof = base64.b64encode(pki.sign(successor.der, ca)).decode()
    rotated = member.post("/api/v1/manufacturers/acme/certificates/",
                          {"pem": successor.pem.decode(), "rotation_signature": proof}, format="json")  # fmt: skip
    assert rotated.status_code == 201, rotated.content
    old, new = SigningCertificate.objects.order_by("id")
    assert (
        old.retired_at is not None
        and new.retired_at is None
        and bytes(new.rotation_signature) == base64.b64decode(proof)
    )
    # The old CA verifies no new upload; the new one does.
    _refused(upload(member, "acme", model.pk, CONTENT, pki.sign(CONTENT, signer), firmware=("2.0",)), "unpinned")
    fresh = pki.issue(successor, "Acme Release Signing 2027")
    assert upload(member, "acme", model.pk, CONTENT, pki.sign(CONTENT, fresh)).status_code == 201


def test_an_expired_or_garbled_certificate_is_not_pinned(auth_api, model, pki):
    client = member_of(auth_api, "acme")
    response = client.post("/api/v1/manufacturers/acme/certificates/", {"pem": "-----BEGIN CERTIFICATE-----\nAAAA\n"},
                           format="json")  # fmt: skip
    assert response.status_code == 400 and response.json()["errors"][0]["path"] == "/pem"
    old_ca = pki.ca("Old CA")
    expired = pki.issue(old_ca, "Expired", start="20200101000000Z", end="20210101000000Z")
    response = client.post("/api/v1/manufacturers/acme/certificates/", {"pem": expired.pem.decode()}, format="json")
    assert response.status_code == 400 and response.json()["code"] == "certificate_expired"
    assert not SigningCertificate.objects.exists()


def test_a_revoked_certificate_takes_its_profiles_out_of_the_consensus(member, model, pki, signer, api, submit,
                                                                        auth_api):  # fmt: skip
    for _ in range(3):
        assert submit(auth_api(trust_level=3), payload(API, METRICS, firmware="2.0")).status_code == 201
    uploaded = upload(member, "acme", model.pk, CONTENT, pki.sign(CONTENT, signer), firmware=("2.0",))
    settle(model.pk)
    assert flow_keys(api.get("/mud/acme/cam-1/2.0.json").content) == native_keys(API, NTP)
    certificate = SigningCertificate.objects.get()
    assert member.delete(f"/api/v1/manufacturers/acme/certificates/{certificate.pk}/").status_code == 200
    settle(model.pk)
    assert flow_keys(api.get("/mud/acme/cam-1/2.0.json").content) == native_keys(API, METRICS)
    assert api.get(f"/api/v1/manufacturers/acme/profiles/{uploaded.json()['id']}/").json()["state"] == "revoked"


def test_a_flow_the_manufacturer_profile_confirms_credits_its_reporters(member, model, pki, signer, submit, auth_api):
    reporter = auth_api(trust_level=1)
    assert submit(reporter, payload(FIRMWARE_SERVER, firmware="2.0")).status_code == 201
    settle(model.pk)
    assert not ReputationEvent.objects.filter(contributor=reporter.contributor, kind="flow_confirmed").exists()
    content = mud_file(API, FIRMWARE_SERVER)
    assert upload(member, "acme", model.pk, content, pki.sign(content, signer), firmware=("2.0",)).status_code == 201
    settle(model.pk)
    event = ReputationEvent.objects.get(contributor=reporter.contributor, kind="flow_confirmed")
    assert (event.delta_r, event.delta_s) == (1.0, 0.0)


def test_the_signature_is_checked_with_openssl_too(pki, signer, ca, tmp_path):
    """The bytes the tests upload are what `openssl cms -verify` accepts as well: the fixture is real."""
    content, signature = tmp_path / "c.json", tmp_path / "c.p7s"
    content.write_bytes(CONTENT)
    signature.write_bytes(pki.sign(CONTENT, signer))
    openssl("cms", "-verify", "-binary", "-inform", "DER", "-in", signature, "-content", content, "-CAfile",
            ca.cert_path, "-purpose", "any", "-out", tmp_path / "out")  # fmt: skip
    assert (tmp_path / "out").read_bytes() == CONTENT


def test_an_expired_pinned_certificate_verifies_no_new_upload(member, model, pki, signer):
    from datetime import timedelta

    from django.utils import timezone

    SigningCertificate.objects.update(not_after=timezone.now() - timedelta(minutes=1))
    _refused(upload(member, "acme", model.pk, CONTENT, pki.sign(CONTENT, signer), firmware=("2.0",)), "unpinned")
