"""Mirroring a MUD file the manufacturer publishes (RFC 8520): fetched with its signature
from a loopback HTTPS server with a test CA, verified like an upload, re-fetched by the beat
task once its cache-validity has passed, the last good version kept when a fetch fails."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from profiles.models import DeviceModel, ManufacturerDomain, SignedProfile
from profiles.services.catalog import device_model_resolve, manufacturer_resolve
from profiles.tasks import mirror_manufacturer_profiles
from tests.manufacturer_helpers import API, DOMAIN, FIRMWARE_SERVER, NTP, member_of, mud_file
from tests.pki import Identity, Pki, require_openssl
from tests.servers import HttpsServer, dnsmasq, https_server

pytestmark = pytest.mark.django_db


@dataclass
class Publisher:
    """The manufacturer's web server and signing key."""

    server: HttpsServer
    pki: Pki
    signer: Identity
    member: Any
    model: DeviceModel

    def url(self, path: str) -> str:
        return f"https://{DOMAIN}:{self.server.port}{path}"

    def publish(self, content: bytes, *, path: str = "/mud/cam-1.json", signature: bytes | None = None) -> None:
        self.server.serve(path, content, Content_Type="application/mud+json")
        self.server.serve(path.removesuffix(".json") + ".p7s", signature or self.pki.sign(content, self.signer))

    def mirror(self, path: str = "/mud/cam-1.json", firmware: tuple[str, ...] = ("2.0",)) -> Any:
        body = {"device_model": self.model.pk, "mud_url": self.url(path), "firmware": list(firmware)}
        return self.member.post("/api/v1/manufacturers/acme/profiles/", body, format="json")


@pytest.fixture
def publisher(auth_api, settings, tmp_path) -> Iterator[Publisher]:
    require_openssl()
    settings.CELERY_TASK_ALWAYS_EAGER = True
    pki = Pki(tmp_path)
    web_ca = pki.ca("Loopback Web CA")
    tls = pki.issue(web_ca, DOMAIN, dns_names=(DOMAIN,), key_usage="digitalSignature,keyEncipherment")
    signing_ca = pki.ca("Acme Devices CA")
    model = device_model_resolve(manufacturer=manufacturer_resolve(name="Acme"), name="Cam 1")
    ManufacturerDomain.objects.create(manufacturer=model.manufacturer, domain=DOMAIN, verified_at=timezone.now())
    member = member_of(auth_api, "acme")
    assert member.post("/api/v1/manufacturers/acme/certificates/", {"pem": signing_ca.pem.decode()},
                       format="json").status_code == 201  # fmt: skip
    with dnsmasq(addresses={DOMAIN: "127.0.0.1"}) as resolver, https_server(tls.cert_path, tls.key_path) as server:
        settings.MUDHUB_DNS_RESOLVER = resolver
        settings.MUDHUB_CLAIM_ALLOW_PRIVATE = True
        settings.MUDHUB_FETCH_CA_FILE = str(web_ca.cert_path)
        yield Publisher(server, pki, pki.issue(signing_ca, "Acme Release Signing"), member, model)


def test_it_mirrors_the_file_and_the_signature_beside_it(publisher, api):
    content = mud_file(API, NTP)
    publisher.publish(content)
    response = publisher.mirror()
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["mud_url"] == publisher.url("/mud/cam-1.json")
    assert body["signature_url"] == publisher.url("/mud/cam-1.p7s")
    assert body["cache_validity_hours"] == 48
    assert api.get(body["mud_download"]).content == content
    assert publisher.server.seen == ["/mud/cam-1.json", "/mud/cam-1.p7s"]


def test_it_follows_mud_signature_when_the_file_names_one(publisher):
    url = publisher.url("/signatures/cam-1-v2.p7s")
    content = mud_file(API, signature_url=url)
    publisher.server.serve("/mud/cam-1.json", content)
    publisher.server.serve("/signatures/cam-1-v2.p7s", publisher.pki.sign(content, publisher.signer))
    response = publisher.mirror()
    assert response.status_code == 201, response.content
    assert response.json()["signature_url"] == url


def test_a_url_off_the_verified_domains_is_refused(publisher):
    response = publisher.member.post("/api/v1/manufacturers/acme/profiles/", {
        "device_model": publisher.model.pk, "mud_url": f"https://elsewhere.test:{publisher.server.port}/m.json"},
        format="json")  # fmt: skip
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "not_verified_domain"
    assert publisher.server.seen == []


def test_a_url_with_an_impossible_port_is_a_clear_400(publisher):
    body = {"device_model": publisher.model.pk, "mud_url": f"https://{DOMAIN}:99999/mud/cam-1.json"}
    response = publisher.member.post("/api/v1/manufacturers/acme/profiles/", body, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "fetch_failed"


def test_a_failed_fetch_or_bad_signature_stores_nothing(publisher):
    missing = publisher.mirror("/mud/absent.json")
    assert missing.status_code == 400 and missing.json()["code"] == "fetch_failed"
    content = mud_file(API)
    publisher.publish(content, signature=publisher.pki.sign(content + b" ", publisher.signer))
    forged = publisher.mirror()
    assert forged.status_code == 400 and forged.json()["errors"][0]["code"] == "digest_mismatch"
    assert not SignedProfile.objects.exists()


def _age(profile_id: int, hours: int) -> None:
    SignedProfile.objects.filter(pk=profile_id).update(fetched_at=timezone.now() - timedelta(hours=hours))


def test_the_beat_task_refetches_once_the_cache_validity_has_passed(publisher):
    publisher.publish(mud_file(API, NTP))
    first = publisher.mirror().json()
    assert mirror_manufacturer_profiles.apply().get() == 0  # fresh: nothing due
    newer = mud_file(API, NTP, FIRMWARE_SERVER)
    publisher.publish(newer)
    _age(first["id"], 47)
    assert mirror_manufacturer_profiles.apply().get() == 0
    _age(first["id"], 49)
    assert mirror_manufacturer_profiles.apply().get() == 1
    current = SignedProfile.objects.get(superseded_by__isnull=True)
    assert current.pk != first["id"] and bytes(current.mud) == newer
    assert current.firmware == ["2.0"] and current.mud_url == first["mud_url"]
    assert SignedProfile.objects.get(pk=first["id"]).superseded_by_id == current.pk


@pytest.mark.parametrize("breakage", ["gone", "bad signature", "unpinned signer"])
def test_a_failed_refetch_keeps_the_last_good_version(publisher, breakage):
    content = mud_file(API, NTP)
    publisher.publish(content)
    first = publisher.mirror().json()
    newer = mud_file(API)
    if breakage == "gone":
        publisher.server.routes.clear()
    elif breakage == "bad signature":
        publisher.publish(newer, signature=publisher.pki.sign(content, publisher.signer))
    else:
        stranger = publisher.pki.issue(publisher.pki.ca("Someone Else CA"), "Acme Release Signing")
        publisher.publish(newer, signature=publisher.pki.sign(newer, stranger))
    _age(first["id"], 49)
    assert mirror_manufacturer_profiles.apply().get() == 1
    kept = SignedProfile.objects.get()
    assert kept.pk == first["id"] and bytes(kept.mud) == content
    assert kept.fetch_error
    assert kept.fetched_at > timezone.now() - timedelta(minutes=5)
