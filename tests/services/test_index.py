"""The signed index and its timestamp: what a GET serves (never signing or storing anything),
the timestamp naming the index, and the beat signing both again before they expire."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.test import TestCase
from django.utils import timezone

from profiles.models import PublishedIndex
from profiles.services.index import index_current, index_publish
from tests.delivery import openssl_cms_verify, published_profile

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def inline_tasks(settings: Any) -> None:
    """The index rebuild a publish queues runs in the publishing process (the embedded mode)."""
    settings.CELERY_TASK_ALWAYS_EAGER = True


@pytest.mark.parametrize("path", ["/mud/index.json", "/mud/index.p7s", "/mud/timestamp.json", "/mud/timestamp.p7s"])
def test_before_the_first_index_a_get_answers_503_and_writes_nothing(client, path):
    response = client.get(path)
    assert response.status_code == 503 and response["Retry-After"] == "60"
    assert response.json()["code"] == "index_unavailable"
    assert not PublishedIndex.objects.exists()


def test_a_get_serves_the_newest_index_as_published(client):
    with TestCase.captureOnCommitCallbacks(execute=True):
        published_profile("Cam 1", "api.acme.example")
    newest = index_current()
    assert newest is not None
    count = PublishedIndex.objects.count()
    for _ in range(3):
        assert client.get("/mud/index.json").content == bytes(newest.body)
        assert client.get("/mud/timestamp.json").content == bytes(newest.timestamp)
    assert PublishedIndex.objects.count() == count


def test_the_timestamp_is_signed_and_names_the_index(client, tmp_path: Path, settings: Any):
    settings.MUDHUB_PUBLISH_DIR = str(tmp_path / "site")
    with TestCase.captureOnCommitCallbacks(execute=True):
        published_profile("Cam 1", "api.acme.example")
    site = tmp_path / "site"
    stamp = json.loads(client.get("/mud/timestamp.json").content)
    index = client.get("/mud/index.json").content
    document = json.loads(index)
    assert stamp["mudhub-timestamp"] == 1 and stamp["version"] == document["version"]
    assert stamp["index"] == {"path": "mud/index.json", "version": document["version"],
                              "sha256": hashlib.sha256(index).hexdigest(), "length": len(index)}  # fmt: skip
    assert stamp["expires"] == document["expires"] and stamp["signer"] == document["signer"]
    # The publish directory holds the same four files; the real client's check passes on both.
    for name in ("index", "timestamp"):
        assert (site / f"mud/{name}.json").read_bytes() == client.get(f"/mud/{name}.json").content
        assert (site / f"mud/{name}.p7s").read_bytes() == client.get(f"/mud/{name}.p7s").content
        verified = openssl_cms_verify(site / f"mud/{name}.p7s", site / f"mud/{name}.json",
                                      site / ".well-known/mudhub/aggregator.pem")  # fmt: skip
        assert verified.returncode == 0, verified.stderr
    assert len(bytes(index_current().timestamp)) < 600  # what a catch-up reads instead of the index


def test_the_beat_signs_the_index_again_before_it_expires_with_no_publish(settings: Any):
    from profiles.services.index import index_refresh
    from profiles.tasks import index_refresh as task

    first = index_publish()
    lifetime = timedelta(hours=settings.MUDHUB_INDEX_EXPIRY_HOURS)
    # The beat runs the refresh far more often than a quarter of the lifetime.
    schedule = settings.CELERY_BEAT_SCHEDULE["index-refresh"]
    assert schedule["task"] == task.name and schedule["schedule"] <= lifetime / 8

    def refresh_at(moment: datetime) -> int | None:
        with TestCase.captureOnCommitCallbacks(execute=True):
            made = index_refresh(now=moment)
        return made.version if made is not None else None

    assert refresh_at(timezone.now() + timedelta(hours=1)) is None  # fresh: nothing to do
    later = timezone.now() + lifetime / 4 + timedelta(minutes=1)
    version = refresh_at(later)
    assert version is not None and version > first.version
    again = PublishedIndex.objects.get(version=version)
    assert again.expires_at == later + lifetime > first.expires_at
    stamp = json.loads(bytes(again.timestamp))
    assert stamp["index"]["version"] == version
    assert stamp["index"]["sha256"] == hashlib.sha256(bytes(again.body)).hexdigest()


def test_an_index_without_a_timestamp_gets_one_at_the_next_refresh(client):
    from profiles.services.index import index_refresh

    first = index_publish()
    PublishedIndex.objects.filter(pk=first.pk).update(timestamp=b"", timestamp_signature=b"")
    assert client.get("/mud/timestamp.json").status_code == 404
    with TestCase.captureOnCommitCallbacks(execute=True):
        refreshed = index_refresh()
    assert refreshed is not None and bytes(refreshed.timestamp)
    assert client.get("/mud/timestamp.json").status_code == 200
