"""Who may act for a manufacturer: every cell of the matrix, for every write of issue 11.

Only the manufacturer's members claim, verify, upload, withdraw, state and answer. Moderators
add and remove members and may pin (rotate) and revoke certificates, and nothing else.
Anonymous requests get 401; everyone else 403, and nothing changes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from django.utils import timezone

from profiles.models import (
    DeviceModel,
    Discrepancy,
    FlowStatement,
    Manufacturer,
    ManufacturerDecision,
    ManufacturerDomain,
    ManufacturerMember,
    SignedProfile,
    SigningCertificate,
)
from profiles.services.catalog import device_model_resolve, manufacturer_resolve
from profiles.services.flows import flows_ensure
from profiles.services.native_flows import flows_from_native
from profiles.services.signed_profiles import profile_store
from tests.manufacturer_helpers import API, DOMAIN, METRICS, mud_file
from tests.pki import Identity, Pki, require_openssl

pytestmark = pytest.mark.django_db

CONTENT = mud_file(API)


@dataclass(frozen=True)
class Keys:
    ca: Identity
    rotated: Identity
    signature: bytes


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Keys:
    require_openssl()
    pki = Pki(tmp_path_factory.mktemp("pki"))
    ca = pki.ca("Acme CA")
    return Keys(ca=ca, rotated=pki.ca("Acme CA 2"), signature=pki.sign(CONTENT, pki.issue(ca, "Acme Signing")))


@dataclass
class World:
    acme: Manufacturer
    model: DeviceModel
    claim: ManufacturerDomain
    certificate: SigningCertificate
    profile: SignedProfile
    discrepancy: Discrepancy
    flow_key: str
    member_name: str
    newcomer_name: str


@pytest.fixture
def world(auth_api: Any, keys: Keys) -> World:
    from cryptography.hazmat.primitives import serialization

    from profiles.signing.verify import load_certificate

    acme = manufacturer_resolve(name="Acme")
    model = device_model_resolve(manufacturer=acme, name="Cam 1")
    ManufacturerDomain.objects.create(manufacturer=acme, domain=DOMAIN, verified_at=timezone.now(), token="t")
    claim = ManufacturerDomain.objects.create(manufacturer=acme, domain="other-acme.test", token="pending")
    ca = load_certificate(keys.ca.pem)
    certificate = SigningCertificate.objects.create(
        manufacturer=acme, der=ca.public_bytes(serialization.Encoding.DER), fingerprint="f" * 64, subject="CN=Acme CA",
        not_before=ca.not_valid_before_utc, not_after=ca.not_valid_after_utc,
    )  # fmt: skip
    profile, _ = profile_store(
        actor=None, manufacturer=acme, device_model=model, content=CONTENT, signature=keys.signature, firmware=["2.0"]
    )
    flows, _ = flows_from_native([METRICS])
    (flow_id,) = flows_ensure(flows).values()
    discrepancy = Discrepancy.objects.create(
        device_model=model, scope="2.0", flow_id=flow_id, first_seen=timezone.now()
    )
    member = auth_api(trust_level=1)
    ManufacturerMember.objects.create(manufacturer=acme, contributor=member.contributor)
    newcomer = auth_api(trust_level=0).contributor.user.username
    return World(acme, model, claim, certificate, profile, discrepancy, next(iter(flows)).key,
                 member.contributor.user.username, newcomer)  # fmt: skip


def _actions(world: World, keys: Keys) -> dict[str, tuple[str, str, Any]]:
    """name -> (method, path, body) of every manufacturer write."""
    slug, model = world.acme.slug, world.model.pk
    return {
        "add member": ("post", f"/api/v1/manufacturers/{slug}/members/", {"username": world.newcomer_name}),
        "remove member": ("delete", f"/api/v1/manufacturers/{slug}/members/{world.member_name}/", None),
        "claim": ("post", f"/api/v1/manufacturers/{slug}/claims/", {"domain": "new-acme.test", "method": "dns"}),
        "list claims": ("get", f"/api/v1/manufacturers/{slug}/claims/", None),
        "verify": ("post", f"/api/v1/manufacturers/{slug}/claims/{world.claim.pk}/verify/", None),
        "pin": ("post", f"/api/v1/manufacturers/{slug}/certificates/", {"pem": keys.rotated.pem.decode()}),
        "revoke": ("delete", f"/api/v1/manufacturers/{slug}/certificates/{world.certificate.pk}/", None),
        "upload": ("post", f"/api/v1/manufacturers/{slug}/profiles/", "multipart"),
        "withdraw": ("delete", f"/api/v1/manufacturers/{slug}/profiles/{world.profile.pk}/", None),
        "state": ("post", f"/api/v1/device-models/{model}/statements/", {"flow": world.flow_key, "verdict": "reject"}),
        "answer": (
            "post",
            f"/api/v1/device-models/{model}/discrepancies/{world.discrepancy.pk}/response/",
            {"state": "acknowledged", "comment": "seen"},
        ),
    }


def _send(client: Any, method: str, path: str, body: Any, world: World, keys: Keys) -> Any:
    if body == "multipart":
        from django.core.files.uploadedfile import SimpleUploadedFile

        data = {"device_model": world.model.pk, "mud": SimpleUploadedFile("m.json", CONTENT),
                "signature": SimpleUploadedFile("m.p7s", keys.signature), "firmware": ["3.0"]}  # fmt: skip
        return client.post(path, data, format="multipart")
    return getattr(client, method)(path, body, format="json") if body is not None else getattr(client, method)(path)


def _state() -> tuple[object, ...]:
    """Everything a manufacturer write could change."""
    return (
        sorted(ManufacturerMember.objects.values_list("manufacturer_id", "contributor_id")),
        sorted(ManufacturerDomain.objects.values_list("domain", "verified_at", "token", "checked_at")),
        sorted(SigningCertificate.objects.values_list("fingerprint", "retired_at", "revoked_at")),
        sorted(SignedProfile.objects.values_list("id", "withdrawn_at", "superseded_by")),
        FlowStatement.objects.count(),
        sorted(Discrepancy.objects.values_list("id", "state", "comment")),
        ManufacturerDecision.objects.count(),
    )


def _outsider(name: str, auth_api: Any, api: Any, world: World) -> Any:
    if name == "anonymous":
        return api
    if name.startswith("TL"):
        return auth_api(trust_level=int(name[2:]))
    if name == "another manufacturer's member":
        client = auth_api(trust_level=3)
        other = manufacturer_resolve(name="Other Corp")
        ManufacturerMember.objects.create(manufacturer=other, contributor=client.contributor)
        return client
    assert name == "moderator"
    return auth_api(trust_level=3, is_moderator=True)


# What a moderator who is not a member may do (CONSENSUS.md: rotating a pinned certificate
# needs the old key or a moderator; the first member is a moderator's to add).
MODERATOR_MAY = {"add member", "remove member", "pin", "revoke"}
OUTSIDERS = ["anonymous", "TL0", "TL1", "TL2", "TL3", "another manufacturer's member", "moderator"]


@pytest.mark.parametrize("who", OUTSIDERS)
def test_nobody_but_a_member_acts_for_the_manufacturer(who, auth_api, api, world, keys):
    client = _outsider(who, auth_api, api, world)
    for action, (method, path, body) in _actions(world, keys).items():
        if who == "moderator" and action in MODERATOR_MAY:
            continue
        before = _state()
        response = _send(client, method, path, body, world, keys)
        expected = 401 if who == "anonymous" else 403
        assert response.status_code == expected, f"{who} / {action}: {response.status_code} {response.content[:200]!r}"
        assert response.json()["code"] in {"not_authenticated", "not_a_member"}, f"{who} / {action}"
        assert _state() == before, f"{who} / {action} changed something"


@pytest.mark.parametrize("action", sorted(MODERATOR_MAY))
def test_a_moderator_may_manage_members_and_certificates(action, auth_api, world, keys):
    moderator = auth_api(trust_level=3, is_moderator=True)
    method, path, body = _actions(world, keys)[action]
    response = _send(moderator, method, path, body, world, keys)
    assert response.status_code in {200, 201, 204}, f"moderator / {action}: {response.content[:300]!r}"
    decision = ManufacturerDecision.objects.order_by("-id").first()
    assert decision is not None and decision.as_moderator


@pytest.mark.parametrize(
    "action", ["claim", "list claims", "upload", "withdraw", "state", "answer", "add member", "remove member",
               "revoke", "verify"],
)  # fmt: skip
def test_a_member_may(action, auth_api, world, keys):
    from knox.models import AuthToken
    from rest_framework.test import APIClient

    from profiles.models import Contributor

    member = Contributor.objects.get(user__username=world.member_name)
    _, token = AuthToken.objects.create(member.user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    method, path, body = _actions(world, keys)[action]
    response = _send(client, method, path, body, world, keys)
    if action == "verify":  # allowed, but nothing publishes the token: a 400 that says so
        assert response.status_code == 400
        assert response.json()["code"] == "claim_not_verified"
        return
    assert response.status_code in {200, 201, 204}, f"member / {action}: {response.content[:300]!r}"
