"""Integer path segments hold what a 64-bit column can: anything larger is a JSON 404, not a 500."""

from __future__ import annotations

import pytest

from profiles.api.converters import MAX_ID
from tests.helpers import flow, payload

pytestmark = pytest.mark.django_db


@pytest.fixture
def device_model_id(auth_api, submit):
    response = submit(auth_api(), payload(flow("api.acme.example")))
    assert response.status_code == 201, response.content
    return response.json()["device_model"]


@pytest.mark.parametrize("version", [str(MAX_ID), str(MAX_ID + 1), str(2**64), "9" * 19, "9" * 40])
def test_a_version_beyond_64_bits_in_a_diff_is_a_404(api, device_model_id, version):
    for url in (
        f"/api/v1/device-models/{device_model_id}/versions/{version}/diff/1/",
        f"/api/v1/device-models/{device_model_id}/versions/1/diff/{version}/",
    ):
        response = api.get(url)
        assert response.status_code == 404, response.content
        assert response.json()["code"] == "not_found"


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/device-models/{big}/",
        "/api/v1/device-models/{big}/consensus/",
        "/api/v1/device-models/{big}/versions/",
        "/api/v1/device-models/{big}/versions/1/diff/2/",
        "/api/v1/manufacturers/{big}/",
        "/api/v1/submissions/{big}/",
        "/api/v1/submissions/{big}/raw/",
        "/api/v1/votes/{big}/",
        "/api/v1/moderation/decisions/{big}/",
    ],
)
@pytest.mark.parametrize("big", [str(MAX_ID + 1), "1" + "0" * 30, "-1"])
def test_an_id_beyond_64_bits_is_a_404_everywhere(api, url, big):
    response = api.get(url.format(big=big))
    assert response.status_code == 404, response.content
    assert response["Content-Type"].startswith("application/json")


@pytest.mark.parametrize("big", [str(MAX_ID + 1), "9" * 25])
def test_reporting_a_submission_beyond_64_bits_is_a_404(auth_api, big):
    response = auth_api().post(f"/api/v1/submissions/{big}/report/", {"reason": "spam"}, format="json")
    assert response.status_code == 404, response.content
    assert response.json()["code"] == "not_found"


def test_the_schema_types_id_segments_as_64_bit_integers(api):
    schema = api.get("/api/schema/?format=json").json()
    operation = schema["paths"]["/api/v1/device-models/{id}/versions/{a}/diff/{b}/"]["get"]
    segments = {p["name"]: p["schema"] for p in operation["parameters"] if p["in"] == "path"}
    assert segments["a"] == {"type": "integer", "minimum": 0, "maximum": MAX_ID}
    assert segments["b"] == segments["a"]
