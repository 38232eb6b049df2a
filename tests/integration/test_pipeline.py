"""End to end on PostgreSQL, Redis and a real Celery worker: submit, the worker recomputes,
gateways get the new version; with the broker down submissions still land and the sweep
publishes them later."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid

import pytest
from django.conf import settings
from django.db import connection
from knox.models import AuthToken
from rest_framework.test import APIClient

from profiles.models import ConsensusProfile, DeviceModel, Submission
from tests.factories import ContributorFactory
from tests.helpers import flow, payload
from tests.integration.test_celery_worker import database_url, start_worker, stop
from tests.support import ROOT, require

pytestmark = [pytest.mark.celery, pytest.mark.redis, pytest.mark.postgres]


def wait_for(check, seconds: float = 90.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError(f"gave up after {seconds} s")


@pytest.fixture
def worker(transactional_db, settings):
    require(connection.vendor == "postgresql", "a worker process needs the PostgreSQL test database")
    require(bool(settings.CELERY_BROKER_URL) and not settings.CELERY_TASK_ALWAYS_EAGER, "REDIS_URL is not set")
    queue = f"test-{uuid.uuid4().hex[:10]}"
    settings.MUDHUB_RECOMPUTE_QUEUE = queue
    settings.MUDHUB_RECOMPUTE_DEBOUNCE_SECONDS = 0
    process = start_worker(queue, f"{queue}@mudhub")
    yield queue
    print(stop(process))


def client_for(trust_level: int) -> tuple[APIClient, str]:
    person = ContributorFactory(trust_level=trust_level)
    _, token = AuthToken.objects.create(person.user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client, token


def test_the_worker_recomputes_and_the_gateway_serves_the_new_version(worker, client):
    first, _ = client_for(3)
    response = first.post("/api/v1/submissions/", payload(flow("api.acme.example"), firmware="1.0"), format="json")
    assert response.status_code == 201, response.content
    device_model = DeviceModel.objects.get()
    profile = wait_for(
        lambda: ConsensusProfile.objects.filter(device_model=device_model, scope="latest", is_current=True).first()
    )
    served = client.get("/mud/acme/cam-1.json")
    assert served.status_code == 200
    assert served["ETag"] == f'"{profile.etag}"'

    # A second submission changes what the model's consensus holds for firmware 2.0: a new
    # scope gets its first version, computed by the worker, served under its own URL.
    second, _ = client_for(3)
    response = second.post("/api/v1/submissions/", payload(flow("api.acme.example"), firmware="2.0"), format="json")
    assert response.status_code == 201
    newer = wait_for(lambda: ConsensusProfile.objects.filter(device_model=device_model, scope="2.0").first())
    fresh = client.get("/mud/acme/cam-1/2.0.json")
    assert fresh.status_code == 200
    assert fresh["ETag"] == f'"{newer.etag}"'
    assert fresh["ETag"] != served["ETag"]
    wait_for(lambda: not DeviceModel.objects.filter(pk=device_model.pk, dirty_since__isnull=False).exists())


def test_with_redis_down_a_submission_lands_and_the_sweep_publishes_it(transactional_db, client, tmp_path):
    require(connection.vendor == "postgresql", "the API process needs the PostgreSQL test database")
    require(bool(settings.REDIS_URL), "REDIS_URL is not set")
    _, token = client_for(2)
    body = json.dumps(payload(flow("api.acme.example"))).encode()
    script = (
        "import django, json, sys; django.setup();"
        "from django.test import Client;"
        "r = Client().post('/api/v1/submissions/', data=sys.stdin.buffer.read(), content_type='application/json',"
        f" HTTP_AUTHORIZATION='Token {token}');"
        "print(json.dumps({'status': r.status_code, 'body': r.json()}))"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "aggregator.settings",
        "DATABASE_URL": database_url(),
        "REDIS_URL": "redis://127.0.0.1:1/0",  # nothing listens: cache and broker are down
        "MUDHUB_VAR_DIR": str(tmp_path),
    }
    env.pop("CELERY_BROKER_URL", None)
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", script], input=body, cwd=ROOT, env=env, capture_output=True, timeout=120
    )
    assert done.returncode == 0, done.stderr.decode()
    result = json.loads(done.stdout.decode().strip().splitlines()[-1])
    assert result["status"] == 201, result
    assert time.monotonic() - started < 60  # the outage costs a timeout, not a hang
    submission = Submission.objects.get(pk=result["body"]["id"])
    device_model = submission.device_model
    assert device_model.dirty_since is not None
    assert not ConsensusProfile.objects.filter(device_model=device_model).exists()

    from profiles.tasks import sweep_dirty_models

    settings.MUDHUB_RECOMPUTE_DEBOUNCE_SECONDS = 0
    assert sweep_dirty_models() == [device_model.pk]
    assert client.get("/mud/acme/cam-1.json").status_code == 200
