"""End-to-end in Chromium: the rest of the manufacturer console (members, statements, mirroring
from a URL, withdrawing a profile, revoking a certificate), each page checked like the others."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from profiles.models import (
    DeviceModel,
    FlowStatement,
    ManufacturerDecision,
    ManufacturerDomain,
    ManufacturerMember,
    SignedProfile,
    SigningCertificate,
)
from profiles.services.certificates import certificate_pin
from tests.factories import ContributorFactory
from tests.helpers import payload, settle
from tests.manufacturer_helpers import API, DOMAIN, FIRMWARE_SERVER, METRICS, NTP, mud_file, native_keys
from tests.pki import Pki, require_openssl
from tests.servers import dnsmasq, https_server
from tests.web.conftest import log_in
from tests.web.data import submit

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def test_a_manufacturer_manages_members_states_on_a_flow_mirrors_withdraws_and_revokes(web, settings, tmp_path):
    watched, base = web
    page = watched.page
    require_openssl()
    for _ in range(3):  # the crowd saw Cam 1 make three flows on firmware 2.0, and Cam 2 one
        submit(ContributorFactory(trust_level=3), payload(API, NTP, METRICS, firmware="2.0"))
    submit(ContributorFactory(trust_level=3), payload(NTP, model="Cam 2"))
    cam1, cam2 = DeviceModel.objects.get(slug="cam-1"), DeviceModel.objects.get(slug="cam-2")
    settle(cam1.pk)
    settle(cam2.pk)
    acme = cam1.manufacturer
    ManufacturerDomain.objects.create(manufacturer=acme, domain=DOMAIN, verified_at=timezone.now())
    member, colleague = ContributorFactory(trust_level=0), ContributorFactory(trust_level=0)
    ManufacturerMember.objects.create(manufacturer=acme, contributor=member)
    pki = Pki(tmp_path)
    signing_ca = pki.ca("Acme Devices CA")
    certificate_pin(actor=member, manufacturer=acme, pem=signing_ca.pem.decode())
    log_in(watched, base, member.user.username, "correct horse battery staple")
    page.goto(f"{base}/manufacturers/acme/console/")
    watched.check()

    # Members: add a colleague, refuse an unknown name with its path, remove the colleague.
    name = colleague.user.username
    page.get_by_label("Username to add").fill(name)
    page.get_by_role("button", name="Add the member").click()
    expect(page.get_by_role("status")).to_have_text(f"{name} is now a member.")
    expect(page.get_by_role("region", name="Table of members").get_by_role("link", name=name)).to_be_visible()
    watched.check()
    page.get_by_label("Username to add").fill("nobody-by-that-name")
    page.get_by_role("button", name="Add the member").click()
    expect(page.get_by_role("alert")).to_contain_text("/username no account is named 'nobody-by-that-name'")
    watched.check(400)
    page.get_by_role("button", name=f"Remove {name}").click()
    expect(page.get_by_role("status")).to_have_text(f"{name} is no longer a member.")
    assert list(ManufacturerMember.objects.values_list("contributor", flat=True)) == [member.pk]

    # A statement: choosing Cam 2 lists its flows without a reload; back to Cam 1, reject metrics.
    page.evaluate("window.__sameDocument = true")
    page.get_by_label("Model the statement is about").select_option(label="Cam 2")
    expect(page.get_by_role("heading", name="A statement on Cam 2")).to_be_visible()
    assert page.locator("#statement-flow option").all_inner_texts() == sorted(native_keys(NTP))
    page.get_by_label("Model the statement is about").select_option(label="Cam 1")
    expect(page.get_by_role("heading", name="A statement on Cam 1")).to_be_visible()
    assert page.evaluate("window.__sameDocument") is True
    watched.check()
    (metrics,) = native_keys(METRICS)
    page.get_by_label("Flow", exact=True).select_option(metrics)
    page.get_by_label("Reject: it should not").check()
    page.get_by_label("Firmware versions it concerns").fill("2.0")
    page.get_by_label("Comment (public)").fill("metrics were removed in 2.0")
    page.get_by_role("button", name="Publish the statement").click()
    expect(page.get_by_role("status")).to_have_text("Your statement (reject on Cam 1) is published.")
    statement = FlowStatement.objects.get()
    assert (statement.device_model, statement.flow.key, statement.verdict, statement.firmware) == (
        cam1, metrics, "reject", ["2.0"]
    )  # fmt: skip
    expect(page.get_by_role("region", name="Table of statements")).to_contain_text("metrics were removed in 2.0")
    watched.check()
    settle(cam1.pk)
    page.goto(f"{base}/devices/acme/cam-1/?firmware=2.0")
    rejected = page.get_by_role("region", name="Rejected flows").get_by_role("row").filter(has_text="metrics.acme.test")
    expect(rejected).to_contain_text("manufacturer statement")
    watched.check()

    # Mirroring: the file the manufacturer publishes on its verified domain, and its signature.
    web_ca = pki.ca("Loopback Web CA")
    tls = pki.issue(web_ca, DOMAIN, dns_names=(DOMAIN,), key_usage="digitalSignature,keyEncipherment")
    content = mud_file(API, NTP, FIRMWARE_SERVER)
    with dnsmasq(addresses={DOMAIN: "127.0.0.1"}) as resolver, https_server(tls.cert_path, tls.key_path) as server:
        settings.MUDHUB_DNS_RESOLVER = resolver
        settings.MUDHUB_CLAIM_ALLOW_PRIVATE = True
        settings.MUDHUB_FETCH_CA_FILE = str(web_ca.cert_path)
        server.serve("/mud/cam-1.json", content, Content_Type="application/mud+json")
        server.serve("/mud/cam-1.p7s", pki.sign(content, pki.issue(signing_ca, "Acme Release Signing")))
        url = f"https://{DOMAIN}:{server.port}/mud/cam-1.json"
        page.goto(f"{base}/manufacturers/acme/console/")
        page.get_by_label("Device model to mirror for").select_option(label="Cam 1")
        page.get_by_label("Firmware versions the mirrored file covers").fill("2.0")
        page.get_by_label("MUD URL").fill(url)
        page.get_by_role("button", name="Mirror the file").click()
        expect(page.get_by_role("status")).to_have_text(
            f"The profile at {url} is mirrored for Cam 1 (2.0) and fetched again as it expires."
        )
        assert server.seen == ["/mud/cam-1.json", "/mud/cam-1.p7s"]
    profile = SignedProfile.objects.get()
    assert (bytes(profile.mud), profile.mud_url, profile.firmware) == (content, url, ["2.0"])
    expect(page.get_by_role("region", name="Table of signed profiles")).to_contain_text(f"mirrored from {url}")
    watched.check()

    # Withdraw the profile, then revoke the certificate; both on the public record.
    page.get_by_role("button", name=f"Withdraw signed profile {profile.pk}").click()
    expect(page.get_by_role("status")).to_have_text(f"Signed profile {profile.pk} is withdrawn.")
    profile.refresh_from_db()
    assert profile.withdrawn_at is not None
    page.get_by_role("button", name=re.compile(r"^Revoke .*Acme Devices CA")).click()
    expect(page.get_by_role("status")).to_contain_text("is revoked; the profiles it signed no longer count.")
    assert SigningCertificate.objects.get().revoked_at is not None
    expect(page.get_by_role("region", name="Pinned certificates")).to_contain_text("revoked")
    kinds = set(ManufacturerDecision.objects.filter(manufacturer=acme).values_list("kind", flat=True))
    assert {"member_add", "member_remove", "statement", "profile_publish", "profile_withdraw"} <= kinds
    assert "certificate_revoke" in kinds
    watched.check()
    page.set_viewport_size({"width": 390, "height": 800})  # and on a phone
    page.reload()
    watched.check()


def test_a_moderator_adds_a_manufacturers_first_member_and_pins_its_certificate(web, tmp_path):
    watched, base = web
    page = watched.page
    require_openssl()
    submit(ContributorFactory(trust_level=3), payload(API))
    acme = DeviceModel.objects.get().manufacturer
    moderator, first = ContributorFactory(trust_level=3, is_moderator=True), ContributorFactory(trust_level=0)
    log_in(watched, base, moderator.user.username, "correct horse battery staple")
    page.get_by_role("link", name="Manufacturer console").click()
    watched.check()
    page.get_by_label("Manufacturer").select_option(label="Acme")
    page.get_by_role("button", name="Open its console").click()
    page.wait_for_url(f"{base}/manufacturers/acme/console/")
    expect(page.get_by_role("note")).to_contain_text("You see this console as a moderator")
    watched.check()
    page.get_by_label("Username to add").fill(first.user.username)
    page.get_by_role("button", name="Add the member").click()
    expect(page.get_by_role("status")).to_have_text(f"{first.user.username} is now a member.")
    member = ManufacturerMember.objects.get(manufacturer=acme)
    assert (member.contributor, member.added_by) == (first, moderator)
    ca = Pki(tmp_path).ca("Acme Devices CA")
    page.get_by_label("Certificate (PEM)").fill(ca.pem.decode())
    page.get_by_role("button", name="Pin the certificate").click()
    expect(page.get_by_role("status")).to_have_text("The certificate is pinned.")
    assert SigningCertificate.objects.get(manufacturer=acme).pinned_by == moderator
    decisions = ManufacturerDecision.objects.filter(manufacturer=acme)
    assert sorted(decisions.values_list("kind", "as_moderator")) == [("certificate_pin", True), ("member_add", True)]
    watched.check()
