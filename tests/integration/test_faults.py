"""Fault injection, end to end: gunicorn, a Celery worker, PostgreSQL and Redis, and each breaks.

Each test runs on a private stack (tests/integration/private_stack.py: its own PostgreSQL and
Redis on free loopback ports), so restarting or stopping them disturbs nobody else:
- PostgreSQL restarted during a burst of submissions: every submission is answered 201 or a
  clean 503 in the JSON error shape, none is lost or half-stored, and the same server
  processes serve again once the database is back;
- a Celery worker killed with SIGKILL in the middle of a recompute (held on a table lock
  just before it writes its change-feed entry): nothing of the half-done run is visible, the
  model stays dirty, the sweep finishes it, and the served file and the feed agree;
- Redis stopped and started again: submissions and downloads go on, /status/ names what is
  down, and everything recovers without a restart.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.integration.private_stack import Stack, http, private_stack, wait_until

pytestmark = [pytest.mark.faults, pytest.mark.celery]

PASSWORD = "fault-injection-password-8520"
MANUFACTURER = "Faulty Devices"


def flow(peer: str, port: int = 443) -> dict[str, Any]:
    return {"direction": "from-device", "family": "ipv4", "peer_kind": "dnsname", "peer": peer, "protocol": 6,
            "dst_port": port, "initiated": "from-device"}  # fmt: skip


LOCAL_FLOWS = [
    {"direction": "from-device", "family": "ipv4", "peer_kind": "controller", "peer": "urn:ietf:params:mud:ntp",
     "protocol": 17, "dst_port": 123},
    {"direction": "from-device", "family": "ipv4", "peer_kind": "controller", "peer": "urn:ietf:params:mud:dns",
     "protocol": 17, "dst_port": 53},
]  # fmt: skip
MDNS_FLOW = {"direction": "from-device", "family": "ipv4", "peer_kind": "local-networks", "protocol": 17,
             "dst_port": 5353}  # fmt: skip


def submission(model: str, flows: list[dict[str, Any]], *, collector: str) -> bytes:
    end = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    payload = {
        "device": {"manufacturer": MANUFACTURER, "model": model, "firmware": "1.0"},
        "observation": {"start": (end - timedelta(days=1)).isoformat(), "end": end.isoformat(), "collector": collector},
        "flows": flows,
    }
    return json.dumps(payload).encode()


def accounts(stack: Stack, names: list[str]) -> dict[str, str]:
    """Trusted (TL3) accounts made in one manage.py process, and a token for each."""
    script = "from django.core.management import call_command\n" + "".join(
        f"call_command('contributor', {name!r}, '--trust-level', '3', '--create')\n" for name in names
    )
    stack.manage("shell", "-c", script, extra_env={"MUDHUB_PASSWORD": PASSWORD})
    return {name: stack.token(name, PASSWORD) for name in names}


def post(stack: Stack, token: str, body: bytes) -> Any:
    return http(stack.port, "POST", "/api/v1/submissions/", body=body, token=token)


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    with private_stack() as running:
        running.start_gunicorn(workers=2)
        yield running


def stored(stack: Stack) -> dict[str, dict[str, Any]]:
    with stack.postgres.connect() as conn:
        rows = conn.execute(
            "SELECT id, sha256, raw, flow_count, jsonb_array_length(flow_ids) FROM profiles_submission"
        ).fetchall()
    return {sha: {"id": pk, "raw": bytes(raw), "flow_count": n, "flow_ids": m} for pk, sha, raw, n, m in rows}


def test_a_postgres_restart_during_a_burst_loses_no_submission_and_stores_none_by_half(stack):
    tokens = accounts(stack, [f"burst-{i}" for i in range(4)])
    gunicorn = stack.children[0]
    bodies = {
        name: [
            submission(
                f"Burst Cam {k % 3}",
                [flow(f"api{k}.{name}.faulty.example"), flow(f"cdn{k}.faulty.example")],
                collector=f"{name}-{k}",
            )
            for k in range(40)
        ]
        for name in tokens
    }
    answers: list[tuple[str, bytes, Any]] = []
    lock = threading.Lock()

    def client(name: str) -> None:
        for body in bodies[name]:
            answer = post(stack, tokens[name], body)  # an OSError (no answer at all) fails the test
            with lock:
                answers.append((name, body, answer))
            time.sleep(0.1)  # a steady burst, so that it outlasts the restart

    threads = [threading.Thread(target=client, args=(name,)) for name in tokens]
    for thread in threads:
        thread.start()
    wait_until(lambda: len(answers) >= 20, timeout=120, interval=0.05, what="the first answers of the burst")
    stack.postgres.stop("fast")  # every connection is cut, open transactions abort
    time.sleep(2.0)  # the burst goes on against a database that is down
    stack.postgres.start()
    for thread in threads:
        thread.join(timeout=300)

    total = sum(len(b) for b in bodies.values())
    assert len(answers) == total
    statuses = [answer.status for _, _, answer in answers]
    assert set(statuses) <= {201, 503}, statuses
    unavailable = [(name, body, answer) for name, body, answer in answers if answer.status == 503]
    assert unavailable, "the restart overlapped no request: the test did not test anything"
    print(f"burst: {statuses.count(201)} answered 201, {len(unavailable)} answered 503 during the restart")
    assert 201 in statuses[statuses.index(503) :], "the server did not recover during the burst"
    for _, _, answer in unavailable:
        assert answer.json()["code"] == "service_unavailable"
        assert set(answer.json()) == {"code", "message", "errors"}
        assert int(answer.headers["Retry-After"]) > 0

    # The same processes serve again: resending what was refused is stored, or (if the
    # commit had happened before the connection was cut) recognised as already stored.
    assert gunicorn.alive()
    for name, body, _ in unavailable:
        answer = wait_until(lambda n=name, b=body: (a := post(stack, tokens[n], b)).status in (200, 201) and a,
                            timeout=60, interval=0.5, what="a resent submission to be accepted")  # fmt: skip
        answers.append((name, body, answer))

    rows = stored(stack)
    assert len(rows) == total  # nothing lost, nothing twice
    for _, body, answer in answers:
        if answer.status in (200, 201):
            row = rows[hashlib.sha256(body).hexdigest()]
            assert row["id"] == answer.json()["id"]
            assert row["raw"] == body  # the bytes exactly as sent
            assert row["flow_count"] == row["flow_ids"] == 2  # its flows stored with it, not half


def recompute_waiting_on_a_lock(stack: Stack) -> bool:
    with stack.postgres.connect() as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'mudhub-worker' "
            "AND wait_event_type = 'Lock'"
        ).fetchone()
    return bool(row and row[0])


def served(stack: Stack, model: str) -> Any:
    return http(stack.port, "GET", f"/mud/faulty-devices/{model}.json")


def feed_and_file_agree(stack: Stack, model: str) -> str:
    """The newest change of the model's `latest` scope, the current profile and the served
    file all carry the same ETag; returns it."""
    changes = http(stack.port, "GET", "/api/v1/changes/?since=0&limit=1000").json()["results"]
    mine = [c for c in changes if c["model"] == model and c["scope"] == "latest"]
    file = served(stack, model)
    assert file.status == 200
    assert file.headers["ETag"] == f'"{mine[-1]["etag"]}"'
    assert hashlib.sha256(file.body).hexdigest() == mine[-1]["etag"]
    with stack.postgres.connect() as conn:
        current = conn.execute(
            "SELECT p.etag, p.version FROM profiles_consensusprofile p JOIN profiles_devicemodel m "
            "ON m.id = p.device_model_id WHERE m.slug = %s AND p.scope = 'latest' AND p.is_current",
            [model],
        ).fetchall()
    assert [etag for etag, _ in current] == [mine[-1]["etag"]]
    assert [c["version"] for c in mine] == list(range(1, current[0][1] + 1))  # no version lost or doubled
    return str(mine[-1]["etag"])


def sweep_until_published(stack: Stack, model: str, old_etag: str) -> None:
    """Send the sweep (what beat does every minute) until the model's served file changes:
    the sweep takes only models dirty for longer than the debounce grace."""

    def published() -> bool:
        if served(stack, model).headers.get("ETag") != f'"{old_etag}"':
            return True
        stack.send_task("profiles.tasks.sweep_dirty_models")
        return False

    wait_until(published, timeout=120, interval=2.0, what="the sweep to publish the recompute")


def test_a_worker_killed_in_the_middle_of_a_recompute_leaves_nothing_half_done_and_the_sweep_finishes_it(stack):
    model = "kill-cam"
    tokens = accounts(stack, ["kill-a", "kill-b", "kill-c"])
    worker = stack.start_worker()
    for name in ("kill-a", "kill-b"):
        assert post(stack, tokens[name], submission("Kill Cam", LOCAL_FLOWS, collector=name)).status == 201
    wait_until(lambda: served(stack, model).status == 200, timeout=90, interval=0.3, what="the first consensus")
    first = feed_and_file_agree(stack, model)

    # Hold the change feed: the next recompute computes, writes its new version and its
    # decisions, then waits to append its change; there it is killed.
    with stack.postgres.connect() as holder:
        holder.execute("BEGIN")
        holder.execute("LOCK TABLE profiles_change IN SHARE MODE")
        for name in ("kill-a", "kill-c"):
            body = submission("Kill Cam", [*LOCAL_FLOWS, MDNS_FLOW], collector=f"{name}-2")
            assert post(stack, tokens[name], body).status == 201
        wait_until(lambda: recompute_waiting_on_a_lock(stack), timeout=90, interval=0.05, what="the recompute")
        worker.kill()
        holder.execute("ROLLBACK")

    with stack.postgres.connect() as conn:
        wait_until(
            lambda: (
                not conn.execute("SELECT 1 FROM pg_stat_activity WHERE application_name = 'mudhub-worker'").fetchone()
            ),
            timeout=30,
            what="the killed worker's transaction to be rolled back",
        )
        dirty, profiles = conn.execute(
            "SELECT m.dirty_since IS NOT NULL, (SELECT count(*) FROM profiles_consensusprofile p "
            "WHERE p.device_model_id = m.id AND p.scope = 'latest') FROM profiles_devicemodel m WHERE m.slug = %s",
            [model],
        ).fetchone()
    assert dirty  # the killed run committed nothing, so the model still waits for a recompute
    assert profiles == 1
    assert feed_and_file_agree(stack, model) == first

    stack.start_worker()
    sweep_until_published(stack, model, first)
    latest = feed_and_file_agree(stack, model)
    assert b"5353" in served(stack, model).body
    assert latest != first


def test_redis_stopped_and_started_again_stops_nothing_and_everything_recovers(stack):
    model = "redis-cam"
    tokens = accounts(stack, ["redis-a", "redis-b"])
    stack.start_worker()
    gunicorn = stack.children[0]
    for name in tokens:
        assert post(stack, tokens[name], submission("Redis Cam", LOCAL_FLOWS, collector=name)).status == 201
    wait_until(lambda: served(stack, model).status == 200, timeout=90, interval=0.3, what="the first consensus")
    first = feed_and_file_agree(stack, model)

    stack.redis.stop()
    try:
        assert served(stack, model).status == 200  # from the database
        status = http(stack.port, "GET", "/api/v1/status/")
        assert status.status == 503
        assert set(status.json()["failed"]) == {"cache", "broker"}
        for name in tokens:  # accepted: the throttle lets them through, the model is marked dirty
            body = submission("Redis Cam", [*LOCAL_FLOWS, MDNS_FLOW], collector=f"{name}-2")
            assert post(stack, tokens[name], body).status == 201
        assert http(stack.port, "GET", "/api/v1/changes/").status == 200
    finally:
        stack.redis.start()

    wait_until(lambda: http(stack.port, "GET", "/api/v1/status/").status == 200, timeout=60, interval=0.5,
               what="/status/ to recover")  # fmt: skip
    assert gunicorn.alive()
    # The recompute message could not be sent while Redis was down; the sweep finds the model.
    sweep_until_published(stack, model, first)
    assert feed_and_file_agree(stack, model) != first
    assert b"5353" in served(stack, model).body
