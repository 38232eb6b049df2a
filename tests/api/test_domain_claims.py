"""Domain claims through the API: DNS TXT against a real dnsmasq, HTTPS well-known against a
real loopback HTTPS server with a test CA; one manufacturer per verified domain."""

from __future__ import annotations

from typing import Any

import pytest

from profiles.models import ManufacturerDecision, ManufacturerDomain
from profiles.services.catalog import manufacturer_resolve
from tests.manufacturer_helpers import DOMAIN, member_of
from tests.pki import Pki, require_openssl
from tests.servers import dnsmasq, https_server

pytestmark = pytest.mark.django_db


@pytest.fixture
def member(auth_api: Any) -> Any:
    manufacturer_resolve(name="Acme")
    return member_of(auth_api, "acme")


def claim(client: Any, domain: str = DOMAIN, method: str = "dns", slug: str = "acme") -> Any:
    return client.post(f"/api/v1/manufacturers/{slug}/claims/", {"domain": domain, "method": method}, format="json")


def verify(client: Any, claim_id: int, slug: str = "acme") -> Any:
    return client.post(f"/api/v1/manufacturers/{slug}/claims/{claim_id}/verify/")


def test_a_dns_claim_is_verified_by_its_txt_record(member, settings):
    made = claim(member, "Acme.TEST.")
    assert made.status_code == 201
    body = made.json()
    assert body["domain"] == DOMAIN and body["verified_at"] is None
    with dnsmasq(txt={body["dns_name"]: [body["dns_value"]]}) as resolver:
        settings.MUDHUB_DNS_RESOLVER = resolver
        verified = verify(member, body["id"])
    assert verified.status_code == 200
    assert ManufacturerDomain.objects.get(pk=body["id"]).verified_at is not None
    assert ManufacturerDecision.objects.filter(kind="domain_verify", subject__contains=DOMAIN).exists()


def test_a_wrong_or_missing_token_leaves_the_claim_unverified_and_says_why(member, settings):
    body = claim(member).json()
    with dnsmasq(txt={body["dns_name"]: ["someone-elses-token"]}) as resolver:
        settings.MUDHUB_DNS_RESOLVER = resolver
        refused = verify(member, body["id"])
    assert refused.status_code == 400
    assert refused.json()["code"] == "claim_not_verified"
    assert "holds the token" in refused.json()["errors"][0]["message"]
    listed = member.get("/api/v1/manufacturers/acme/claims/").json()["results"]
    assert listed[0]["verified_at"] is None and "holds the token" in listed[0]["last_error"]


def test_an_https_claim_is_verified_at_the_well_known_url(member, settings, tmp_path):
    require_openssl()
    pki = Pki(tmp_path)
    ca = pki.ca("Loopback Web CA")
    tls = pki.issue(ca, DOMAIN, dns_names=(DOMAIN,), key_usage="digitalSignature,keyEncipherment")
    body = claim(member, method="https").json()
    with dnsmasq(addresses={DOMAIN: "127.0.0.1"}) as resolver, https_server(tls.cert_path, tls.key_path) as server:
        settings.MUDHUB_DNS_RESOLVER = resolver
        settings.MUDHUB_CLAIM_HTTPS_PORT = server.port
        settings.MUDHUB_FETCH_CA_FILE = str(ca.cert_path)
        server.serve(f"/.well-known/mudhub-challenge/{body['token']}", body["token"].encode() + b"\n")
        # Loopback is refused unless the test setting allows it.
        refused = verify(member, body["id"])
        assert refused.status_code == 400
        assert "private, loopback" in refused.json()["errors"][0]["message"]
        settings.MUDHUB_CLAIM_ALLOW_PRIVATE = True
        verified = verify(member, body["id"])
        assert server.seen == [f"/.well-known/mudhub-challenge/{body['token']}"]
    assert verified.status_code == 200, verified.content
    assert verified.json()["verified_at"] is not None


def test_a_domain_verified_by_one_manufacturer_cannot_be_claimed_by_another(member, auth_api, settings):
    body = claim(member).json()
    with dnsmasq(txt={body["dns_name"]: [body["dns_value"]]}) as resolver:
        settings.MUDHUB_DNS_RESOLVER = resolver
        assert verify(member, body["id"]).status_code == 200
    manufacturer_resolve(name="Rival")
    rival = member_of(auth_api, "rival")
    taken = claim(rival, slug="rival")
    assert taken.status_code == 409
    assert taken.json()["code"] == "domain_taken"
    assert not ManufacturerDomain.objects.filter(manufacturer__slug="rival").exists()


def test_a_claim_made_before_another_verified_the_domain_cannot_be_verified(member, auth_api, settings):
    manufacturer_resolve(name="Rival")
    rival = member_of(auth_api, "rival")
    early = claim(rival, slug="rival").json()
    body = claim(member).json()
    assert body["dns_name"] == early["dns_name"]
    with dnsmasq(txt={body["dns_name"]: [body["dns_value"], early["dns_value"]]}) as resolver:
        settings.MUDHUB_DNS_RESOLVER = resolver
        assert verify(member, body["id"]).status_code == 200
        late = verify(rival, early["id"], slug="rival")
    assert late.status_code == 409


@pytest.mark.parametrize(
    ("domain", "why"),
    [("com", "public suffix"), ("co.uk", "public suffix"), ("github.io", "public suffix"), ("10.0.0.1", "IP address"),
     ("under_score.test", "not a valid"), ("-bad.test", "not a valid"), ("localhost", "public suffix")],
)  # fmt: skip
def test_it_refuses_what_cannot_be_claimed(member, domain, why):
    refused = claim(member, domain)
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["path"] == "/domain"
    assert why in refused.json()["errors"][0]["message"]
    assert not ManufacturerDomain.objects.exists()


def test_a_method_outside_dns_and_https_is_refused(member):
    refused = claim(member, method="email")
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["path"] == "/method"


def test_internationalised_names_are_claimed_in_their_a_label_form(member):
    made = claim(member, "bücher.test")
    assert made.status_code == 201
    assert made.json()["domain"] == "xn--bcher-kva.test"
