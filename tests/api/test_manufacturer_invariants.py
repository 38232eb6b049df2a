"""Invariants 5 and 6 of CONSENSUS.md as property tests through the API and the gateway files.

5. For covered firmware, ALLOWED equals the manufacturer profile exactly; uncovered firmware
   is unaffected; DISCREPANCY is exactly the crowd-ALLOWED flows the profile omits.
6. Bad signatures, unpinned certificates, older or withdrawn profiles change nothing.

Each example builds a fresh manufacturer and model: the crowd (three trusted members on
firmware 1.0 and 2.0) sees one subset of a pool of flows, the manufacturer signs another.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from profiles.models import DeviceModel, Manufacturer, ManufacturerMember, SigningCertificate
from tests.helpers import flow, payload, settle
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
from tests.pki import Identity, Pki, require_openssl

pytestmark = pytest.mark.django_db

POOL = (API, NTP, METRICS, FIRMWARE_SERVER, flow(f"cdn.{DOMAIN}"), flow(f"push.{DOMAIN}", 8883))
subsets = st.sets(st.integers(min_value=0, max_value=len(POOL) - 1), min_size=1).map(sorted)
_numbers = itertools.count()


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> tuple[Pki, Identity, Identity, Identity]:
    require_openssl()
    pki = Pki(tmp_path_factory.mktemp("pki"))
    ca = pki.ca("Acme Devices CA")
    return pki, ca, pki.issue(ca, "Acme Release Signing"), pki.self_signed("Acme Release Signing")


def _states(api: Any, model: DeviceModel, scope: str) -> dict[str, str]:
    response = api.get(f"/api/v1/device-models/{model.pk}/consensus/?firmware={scope}")
    assert response.status_code == 200, response.content
    return {row["key"]: row["state"] for row in response.json()["flows"]}


def _everything(api: Any, model: DeviceModel) -> dict[str, dict[str, str]]:
    return {scope: _states(api, model, scope) for scope in ("latest", "1.0", "2.0")}


def _crowd(auth_api: Any, api: Any, indexes: list[int]) -> tuple[DeviceModel, Any]:
    number = next(_numbers)
    name = f"Acme{number}"
    for firmware in ("1.0", "2.0"):
        for _ in range(3):
            body = payload(*(POOL[i] for i in indexes), manufacturer=name, firmware=firmware)
            assert auth_api(trust_level=3).post("/api/v1/submissions/", body, format="json").status_code == 201
    model = DeviceModel.objects.get(manufacturer__slug=f"acme{number}")
    settle(model.pk)
    member = auth_api(trust_level=1)
    ManufacturerMember.objects.create(manufacturer=model.manufacturer, contributor=member.contributor)
    return model, member


def _pin(member: Any, manufacturer: Manufacturer, ca: Identity) -> None:
    response = member.post(f"/api/v1/manufacturers/{manufacturer.slug}/certificates/", {"pem": ca.pem.decode()},
                           format="json")  # fmt: skip
    assert response.status_code == 201, response.content


PROPERTY = settings(
    max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)


@PROPERTY
@given(crowd=subsets, signed=subsets, covers_all=st.booleans())
def test_invariant_5_covered_firmware_is_exactly_the_profile(auth_api, api, keys, crowd, signed, covers_all):
    pki, ca, signer, _ = keys
    model, member = _crowd(auth_api, api, crowd)
    before = _everything(api, model)
    # Not vacuous: the crowd alone allows everything it saw, on every scope.
    for scope in ("latest", "1.0", "2.0"):
        assert {k for k, s in before[scope].items() if s == "allowed"} == native_keys(*(POOL[i] for i in crowd))
    _pin(member, model.manufacturer, ca)
    content = mud_file(*(POOL[i] for i in signed))
    firmware = () if covers_all else ("2.0",)
    assert (
        upload(member, model.manufacturer.slug, model.pk, content, pki.sign(content, signer), firmware).status_code
        == 201
    )
    settle(model.pk)
    after = _everything(api, model)
    covered = ("latest", "1.0", "2.0") if covers_all else ("latest", "2.0")  # latest is 2.0, the newest
    profile_keys = native_keys(*(POOL[i] for i in signed))
    slug = model.manufacturer.slug
    for scope in ("latest", "1.0", "2.0"):
        allowed = {k for k, s in after[scope].items() if s == "allowed"}
        crowd_allowed = {k for k, s in before[scope].items() if s == "allowed"}
        path = f"/mud/{slug}/cam-1.json" if scope == "latest" else f"/mud/{slug}/cam-1/{scope}.json"
        served = flow_keys(api.get(path).content)
        if scope in covered:
            assert allowed == profile_keys == served
            assert {k for k, s in after[scope].items() if s == "discrepancy"} == crowd_allowed - profile_keys
            listed = api.get(f"/api/v1/device-models/{model.pk}/discrepancies/").json()["results"]
            assert {row["flow"] for row in listed if row["scope"] == scope} == crowd_allowed - profile_keys
        else:
            assert after[scope] == before[scope]
            assert served == crowd_allowed


@PROPERTY
@given(crowd=subsets, signed=subsets, older=subsets)
def test_invariant_6_bad_unpinned_older_or_withdrawn_profiles_change_nothing(auth_api, api, keys, crowd, signed, older):
    pki, ca, signer, stranger = keys
    model, member = _crowd(auth_api, api, crowd)
    slug = model.manufacturer.slug
    before = _everything(api, model)
    files_before = api.get(f"/mud/{slug}/cam-1/2.0.json").content
    _pin(member, model.manufacturer, ca)
    content = mud_file(*(POOL[i] for i in signed))
    refused = [
        upload(member, slug, model.pk, content, pki.sign(content + b"\n", signer), ("2.0",)),  # bad signature
        upload(member, slug, model.pk, content, pki.sign(content, stranger), ("2.0",)),  # unpinned certificate
    ]
    assert [r.status_code for r in refused] == [400, 400]
    settle(model.pk)
    assert _everything(api, model) == before
    assert api.get(f"/mud/{slug}/cam-1/2.0.json").content == files_before

    # An older profile for the same firmware has no effect once a newer one exists.
    old_content = mud_file(*(POOL[i] for i in older), model="Cam 1 (old)")
    assert upload(member, slug, model.pk, old_content, pki.sign(old_content, signer), ("2.0",)).status_code == 201
    newer = upload(member, slug, model.pk, content, pki.sign(content, signer), ("2.0",))
    assert newer.status_code == 201
    settle(model.pk)
    assert {k for k, s in _states(api, model, "2.0").items() if s == "allowed"} == native_keys(
        *(POOL[i] for i in signed)
    )
    # Withdrawn, the newest hands the firmware back to the crowd: the older one does not return.
    assert member.delete(f"/api/v1/manufacturers/{slug}/profiles/{newer.json()['id']}/").status_code == 200
    settle(model.pk)
    assert _everything(api, model) == before
    assert flow_keys(api.get(f"/mud/{slug}/cam-1/2.0.json").content) == flow_keys(files_before)
    assert SigningCertificate.objects.filter(manufacturer=model.manufacturer).count() == 1
