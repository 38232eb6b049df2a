"""The manufacturer console from the pages: who may use it, and errors shown with their path."""

from __future__ import annotations

import pytest
from django.utils import timezone

from profiles.models import (
    DeviceModel,
    FlowStatement,
    Manufacturer,
    ManufacturerDecision,
    ManufacturerDomain,
    ManufacturerMember,
    SignedProfile,
)
from profiles.services.certificates import certificate_pin
from tests.factories import ContributorFactory, ManufacturerFactory
from tests.helpers import flow, payload, settle
from tests.manufacturer_helpers import native_keys
from tests.pki import Pki, require_openssl
from tests.web.data import submit

pytestmark = pytest.mark.django_db


@pytest.fixture
def acme():
    submit(ContributorFactory(trust_level=2), payload(flow("api.acme.test")))
    return Manufacturer.objects.get(slug="acme")


def member_client(client, manufacturer):
    person = ContributorFactory()
    ManufacturerMember.objects.create(manufacturer=manufacturer, contributor=person)
    client.force_login(person.user)
    return person


def test_only_members_and_moderators_open_the_console(client, acme):
    client.force_login(ContributorFactory(trust_level=3).user)
    response = client.get("/manufacturers/acme/console/")
    assert response.status_code == 403
    assert "Only members of Acme or a moderator may do this." in response.content.decode()
    assert client.post("/manufacturers/acme/console/", {"action": "member_add", "username": "x"}).status_code == 403
    assert not ManufacturerMember.objects.exists()


def test_a_moderator_adds_the_first_member_and_sees_no_claim_token(client, acme):
    ManufacturerDomain.objects.create(manufacturer=acme, domain="acme.test", token="secret-token-42")
    moderator = ContributorFactory(trust_level=3, is_moderator=True)
    client.force_login(moderator.user)
    # The list page opens any manufacturer's console for a moderator.
    assert 'option value="acme"' in client.get("/manufacturers/").content.decode()
    response = client.get("/manufacturers/?manufacturer=acme")
    assert response.status_code == 302 and response["Location"] == "/manufacturers/acme/console/"
    body = client.get("/manufacturers/acme/console/").content.decode()
    assert "You see this console as a moderator" in body
    assert "secret-token-42" not in body and 'value="upload"' not in body and 'value="statement"' not in body
    first = ContributorFactory()
    response = client.post("/manufacturers/acme/console/", {"action": "member_add", "username": first.user.username})
    assert response.status_code == 302 and response["Location"] == "/manufacturers/acme/console/"
    member = ManufacturerMember.objects.get()
    assert (member.contributor, member.added_by) == (first, moderator)
    decision = ManufacturerDecision.objects.get()
    assert (decision.kind, decision.as_moderator) == ("member_add", True)
    # What only members do stays refused, with the service's reason.
    model = DeviceModel.objects.get()
    statement = {"action": "statement", "device_model": model.pk, "flow": "any", "verdict": "allow"}
    refused = client.post("/manufacturers/acme/console/", statement)
    assert refused.status_code == 403
    assert "Only members of Acme may do this for it." in refused.content.decode()
    assert not FlowStatement.objects.exists()


def test_a_member_sees_the_console_and_the_list_names_it(client, acme):
    member_client(client, acme)
    assert 'href="/manufacturers/acme/console/"' in client.get("/manufacturers/").content.decode()
    assert client.get("/manufacturers/acme/console/").status_code == 200


def test_a_claim_shows_the_exact_record_to_publish(client, acme):
    member_client(client, acme)
    response = client.post(
        "/manufacturers/acme/console/", {"action": "claim", "domain": "Acme.TEST", "method": "https"}
    )
    assert response.status_code == 302
    claim = ManufacturerDomain.objects.get()
    body = client.get("/manufacturers/acme/console/").content.decode()
    assert f"https://acme.test/.well-known/mudhub-challenge/{claim.token}" in body
    assert f'<code id="record-{claim.pk}">{claim.token}</code>' in body


def test_a_public_suffix_cannot_be_claimed_and_the_page_says_why(client, acme):
    member_client(client, acme)
    response = client.post("/manufacturers/acme/console/", {"action": "claim", "domain": "co.uk", "method": "dns"})
    assert response.status_code == 400
    assert "co.uk is a public suffix" in response.content.decode()
    assert not ManufacturerDomain.objects.exists()


def test_an_upload_without_files_lists_each_missing_part(client, acme):
    member_client(client, acme)
    response = client.post("/manufacturers/acme/console/", {"action": "upload", "device_model": "0"})
    body = response.content.decode()
    assert response.status_code == 400
    assert "/mud" in body and "/signature" in body and "/device_model" in body
    assert not SignedProfile.objects.exists()


def test_the_catalogue_filters_models_with_a_manufacturer_profile(client, acme):
    body = client.get("/?has_manufacturer_profile=false").content.decode()
    assert "Cam 1<" in body
    assert "0 device models" in client.get("/?has_manufacturer_profile=true").content.decode()
    assert DeviceModel.objects.count() == 1


