"""limit and offset on every list: plain decimal numbers in range, else a 400 naming them."""

from __future__ import annotations

import pytest

from profiles.api.pagination import MAX_LIMIT
from tests.factories import ManufacturerFactory

pytestmark = pytest.mark.django_db

LISTS = [
    "/api/v1/manufacturers/",
    "/api/v1/device-models/",
    "/api/v1/submissions/",
    "/api/v1/votes/",
    "/api/v1/moderation/decisions/",
]


def refused(response, *names: str) -> None:
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "invalid_input"
    assert sorted(p["path"] for p in body["errors"]) == sorted(f"/{name}" for name in names)


def test_a_page_is_limit_rows_from_offset(api):
    makers = ManufacturerFactory.create_batch(5)
    body = api.get("/api/v1/manufacturers/?limit=2&offset=1&ordering=slug").json()
    assert body["count"] == 5
    assert [m["slug"] for m in body["results"]] == sorted(m.slug for m in makers)[1:3]
    assert "offset=3" in body["next"]


def test_the_default_page_is_fifty_rows(api):
    ManufacturerFactory.create_batch(51)
    body = api.get("/api/v1/manufacturers/").json()
    assert len(body["results"]) == 50
    assert body["count"] == 51


def test_an_offset_past_the_end_is_an_empty_page(api):
    ManufacturerFactory.create_batch(2)
    body = api.get(f"/api/v1/manufacturers/?offset={2**63 - 1}").json()
    assert body["results"] == []
    assert body["count"] == 2


@pytest.mark.parametrize("url", LISTS)
@pytest.mark.parametrize("limit", [str(2**63), str(2**63 - 1), str(MAX_LIMIT + 1), "0", "-1", "null", "", "1e3",
                                   " 5", "+5", "\u0665", "5_0"])  # fmt: skip
def test_a_limit_that_is_not_a_number_in_range_is_refused_on_every_list(api, url, limit):
    refused(api.get(url, {"limit": limit}), "limit")


@pytest.mark.parametrize("offset", ["null", "", "-1", str(2**63), "1.5", "abc"])
def test_a_bad_offset_is_refused(api, offset):
    refused(api.get("/api/v1/device-models/", {"offset": offset}), "offset")


def test_a_bad_limit_and_a_bad_offset_are_reported_together(api):
    refused(api.get("/api/v1/manufacturers/?limit=null&offset=null"), "limit", "offset")


def test_the_maximum_page_size_is_accepted(api):
    ManufacturerFactory.create_batch(3)
    assert len(api.get(f"/api/v1/manufacturers/?limit={MAX_LIMIT}").json()["results"]) == 3


def test_the_schema_documents_the_bounds(api):
    schema = api.get("/api/schema/?format=json").json()
    parameters = {p["name"]: p for p in schema["paths"]["/api/v1/manufacturers/"]["get"]["parameters"]}
    assert parameters["limit"]["schema"]["maximum"] == MAX_LIMIT
    assert parameters["limit"]["schema"]["minimum"] == 1
    assert parameters["offset"]["schema"]["maximum"] == 2**63 - 1
