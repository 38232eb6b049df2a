"""A real Celery worker process, on the real broker and database, runs a task that writes a row."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid

import pytest
from django.conf import settings
from django.db import connection

from profiles.models import WorkerHeartbeat
from tests.support import ROOT, require

pytestmark = [pytest.mark.celery, pytest.mark.redis, pytest.mark.postgres]


def database_url() -> str:
    s = connection.settings_dict
    user = s["USER"] or "postgres"
    password = f":{s['PASSWORD']}" if s["PASSWORD"] else ""
    return f"postgres://{user}{password}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def start_worker(queue: str, name: str) -> subprocess.Popen[str]:
    """A worker on the test database, listening only on its own queue."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "DJANGO_SETTINGS_MODULE": "aggregator.settings",
        # The worker shares this test's cache keys (served files, the recompute debounce).
        "MUDHUB_CACHE_PREFIX": settings.CACHES["default"].get("KEY_PREFIX", "mudhub"),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "aggregator", "worker", "--pool", "solo", "-Q", queue,
         "-n", name, "--without-gossip", "--without-mingle", "--loglevel", "INFO"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip


def stop(worker: subprocess.Popen[str]) -> str:
    worker.terminate()
    try:
        out, _ = worker.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        worker.kill()
        out, _ = worker.communicate()
    return out


@pytest.fixture
def worker_queue(transactional_db):
    require(connection.vendor == "postgresql", "a worker process needs the PostgreSQL test database")
    require(bool(settings.CELERY_BROKER_URL) and not settings.CELERY_TASK_ALWAYS_EAGER, "REDIS_URL is not set")
    queue = f"test-{uuid.uuid4().hex[:10]}"
    worker = start_worker(queue, f"{queue}@mudhub")
    yield queue, f"{queue}@mudhub"
    print(stop(worker))


def test_a_real_worker_runs_a_task_that_writes_to_the_database(worker_queue):
    from profiles.tasks import worker_heartbeat

    queue, name = worker_queue
    worker_heartbeat.apply_async(queue=queue)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if WorkerHeartbeat.objects.filter(hostname=name).exists():
            break
        time.sleep(0.3)
    beat = WorkerHeartbeat.objects.get(hostname=name)
    assert (time.time() - beat.seen_at.timestamp()) < 120
