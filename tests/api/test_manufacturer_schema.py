"""What the manufacturer operations answer is what the OpenAPI document says (the contract run,
acting as a member, found these): usernames of people no longer there (or of the operator) are
null, a profile's MUD download is a JSON object, re-pinning a revoked certificate is a
documented 409."""

from __future__ import annotations

from typing import Any

import pytest
from drf_spectacular.generators import SchemaGenerator

from profiles.models import DeviceModel
from profiles.services.catalog import device_model_resolve, manufacturer_resolve
from profiles.services.manufacturers import member_add
from tests.manufacturer_helpers import API, member_of, mud_file, upload
from tests.pki import Identity, Pki, require_openssl

pytestmark = pytest.mark.django_db

CONTENT = mud_file(API)


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return SchemaGenerator().get_schema(request=None, public=True)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    require_openssl()
    return Pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def ca(pki: Pki) -> Identity:
    return pki.ca("Acme Schema CA")


@pytest.fixture
def model() -> DeviceModel:
    return device_model_resolve(manufacturer=manufacturer_resolve(name="Acme"), name="Cam 1")


@pytest.fixture
def member(auth_api: Any, model: DeviceModel, ca: Identity) -> Any:
    client = member_of(auth_api, "acme", trust_level=1)
    response = client.post("/api/v1/manufacturers/acme/certificates/", {"pem": ca.pem.decode()}, format="json")
    assert response.status_code == 201, response.content
    return client


def _component(document: dict[str, Any], name: str) -> dict[str, Any]:
    return document["components"]["schemas"][name]["properties"]


def test_the_people_a_row_names_are_nullable_and_an_operator_added_member_is_null(document, member, model, auth_api):
    newcomer = auth_api(trust_level=1).contributor.user.username
    member_add(actor=None, manufacturer=model.manufacturer, username=newcomer, by_operator=True)
    rows = member.get("/api/v1/manufacturers/acme/members/").json()["results"]
    assert {row["username"]: row["added_by"] for row in rows}[newcomer] is None
    nullable = {
        ("Member", "added_by"), ("Certificate", "pinned_by"), ("SignedProfile", "uploaded_by"),
        ("Statement", "made_by"), ("Discrepancy", "responded_by"), ("ManufacturerDecision", "actor"),
    }  # fmt: skip
    for component, field in nullable:
        assert _component(document, component)[field].get("nullable") is True, (component, field)


def test_a_profiles_mud_download_is_documented_as_the_json_object_it_is(document, member, model, pki, ca):
    response = upload(member, "acme", model.pk, CONTENT, pki.sign(CONTENT, pki.issue(ca, "Acme Signing")))
    assert response.status_code == 201, response.content
    download = member.get(response.json()["mud_download"])
    assert download.status_code == 200 and download["Content-Type"] == "application/mud+json"
    assert download.content == CONTENT and isinstance(download.json(), dict)
    operation = document["paths"]["/api/v1/manufacturers/{slug}/profiles/{id}/mud/"]["get"]
    assert operation["responses"]["200"]["content"]["application/mud+json"]["schema"]["type"] == "object"


def test_pinning_a_revoked_certificate_again_is_a_documented_409(document, member, ca):
    (pinned,) = member.get("/api/v1/manufacturers/acme/certificates/").json()["results"]
    assert member.delete(f"/api/v1/manufacturers/acme/certificates/{pinned['id']}/").status_code == 200
    again = member.post("/api/v1/manufacturers/acme/certificates/", {"pem": ca.pem.decode()}, format="json")
    assert again.status_code == 409, again.content
    assert again.json()["code"] == "certificate_withdrawn"
    paths = document["paths"]
    for path in ("/api/v1/manufacturers/{slug}/certificates/", "/api/v1/manufacturers/{slug}/claims/",
                 "/api/v1/manufacturers/{slug}/claims/{id}/verify/"):  # fmt: skip
        conflict = paths[path]["post"]["responses"]["409"]
        assert conflict["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}, path
