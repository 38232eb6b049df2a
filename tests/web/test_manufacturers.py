"""The manufacturer console from the pages: who may use it, and errors shown with their path."""

from __future__ import annotations

import pytest

from profiles.models import DeviceModel, Manufacturer, ManufacturerDomain, ManufacturerMember, SignedProfile
from tests.factories import ContributorFactory
from tests.helpers import flow, payload
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


def test_only_members_open_the_console(client, acme):
    client.force_login(ContributorFactory(trust_level=3, is_moderator=True).user)
    response = client.get("/manufacturers/acme/console/")
    assert response.status_code == 403
    assert "Only members of Acme may do this" in response.content.decode()


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