def test_a_member_adds_and_removes_a_colleague_and_the_record_says_so(client, acme):
    member_client(client, acme)
    colleague = ContributorFactory()
    name = colleague.user.username
    assert client.post("/manufacturers/acme/console/", {"action": "member_add", "username": name}).status_code == 302
    assert ManufacturerMember.objects.filter(manufacturer=acme, contributor=colleague).exists()
    body = client.get("/manufacturers/acme/console/").content.decode()
    assert f'aria-label="Remove {name}"' in body
    response = client.post("/manufacturers/acme/console/", {"action": "member_remove", "username": name})
    assert response.status_code == 302
    assert not ManufacturerMember.objects.filter(contributor=colleague).exists()
    kinds = list(ManufacturerDecision.objects.filter(manufacturer=acme).values_list("kind", "subject"))
    assert kinds == [("member_remove", f"member {name}"), ("member_add", f"member {name}")]


def test_adding_an_unknown_account_says_which_and_stores_nothing(client, acme):
    member_client(client, acme)
    response = client.post("/manufacturers/acme/console/", {"action": "member_add", "username": "nobody-here"})
    assert response.status_code == 400
    assert "no account is named &#x27;nobody-here&#x27;" in response.content.decode()
    assert ManufacturerMember.objects.count() == 1


def test_a_member_who_removes_themself_goes_back_to_their_list(client, acme):
    me = member_client(client, acme)
    response = client.post("/manufacturers/acme/console/", {"action": "member_remove", "username": me.user.username})
    assert response.status_code == 302 and response["Location"] == "/manufacturers/"
    assert client.get("/manufacturers/acme/console/").status_code == 403


def test_a_statement_needs_a_verified_domain(client, acme):
    member_client(client, acme)
    model = DeviceModel.objects.get()
    key = next(iter(native_keys(flow("api.acme.test"))))
    response = client.post(
        "/manufacturers/acme/console/",
        {"action": "statement", "device_model": model.pk, "flow": key, "verdict": "reject"},
    )
    assert response.status_code == 403
    assert "Acme must verify a domain before it makes statements." in response.content.decode()
    assert not FlowStatement.objects.exists()


def test_an_incomplete_statement_lists_every_missing_part(client, acme):
    member_client(client, acme)
    ManufacturerDomain.objects.create(manufacturer=acme, domain="acme.test", verified_at=timezone.now())
    response = client.post(
        "/manufacturers/acme/console/", {"action": "statement", "device_model": "x", "verdict": "maybe"}
    )
    body = response.content.decode()
    assert response.status_code == 400
    for path in ("/device_model", "/flow", "/verdict"):
        assert f"<code>{path}</code>" in body
    assert not FlowStatement.objects.exists()


def test_the_statement_form_lists_the_flows_of_the_chosen_model(client, acme):
    submit(ContributorFactory(trust_level=2), payload(flow("ntp.acme.test", 123, protocol=17), model="Cam 2"))
    for model in DeviceModel.objects.all():
        settle(model.pk)
    member_client(client, acme)
    cam2 = DeviceModel.objects.get(slug="cam-2")
    headers = {"HX-Request": "true", "HX-Target": "statement-form"}
    response = client.get(f"/manufacturers/acme/console/?statement_model={cam2.pk}", headers=headers)
    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith('<div id="statement-form"')  # the fragment, not the page
    assert "A statement on Cam 2" in body
    (ntp,) = native_keys(flow("ntp.acme.test", 123, protocol=17))
    (api,) = native_keys(flow("api.acme.test"))
    assert f"<option>{ntp}</option>" in body and api not in body
    # Without htmx the same choice is the whole console, with that model's flows.
    page = client.get(f"/manufacturers/acme/console/?statement_model={cam2.pk}").content.decode()
    assert "<h1>Acme</h1>" in page and f"<option>{ntp}</option>" in page


def test_mirroring_needs_an_https_url_on_a_verified_domain(client, acme):
    member_client(client, acme)
    model = DeviceModel.objects.get()
    response = client.post(
        "/manufacturers/acme/console/",
        {"action": "mirror", "device_model": model.pk, "mud_url": "http://elsewhere.test/m.json"},
    )
    assert response.status_code == 400
    assert "an https URL on one of the manufacturer&#x27;s verified domains is needed" in response.content.decode()
    missing = client.post("/manufacturers/acme/console/", {"action": "mirror", "device_model": "0"})
    assert missing.status_code == 400
    assert (
        "<code>/mud_url</code>" in missing.content.decode() and "<code>/device_model</code>" in missing.content.decode()
    )
    assert not SignedProfile.objects.exists()


def test_revoke_and_withdraw_reach_only_this_manufacturers_rows(client, acme, tmp_path):
    require_openssl()
    other = ManufacturerFactory(name="Other", slug="other")
    moderator = ContributorFactory(trust_level=3, is_moderator=True)
    pem = Pki(tmp_path).ca("Other CA").pem.decode()
    certificate, _ = certificate_pin(actor=moderator, manufacturer=other, pem=pem)
    member_client(client, acme)
    response = client.post("/manufacturers/acme/console/", {"action": "revoke", "certificate": certificate.pk})
    assert response.status_code == 404
    assert "No such certificate." in response.content.decode()
    certificate.refresh_from_db()
    assert certificate.revoked_at is None
    response = client.post("/manufacturers/acme/console/", {"action": "withdraw", "profile": "12345"})
    assert response.status_code == 404
