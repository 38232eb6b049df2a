import json
import os
import subprocess
import sys

import pytest
from django.conf import settings

from tests.support import ROOT, require

pytestmark = pytest.mark.django_db


def test_it_reports_each_check(client):
    response = client.get("/api/v1/status/")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "ok"
    assert body["failed"] == []
    assert set(body["checks"]) == {"database", "cache", "broker"}
    assert all(check["ok"] for check in body["checks"].values())


@pytest.mark.redis
def test_it_checks_the_real_broker_when_one_is_configured(client):
    require(bool(settings.REDIS_URL), "REDIS_URL is not set")
    body = client.get("/api/v1/status/").json()
    assert body["checks"]["broker"]["ok"]
    assert "inline" not in body["checks"]["broker"]["detail"]
    assert body["checks"]["cache"]["detail"] != "FileBasedCache"


def test_it_answers_503_naming_the_broker_and_cache_when_redis_is_unreachable(tmp_path):
    # A fresh process, so the settings are read with REDIS_URL pointing at a closed port.
    script = (
        "import django, json; django.setup();"
        "from django.core.management import call_command; call_command('migrate', verbosity=0);"
        "from django.test import Client;"
        "r = Client().get('/api/v1/status/');"
        "print(json.dumps({'status': r.status_code, 'body': r.json()}))"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "aggregator.settings",
        "REDIS_URL": "redis://127.0.0.1:1/0",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'status.sqlite3'}",
        "MUDHUB_VAR_DIR": str(tmp_path),
    }
    env.pop("CELERY_BROKER_URL", None)
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["status"] == 503
    assert result["body"]["failed"] == ["broker", "cache"]
    assert result["body"]["checks"]["database"]["ok"] is True


@pytest.mark.postgres
def test_ci_runs_on_postgresql():
    from django.db import connection

    require(connection.vendor == "postgresql", "DATABASE_URL does not point at PostgreSQL")
    assert connection.vendor == "postgresql"
