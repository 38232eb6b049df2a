"""What gateways download: the MUD file, its ETag and Cache-Control, 304s, and no database on a cache hit."""

import hashlib

import pytest

from profiles import mud
from profiles.models import Change, ConsensusProfile, DeviceModel
from tests.helpers import flow, payload, settle

pytestmark = pytest.mark.django_db

CLOUD = [flow("api.acme.example"), flow("api.acme.example", direction="to-device")]


@pytest.fixture
def published(auth_api, submit):
    """A model whose third-party flows three TL3 members saw on one firmware (an unknown
    firmware would halve their weight), recomputed once the 24-hour hold has passed."""
    for _ in range(3):
        response = submit(
            auth_api(trust_level=3), payload(*CLOUD, flow("ntp.acme.example", 123, protocol=17), firmware="1.0")
        )
        assert response.status_code == 201
    settle(DeviceModel.objects.get().pk)
    return ConsensusProfile.objects.get(scope="latest", is_current=True)


def test_it_serves_the_consensus_as_mud_json(client, published):
    response = client.get("/mud/acme/cam-1.json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/mud+json"
    assert response["ETag"] == f'"{hashlib.sha256(response.content).hexdigest()}"'
    assert response["Cache-Control"] == "public, max-age=86400"
    document = mud.parse(response.content, mode="strict")
    assert document.meta.mud_url.endswith("/mud/acme/cam-1.json")
    assert document.meta.mfg_name == "Acme"
    assert document.meta.model_name == "Cam 1"
    assert len(document.flows) == published.allowed_count > 0


def test_a_matching_if_none_match_gets_a_304(client, published):
    etag = client.get("/mud/acme/cam-1.json")["ETag"]
    response = client.get("/mud/acme/cam-1.json", HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 304
    assert response.content == b""
    assert response["ETag"] == etag
    stale = client.get("/mud/acme/cam-1.json", HTTP_IF_NONE_MATCH='"0000"')
    assert stale.status_code == 200


def test_a_cache_hit_runs_no_database_query(client, published, django_assert_num_queries):
    client.get("/mud/acme/cam-1.json")  # warm (the publish already did; this proves either way)
    with django_assert_num_queries(0):
        assert client.get("/mud/acme/cam-1.json").status_code == 200
        assert client.get("/mud/acme/cam-1.json", HTTP_IF_NONE_MATCH=f'"{published.etag}"').status_code == 304


def test_a_cold_cache_reads_the_database_once_then_caches(client, published, django_assert_num_queries):
    from django.core.cache import cache

    from profiles.selectors import mud_files

    cache.clear()
    mud_files._MEMORY.clear()
    with django_assert_num_queries(1):
        assert client.get("/mud/acme/cam-1.json").status_code == 200
    with django_assert_num_queries(0):
        assert client.get("/mud/acme/cam-1.json").status_code == 200


def test_each_firmware_has_its_own_file(client, auth_api, submit):
    for _ in range(3):
        submit(auth_api(trust_level=3), payload(*CLOUD, firmware="1.0.2"))
    settle(DeviceModel.objects.get().pk)
    response = client.get("/mud/acme/cam-1/1.0.2.json")
    assert response.status_code == 200
    document = mud.parse(response.content, mode="strict")
    assert document.meta.mud_url.endswith("/mud/acme/cam-1/1.0.2.json")
    assert document.meta.firmware_rev == "1.0.2"
    assert client.get("/mud/acme/cam-1/9.9.json").status_code == 404


def test_an_unknown_model_is_a_json_404(client, db):
    response = client.get("/mud/nobody/nothing.json")
    assert response.status_code == 404
    assert response.json()["code"] == "unknown_device_model"


def test_writes_to_a_mud_file_are_refused(client, published):
    assert client.post("/mud/acme/cam-1.json").status_code == 405


def test_a_new_version_gets_a_new_etag_and_a_change(client, auth_api, submit, published):
    before = client.get("/mud/acme/cam-1.json")["ETag"]
    changes_before = Change.objects.count()
    for _ in range(3):
        submit(auth_api(trust_level=3), payload(*CLOUD, flow("ota.acme.example"), firmware="1.0"))
    settle(published.device_model_id, days=8)
    after = client.get("/mud/acme/cam-1.json")
    assert after["ETag"] != before
    assert b"ota.acme.example" in after.content
    assert Change.objects.count() > changes_before
    current = ConsensusProfile.objects.get(scope="latest", is_current=True)
    assert current.version > published.version


def test_each_process_keeps_a_served_file_briefly_and_its_own_publish_replaces_it(client, published, settings):
    from django.core.cache import cache

    from profiles.selectors import mud_files
    from profiles.selectors.mud_files import ServedFile, served_file_key

    settings.MUDHUB_MUD_FILE_MEMORY_SECONDS = 60
    first = client.get("/mud/acme/cam-1.json")
    key = served_file_key("acme", "cam-1", "latest")
    # Another process publishes: the shared cache changes, this process's copy lives on.
    cache.set(key, ServedFile(etag="f" * 64, body=b"{}", max_age=60))
    assert client.get("/mud/acme/cam-1.json")["ETag"] == first["ETag"]
    mud_files._MEMORY[key] = (0.0, mud_files._MEMORY[key][1])  # the copy expires
    assert client.get("/mud/acme/cam-1.json")["ETag"] == f'"{"f" * 64}"'
