"""The catalogue read API: manufacturers, device models, consensus, versions, diffs, changes."""

import pytest

from profiles.models import Change, DeviceModel
from tests.helpers import flow, payload, settle

pytestmark = pytest.mark.django_db

CLOUD = [flow("api.acme.example"), flow("ntp.acme.example", 123, protocol=17)]


@pytest.fixture
def catalogue(auth_api, submit):
    for model in ("Cam 1", "Cam 2", "Doorbell"):
        for _ in range(3):
            submit(auth_api(trust_level=3), payload(*CLOUD, model=model, firmware="1.0"))
    submit(auth_api(), payload(flow("plug.example"), manufacturer="Other Corp", model="Plug"))
    settle(DeviceModel.objects.get(slug="cam-1").pk)
    return DeviceModel.objects.get(slug="cam-1")


def test_device_models_carry_what_a_gateway_needs(api, catalogue):
    body = api.get("/api/v1/device-models/?manufacturer=acme&ordering=slug").json()
    assert body["count"] == 3
    first = body["results"][0]
    assert first["slug"] == "cam-1"
    assert first["name"] == "Cam 1"
    assert first["manufacturer"] == "acme"
    assert first["mud_url"].endswith("/mud/acme/cam-1.json")
    assert first["has_consensus"] is True
    assert set(first["firmware_versions"]) == {"unknown", "1.0"}


def test_device_models_filter_by_search_consensus_and_manufacturer_id(api, catalogue):
    assert [m["slug"] for m in api.get("/api/v1/device-models/?q=door").json()["results"]] == ["doorbell"]
    with_consensus = api.get("/api/v1/device-models/?has_consensus=true").json()["results"]
    assert [m["slug"] for m in with_consensus] == ["cam-1"]
    other = api.get("/api/v1/manufacturers/?slug=other-corp").json()["results"][0]
    assert api.get(f"/api/v1/device-models/?manufacturer_id={other['id']}").json()["count"] == 1
    assert api.get("/api/v1/device-models/?updated_since=2000-01-01T00:00:00Z").json()["count"] == 4
    assert api.get("/api/v1/device-models/?updated_since=2999-01-01T00:00:00Z").json()["count"] == 0


@pytest.mark.parametrize(
    "query", ["manufacturer=nobody", "manufacturer_id=999999", "has_consensus=maybe", "updated_since=yesterday"]
)
def test_unknown_filter_values_are_a_400(api, catalogue, query):
    response = api.get(f"/api/v1/device-models/?{query}")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_input"


def test_the_list_runs_a_fixed_number_of_queries(api, catalogue, auth_api, submit, django_assert_max_num_queries):
    for n in range(10):
        submit(auth_api(), payload(flow("x.example"), model=f"Extra {n}", firmware=f"{n}.0"))
    # count, page, firmware prefetch (and the throttle reads the cache, not the database)
    with django_assert_max_num_queries(3):
        body = api.get("/api/v1/device-models/?limit=50").json()
    assert body["count"] == 14


def test_manufacturers_list_their_model_counts(api, catalogue):
    rows = {m["slug"]: m for m in api.get("/api/v1/manufacturers/").json()["results"]}
    assert rows["acme"]["device_model_count"] == 3
    assert rows["other-corp"]["name"] == "Other Corp"


def test_the_consensus_lists_every_flow_with_state_and_provenance(api, catalogue):
    body = api.get(f"/api/v1/device-models/{catalogue.pk}/consensus/").json()
    assert body["profile"]["scope"] == "latest"
    states = {row["key"]: row for row in body["flows"]}
    allowed = [row for row in body["flows"] if row["state"] == "allowed"]
    assert allowed
    for row in allowed:
        assert row["groups"] >= 2
        assert row["provenance"]["submission_ids"]
        assert row["rule"]
        assert row["risk_class"] in {"V", "T"}
    assert all(key == row["key"] for key, row in states.items())


def test_the_consensus_of_one_firmware_and_unknown_firmware(api, catalogue):
    body = api.get(f"/api/v1/device-models/{catalogue.pk}/consensus/?firmware=1.0").json()
    assert body["profile"]["scope"] == "1.0"
    assert body["mud_url"].endswith("/mud/acme/cam-1/1.0.json")
    response = api.get(f"/api/v1/device-models/{catalogue.pk}/consensus/?firmware=7.7")
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "unknown_firmware"


def test_versions_are_listed_and_diffed(api, catalogue):
    versions = api.get(f"/api/v1/device-models/{catalogue.pk}/versions/").json()["results"]
    numbers = [v["version"] for v in versions]
    assert numbers == sorted(numbers, reverse=True)
    assert len(numbers) >= 2
    old, new = numbers[-1], numbers[0]
    diff = api.get(f"/api/v1/device-models/{catalogue.pk}/versions/{old}/diff/{new}/").json()
    assert diff["added"]  # the first version served nothing; the settled one serves the cloud flows
    assert diff["removed"] == []
    back = api.get(f"/api/v1/device-models/{catalogue.pk}/versions/{new}/diff/{old}/").json()
    assert back["removed"] == diff["added"]
    assert api.get(f"/api/v1/device-models/{catalogue.pk}/versions/{old}/diff/999/").status_code == 404


def test_the_change_feed_pages_by_sequence(api, catalogue):
    everything = api.get("/api/v1/changes/?since=0&limit=1000").json()
    seqs = [row["seq"] for row in everything["results"]]
    assert seqs == sorted(seqs)
    assert len(seqs) == Change.objects.count()
    assert everything["more"] is False
    first = api.get("/api/v1/changes/?since=0&limit=2").json()
    assert first["more"] is True
    rest = api.get(f"/api/v1/changes/?since={first['last_seq']}&limit=1000").json()
    assert [r["seq"] for r in first["results"] + rest["results"]] == seqs
    assert all(r["mud_url"].startswith("https://") for r in everything["results"])


@pytest.mark.parametrize("query", ["since=-1", "since=abc", "limit=0", "limit=5000"])
def test_bad_feed_parameters_are_a_400(api, db, query):
    assert api.get(f"/api/v1/changes/?{query}").status_code == 400
