"""Publishing: each new version is signed once and written to MUDHUB_PUBLISH_DIR with its
.p7s, the certificate and a signed index; a withdrawal removes the files."""

from __future__ import annotations

import json

import pytest
from django.test import TestCase

from profiles.models import Change, ConsensusProfile, DeviceModel
from profiles.services.publish import atomic_write, consensus_withdraw
from tests.delivery import openssl_cms_verify, publish_model, validate_mud

pytestmark = pytest.mark.django_db


@pytest.fixture
def publish_dir(settings, tmp_path):
    settings.MUDHUB_PUBLISH_DIR = str(tmp_path / "site")
    return tmp_path / "site"


def test_every_published_file_is_written_signed_and_valid(auth_api, submit, publish_dir):
    profile = publish_model(auth_api, submit)
    ca = publish_dir / ".well-known/mudhub/aggregator.pem"
    files = sorted(publish_dir.glob("mud/acme/**/*.json"))
    assert sorted(f.relative_to(publish_dir).as_posix() for f in files) == [
        "mud/acme/cam-1.json",
        "mud/acme/cam-1/1.0.json",
    ]
    assert (publish_dir / "mud/acme/cam-1.json").read_bytes() == bytes(profile.mud_bytes)
    for path in files:
        signature = path.with_suffix(".p7s")
        assert openssl_cms_verify(signature, path, ca).returncode == 0, path
    assert validate_mud(*files).returncode == 0
    index = publish_dir / "mud/index.json"
    assert openssl_cms_verify(publish_dir / "mud/index.p7s", index, ca).returncode == 0
    listed = {entry["path"]: entry for entry in json.loads(index.read_bytes())["files"]}
    assert listed["mud/acme/cam-1.json"]["sha256"] == profile.etag
    assert listed["mud/acme/cam-1.json"]["version"] == profile.version
    assert not list(publish_dir.rglob("*.tmp")), "a temporary file was left behind"


def test_the_file_names_its_signature(auth_api, submit):
    profile = publish_model(auth_api, submit)
    meta = json.loads(bytes(profile.mud_bytes))["ietf-mud:mud"]
    assert meta["mud-signature"] == meta["mud-url"].removesuffix(".json") + ".p7s"


def test_a_withdrawal_removes_the_files_and_enters_the_feed(auth_api, submit, publish_dir):
    publish_model(auth_api, submit)
    model = DeviceModel.objects.get(slug="cam-1")
    assert (publish_dir / "mud/acme/cam-1.json").exists()
    with TestCase.captureOnCommitCallbacks(execute=True):
        change = consensus_withdraw(device_model=model)
    assert change is not None and change.kind == Change.Kind.REMOVED
    assert not (publish_dir / "mud/acme/cam-1.json").exists()
    assert not (publish_dir / "mud/acme/cam-1.p7s").exists()
    assert (publish_dir / "mud/acme/cam-1/1.0.json").exists()  # only the scope withdrawn goes
    assert not ConsensusProfile.objects.filter(device_model=model, scope="latest", is_current=True).exists()
    listed = [entry["path"] for entry in json.loads((publish_dir / "mud/index.json").read_bytes())["files"]]
    assert "mud/acme/cam-1.json" not in listed
    assert consensus_withdraw(device_model=model) is None  # nothing served: nothing to remove


def test_atomic_write_replaces_whole_files_only(tmp_path):
    target = tmp_path / "a" / "b.json"
    atomic_write(target, b"one")
    atomic_write(target, b"two")
    assert target.read_bytes() == b"two"
    assert [p.name for p in target.parent.iterdir()] == ["b.json"]
