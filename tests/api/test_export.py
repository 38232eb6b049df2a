"""The bulk export: every current file with its signature, streamed as NDJSON or a gzip tar,
with the feed sequence to follow the feed from."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import tarfile

import pytest
from django.db.models import Max

from profiles.models import Change, ConsensusProfile
from tests.delivery import openssl_cms_verify, publish_model, validate_mud

pytestmark = pytest.mark.django_db


def _lines(response) -> list[dict]:
    assert response.streaming
    return [json.loads(line) for line in b"".join(response.streaming_content).splitlines()]


def test_the_ndjson_export_carries_every_current_file_signed(client, auth_api, submit, tmp_path):
    publish_model(auth_api, submit)
    publish_model(auth_api, submit, model="Cam 2")
    response = client.get("/api/v1/export/")
    assert response.status_code == 200 and response["Content-Type"] == "application/x-ndjson"
    header, *files, end = _lines(response)
    feed_seq = Change.objects.aggregate(s=Max("seq"))["s"]
    assert header["mudhub-export"] == 1 and header["feed_seq"] == feed_seq == int(response["X-Mudhub-Feed-Seq"])
    assert end == {"end": True, "count": len(files), "feed_seq": feed_seq}
    current = ConsensusProfile.objects.filter(is_current=True)
    assert {(f["model"], f["scope"], f["version"]) for f in files} == {
        (p.device_model.slug, p.scope, p.version) for p in current
    }
    (tmp_path / "ca.pem").write_text(header["certificate"])
    written = []
    for n, item in enumerate(files):
        content, signature = tmp_path / f"{n}.json", tmp_path / f"{n}.p7s"
        content.write_text(item["mud"], encoding="utf-8")
        signature.write_bytes(base64.b64decode(item["signature"]))
        assert openssl_cms_verify(signature, content, tmp_path / "ca.pem").returncode == 0, item["path"]
        written.append(content)
    assert validate_mud(*written).returncode == 0


def test_the_tar_export_is_the_publish_layout(client, auth_api, submit, tmp_path):
    publish_model(auth_api, submit)
    response = client.get("/api/v1/export/?format=tar")
    assert response.status_code == 200 and response["Content-Type"] == "application/gzip"
    with tarfile.open(fileobj=io.BytesIO(b"".join(response.streaming_content)), mode="r:gz") as tar:
        names = set(tar.getnames())
        tar.extractall(tmp_path, filter="data")
    assert {"mud/acme/cam-1.json", "mud/acme/cam-1.p7s", "mud/acme/cam-1/1.0.json", "mud/acme/cam-1/1.0.p7s"} <= names
    assert {".well-known/mudhub/aggregator.pem", "mud/index.json", "mud/index.p7s", "mud/timestamp.json",
            "mud/timestamp.p7s"} <= names  # fmt: skip
    ca = tmp_path / ".well-known/mudhub/aggregator.pem"
    jsons = [tmp_path / name for name in names if name.endswith(".json")]
    for path in jsons:
        assert openssl_cms_verify(path.with_suffix(".p7s"), path, ca).returncode == 0, path
    assert validate_mud(*[p for p in jsons if p.name not in ("index.json", "timestamp.json")]).returncode == 0
    stamp = json.loads((tmp_path / "mud/timestamp.json").read_bytes())
    index = (tmp_path / "mud/index.json").read_bytes()
    assert stamp["index"]["sha256"] == hashlib.sha256(index).hexdigest() and stamp["index"]["length"] == len(index)


def test_following_the_feed_from_the_export_misses_nothing(client, auth_api, submit):
    publish_model(auth_api, submit)
    feed_seq = int(client.get("/api/v1/export/")["X-Mudhub-Feed-Seq"])
    publish_model(auth_api, submit, model="Cam 2")
    later = client.get(f"/api/v1/changes/?since={feed_seq}").json()["results"]
    assert {entry["model"] for entry in later} == {"cam-2"}


def test_an_unknown_format_is_a_400(client, db):
    response = client.get("/api/v1/export/?format=zip")
    assert response.status_code == 400
    assert response.json()["errors"][0]["path"] == "/format"


def test_an_empty_catalogue_exports_a_header_and_an_end(client, db):
    header, end = _lines(client.get("/api/v1/export/"))
    assert header["feed_seq"] == 0 and end == {"end": True, "count": 0, "feed_seq": 0}
