"""manage.py export and manage.py publish: the export to a file, the publish directory rewritten."""

from __future__ import annotations

import io
import json
import tarfile
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import TestCase

from tests.delivery import publish_model

pytestmark = pytest.mark.django_db


def test_export_writes_the_ndjson_with_a_progress_bar(auth_api, submit, tmp_path, capsys):
    publish_model(auth_api, submit)
    target = tmp_path / "export.ndjson"
    out = StringIO()
    call_command("export", str(target), stdout=out)
    lines = [json.loads(line) for line in target.read_text().splitlines()]
    assert lines[0]["mudhub-export"] == 1 and lines[-1]["count"] == len(lines) - 2 == 2
    assert "[" + "#" * 30 + "] 2/2" in capsys.readouterr().err
    assert f"feed_seq {lines[0]['feed_seq']}" in out.getvalue()
    assert not list(tmp_path.glob(".*partial"))


def test_export_writes_the_tar(auth_api, submit, tmp_path):
    publish_model(auth_api, submit)
    target = tmp_path / "export.tar.gz"
    call_command("export", str(target), "--format", "tar", "--no-progress", stdout=StringIO())
    with tarfile.open(fileobj=io.BytesIO(target.read_bytes()), mode="r:gz") as tar:
        assert "mud/acme/cam-1.p7s" in tar.getnames()


def test_publish_rewrites_the_directory(auth_api, submit, tmp_path, settings):
    publish_model(auth_api, submit)
    settings.MUDHUB_PUBLISH_DIR = str(tmp_path / "site")
    out = StringIO()
    with TestCase.captureOnCommitCallbacks(execute=True):  # the test's transaction never commits
        call_command("publish", stdout=out)
    assert "2 file(s)" in out.getvalue()
    for name in ("mud/acme/cam-1.json", "mud/acme/cam-1.p7s", "mud/index.json", ".well-known/mudhub/aggregator.pem"):
        assert (tmp_path / "site" / name).is_file(), name


def test_publish_needs_a_directory(db):
    with pytest.raises(CommandError, match="MUDHUB_PUBLISH_DIR"):
        call_command("publish", stdout=StringIO())
