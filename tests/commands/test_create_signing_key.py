"""manage.py create_signing_key: the key and certificate, the next one of a rotation, promotion."""

from __future__ import annotations

import json
import stat
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import TestCase

from profiles.models import ConsensusProfile
from profiles.services.index import index_current
from profiles.services.signing_keys import signing_identity
from tests.delivery import openssl_cms_verify, publish_model

pytestmark = pytest.mark.django_db


@pytest.fixture
def keys(settings, tmp_path):
    settings.MUDHUB_SIGNING_KEY = tmp_path / "keys" / "aggregator.key"
    settings.MUDHUB_SIGNING_CERT = tmp_path / "keys" / "aggregator.pem"
    settings.MUDHUB_SIGNING_NEXT_CERT = tmp_path / "keys" / "next.pem"
    return tmp_path / "keys"


def run(*args):
    out = StringIO()
    call_command("create_signing_key", *args, stdout=out)
    return out.getvalue()


def test_it_writes_a_private_key_and_a_certificate(keys):
    out = run()
    assert stat.S_IMODE((keys / "aggregator.key").stat().st_mode) == 0o600
    assert (keys / "aggregator.pem").read_bytes().startswith(b"-----BEGIN CERTIFICATE-----")
    assert signing_identity().fingerprint in out


def test_it_never_replaces_a_key_unless_forced(keys):
    run()
    before = (keys / "aggregator.key").read_bytes()
    with pytest.raises(CommandError, match="--force"):
        run()
    assert "present" in run("--if-missing")
    assert (keys / "aggregator.key").read_bytes() == before
    run("--force")
    assert (keys / "aggregator.key").read_bytes() != before


def test_production_never_creates_a_key_by_itself(keys, settings):
    from django.core.exceptions import ImproperlyConfigured

    settings.MUDHUB_SIGNING_CREATE = False
    with pytest.raises(ImproperlyConfigured, match="create_signing_key"):
        signing_identity()


def test_a_rotation_announces_the_next_certificate_before_it_signs(keys, auth_api, submit, client, tmp_path):
    run()
    old = signing_identity().fingerprint
    profile = publish_model(auth_api, submit)
    run("--next")
    with TestCase.captureOnCommitCallbacks(execute=True):
        from profiles.services.index import index_refresh

        announced = index_refresh()
    assert announced is not None
    document = json.loads(bytes(announced.body))
    upcoming = document["next_signer"]
    assert document["signer"] == old != upcoming and upcoming in document["certificates"]
    assert ConsensusProfile.objects.get(pk=profile.pk).signer == old  # announced, not yet signing
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert "signed again" in run("--promote")
    assert signing_identity().fingerprint == upcoming
    assert not ConsensusProfile.objects.filter(is_current=True).exclude(signer=upcoming).exists()
    assert index_current().signer == upcoming
    (tmp_path / "ca.pem").write_bytes(signing_identity().certificate_pem)
    (tmp_path / "x.json").write_bytes(client.get("/mud/acme/cam-1.json").content)
    (tmp_path / "x.p7s").write_bytes(client.get("/mud/acme/cam-1.p7s").content)
    assert openssl_cms_verify(tmp_path / "x.p7s", tmp_path / "x.json", tmp_path / "ca.pem").returncode == 0


def test_promote_needs_a_next_key(keys):
    run()
    with pytest.raises(CommandError, match="--next"):
        run("--promote")
