"""The change feed: ordered, with removals and a resume cursor, and 410 past its retention."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import TestCase
from django.utils import timezone

from profiles.models import Change, DeviceModel
from profiles.services.changes import changes_prune
from profiles.services.publish import consensus_withdraw
from tests.delivery import publish_model

pytestmark = pytest.mark.django_db


def test_the_feed_lists_published_versions_in_order_with_a_cursor(client, auth_api, submit):
    publish_model(auth_api, submit)
    page = client.get("/api/v1/changes/?since=0").json()
    seqs = [entry["seq"] for entry in page["results"]]
    assert seqs == sorted(seqs) and len(seqs) == Change.objects.count() >= 2
    assert page["next"] == page["last_seq"] == seqs[-1]
    assert page["more"] is False and page["export_url"] == "/api/v1/export/"
    entry = page["results"][-1]
    assert entry["kind"] == "published"
    assert entry["signature_url"] == entry["mud_url"].removesuffix(".json") + ".p7s"
    assert entry["version"] >= 1 and len(entry["etag"]) == 64


def test_a_gateway_resumes_from_the_cursor(client, auth_api, submit):
    publish_model(auth_api, submit)
    total = Change.objects.count()
    first = client.get("/api/v1/changes/?since=0&limit=1").json()
    assert first["more"] is True and len(first["results"]) == 1
    rest = client.get(f"/api/v1/changes/?since={first['next']}&limit=1000").json()
    assert [e["seq"] for e in first["results"] + rest["results"]] == list(
        Change.objects.order_by("seq").values_list("seq", flat=True)
    )
    assert len(rest["results"]) == total - 1
    empty = client.get(f"/api/v1/changes/?since={rest['next']}").json()
    assert empty["results"] == [] and empty["next"] == rest["next"] and empty["more"] is False


def test_removals_and_merges_enter_the_feed(client, auth_api, submit):
    publish_model(auth_api, submit)
    publish_model(auth_api, submit, model="Cam 2")
    old, new = DeviceModel.objects.get(slug="cam-1"), DeviceModel.objects.get(slug="cam-2")
    since = client.get("/api/v1/changes/").json()["next"]
    with TestCase.captureOnCommitCallbacks(execute=True):
        consensus_withdraw(device_model=old, merged_into=new)
        consensus_withdraw(device_model=old, scope="1.0")
    page = client.get(f"/api/v1/changes/?since={since}").json()
    merged, withdrawn = page["results"]
    assert merged["kind"] == withdrawn["kind"] == "removed"
    assert merged["model"] == "cam-1" and merged["scope"] == "latest" and merged["version"] is None
    assert merged["etag"] is None and merged["signature_url"] is None
    assert merged["merged_into"] == {"manufacturer": "acme", "model": "cam-2", "mud_url": new.mud_url}
    assert withdrawn["scope"] == "1.0" and withdrawn["merged_into"] is None
    assert client.get("/mud/acme/cam-1.json").status_code == 404
    assert client.get("/mud/acme/cam-1.p7s").status_code == 404


def test_a_since_older_than_the_feed_keeps_is_410_with_the_export(client, auth_api, submit):
    publish_model(auth_api, submit)
    last = Change.objects.order_by("-seq").first().seq
    assert changes_prune(now=timezone.now() + timedelta(days=1), retention=timedelta(0)) >= 2
    gone = client.get("/api/v1/changes/?since=0")
    assert gone.status_code == 410
    body = gone.json()
    assert body["code"] == "feed_gone" and body["export_url"] == "/api/v1/export/" and body["horizon"] == last
    assert client.get(f"/api/v1/changes/?since={last}").status_code == 200


def test_pruning_keeps_what_is_within_the_retention(auth_api, submit):
    publish_model(auth_api, submit)
    count = Change.objects.count()
    assert changes_prune(retention=timedelta(days=90)) == 0
    assert Change.objects.count() == count


@pytest.mark.parametrize("query", ["since=-1", "limit=0", "limit=1001", "since=x"])
def test_bad_feed_parameters_are_a_400_with_the_path(client, db, query):
    response = client.get(f"/api/v1/changes/?{query}")
    assert response.status_code == 400
    assert response.json()["errors"][0]["path"] in {"/since", "/limit"}
