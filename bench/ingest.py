"""Benchmark of ingest through the real API: POST /api/v1/submissions/ of 20-ACE MUD files.

Run: .venv/bin/python bench/ingest.py [--requests 1500] [--clients 8] [--workers 2] [--celery worker|queued]
Prints one JSON line on stdout (progress on stderr). Needs PostgreSQL and Redis on 127.0.0.1.

gunicorn (sync workers, DEBUG off, PostgreSQL, Redis cache and broker) on 127.0.0.1 takes
submissions from several client threads (Python, http.client keep-alive), each with its own
contributor tokens (knox, `Authorization: Token ...`). Every request is a distinct, valid
RFC 8520 MUD file of 20 ACEs (emitted by profiles.mud.emit from 20 of 300 flows, with its own
last-update), for one of 20 device models of one manufacturer, so nothing is deduplicated
and most requests supersede the contributor's previous file for that model, as on a live
instance. The contributors are established accounts (TL2/TL3, months old), so the daily
limits and the burst freeze (young accounts only) do not interfere; --young-accounts makes
them new, the burst freeze's worst case.

Recomputes are queued (debounced, on an isolated queue): with --celery worker (the default)
one Celery worker (solo pool) consumes them on the same machine during the run, as in
production; with --celery queued nothing consumes them and they are dropped at the end.

Reported: submissions/s over the measured requests (after a warm-up), client latency
p50/p95, errors (anything but 201), and, measured in this process through Django's WSGI
handler, the time per request of each part of the write path, its SQL queries, and the top
of a cProfile listing, to show where the time goes.
"""

from __future__ import annotations

import argparse
import http.client
import io
import json
import os
import random
import sys
import threading
import time
import uuid
from collections import defaultdict
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as common

TARGET_PER_SECOND = 100.0
PATH = "/api/v1/submissions/"
MANUFACTURER = "Acme Cam"
ACES = 20


def contributors_with_tokens(count: int, rng: random.Random, *, young: bool) -> list[str]:
    from django.contrib.auth import get_user_model
    from django.utils import timezone
    from knox.models import AuthToken

    from profiles.models import Contributor

    ids = common.contributors_create(count, rng, prefix="ingest")
    people = Contributor.objects.filter(pk__in=ids)
    people.update(trust_level=3)  # TL3: 500 submissions a day, far above what one run sends
    if not young:
        people.update(created_at=timezone.now() - timedelta(days=180))
    tokens = []
    for user in get_user_model().objects.filter(contributor__in=ids).order_by("pk"):
        _, token = AuthToken.objects.create(user)
        tokens.append(token)
    return tokens


def make_bodies(count: int, models: int, rng: random.Random) -> list[bytes]:
    """`count` distinct request bodies, each a valid MUD file of exactly 20 ACEs."""
    from django.utils import timezone

    from profiles import mud

    pool = common.catalogue_flows(300)
    start = timezone.now().replace(microsecond=0) - timedelta(days=1)
    bodies = []
    for i in range(count):
        model = f"Indoor Cam {i % models + 1}"
        firmware = rng.choice(("2.0", "2.1"))
        meta = mud.MudMeta(
            mud_url=f"https://{common.VENDOR_DOMAIN}/mud/indoor-cam-{i % models + 1}.json",
            last_update=start + timedelta(seconds=i),
            is_supported=True,
            cache_validity=48,
            systeminfo=f"{MANUFACTURER} {model}",
            mfg_name=MANUFACTURER,
            model_name=model,
            firmware_rev=firmware,
        )
        document = json.loads(mud.emit(meta, rng.sample(pool, ACES)))
        end = start + timedelta(seconds=i) - timedelta(minutes=rng.randrange(1, 600))
        payload = {
            "device": {"manufacturer": MANUFACTURER, "model": model, "firmware": firmware},
            "observation": {"start": (end - timedelta(hours=24)).isoformat(), "end": end.isoformat()},
            "mud": document,
        }
        bodies.append(json.dumps(payload).encode())
    parsed = mud.parse(json.dumps(json.loads(bodies[0])["mud"]).encode())
    if parsed.ace_count != ACES:
        raise AssertionError(f"a generated file has {parsed.ace_count} ACEs, not {ACES}")
    return bodies


class Client(threading.Thread):
    """Sends its (token, body) pairs in order on one keep-alive connection, reconnecting
    whenever the server closes it; records latency and status of each."""

    def __init__(self, port: int, work: list[tuple[str, bytes]]) -> None:
        super().__init__(daemon=True)
        self.port = port
        self.work = work
        self.latencies: list[float] = []
        self.statuses: dict[int, int] = defaultdict(int)
        self.failures: list[str] = []

    def run(self) -> None:
        conn: http.client.HTTPConnection | None = None
        for token, body in self.work:
            if conn is None:
                conn = http.client.HTTPConnection(common.HOST, self.port, timeout=60)
            headers = {"Content-Type": "application/json", "Authorization": f"Token {token}"}
            start = time.perf_counter()
            try:
                conn.request("POST", PATH, body=body, headers=headers)
                response = conn.getresponse()
                text = response.read()
            except OSError as exc:
                self.statuses[0] += 1
                self.failures.append(repr(exc))
                conn.close()
                conn = None
                continue
            self.latencies.append(time.perf_counter() - start)
            self.statuses[response.status] += 1
            if response.status != 201 and len(self.failures) < 5:
                self.failures.append(f"{response.status}: {text[:300]!r}")
            if response.will_close:
                conn.close()
                conn = None
        if conn is not None:
            conn.close()


def send(port: int, work: list[tuple[str, bytes]], clients: int) -> tuple[float, list[Client]]:
    threads = [Client(port, work[i::clients]) for i in range(clients)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)
    return time.perf_counter() - start, threads


def start_worker(scratch: common.Scratch, queue: str) -> common.Child:
    argv = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "aggregator",
        "worker",
        "-Q",
        queue,
        "--pool",
        "solo",
        "--loglevel",
        "INFO",
        "--without-heartbeat",
        "--without-gossip",
        "--without-mingle",
        "-n",
        f"bench-ingest-{uuid.uuid4().hex[:6]}@localhost",
    ]
    worker = common.Child("celery worker", argv, scratch.env, scratch.var_dir / "celery.log")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if not worker.alive():
            raise RuntimeError(f"the Celery worker exited:\n{worker.tail()}")
        if " ready." in worker.log_path.read_text(errors="replace"):
            return worker
        time.sleep(0.3)
    raise RuntimeError(f"the Celery worker was not ready within 60 s:\n{worker.tail()}")


# --- in-process breakdown --------------------------------------------------------------------


class PartTimer:
    """Wraps functions on the write path to total their time per request."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.cpu: dict[str, float] = defaultdict(float)
        self._saved: list[tuple[Any, str, Any]] = []
        self.order: list[str] = []

    def wrap(self, owner: Any, name: str, label: str) -> None:
        original = getattr(owner, name)
        self._saved.append((owner, name, original))
        self.order.append(label)
        seconds, cpu = self.seconds, self.cpu

        def timed(*a: Any, **kw: Any) -> Any:
            start, start_cpu = time.perf_counter(), time.process_time()
            try:
                return original(*a, **kw)
            finally:
                seconds[label] += time.perf_counter() - start
                cpu[label] += time.process_time() - start_cpu

        setattr(owner, name, timed)

    def restore(self) -> None:
        for owner, name, original in reversed(self._saved):
            setattr(owner, name, original)


def _environ(body: bytes, token: str, port: int) -> dict[str, Any]:
    return {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": PATH,
        "SCRIPT_NAME": "",
        "QUERY_STRING": "",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(body)),
        "SERVER_NAME": common.HOST,
        "SERVER_PORT": str(port),
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": common.HOST,
        "HTTP_HOST": f"{common.HOST}:{port}",
        "HTTP_AUTHORIZATION": f"Token {token}",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }


def _post(handler: Any, body: bytes, token: str, port: int) -> str:
    statuses: list[str] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        statuses.append(status)
        return None

    response = handler(_environ(body, token, port), start_response)
    for _chunk in response:
        pass
    response.close()
    return statuses[0]


def in_process_breakdown(work: list[tuple[str, bytes]], port: int, profile_top: int) -> dict[str, Any]:
    import cProfile
    import pstats

    from django.core.handlers.wsgi import WSGIHandler
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from knox.auth import TokenAuthentication

    import profiles.api.submissions as api
    import profiles.services.recompute as recompute
    import profiles.services.submissions as services
    from profiles.api.parsers import RawJSONParser
    from profiles.api.serializers import SubmissionInSerializer, SubmissionSerializer
    from profiles.api.throttles import SubmissionThrottle

    handler = WSGIHandler()
    warm_count = min(10, len(work) // 5)
    warm, rest = work[:warm_count], work[warm_count:]
    timed_work, profiled = rest[: len(rest) // 2], rest[len(rest) // 2 :]
    for token, body in warm:
        _post(handler, body, token, port)

    timer = PartTimer()
    timer.wrap(TokenAuthentication, "authenticate", "auth (knox token)")
    timer.wrap(SubmissionThrottle, "allow_request", "throttle (daily limit, cache)")
    timer.wrap(RawJSONParser, "parse", "read + json.loads body")
    timer.wrap(SubmissionInSerializer, "is_valid", "envelope serializer")
    timer.wrap(api, "submission_content_read", "content read (MUD parse + normalise)")
    timer.wrap(services.mud, "parse", "  of which mud.parse")
    timer.wrap(api, "submission_create", "submission_create (transaction)")
    for name in ("manufacturer_resolve", "device_model_resolve", "firmware_resolve", "flows_ensure"):
        timer.wrap(services, name, f"  of which {name}")
    timer.wrap(services, "burst_freeze_check", "  of which burst_freeze_check")
    timer.wrap(services, "device_model_mark_dirty", "  of which device_model_mark_dirty")
    timer.wrap(recompute, "recompute_schedule", "on commit: recompute_schedule (cache.add + Celery publish)")
    timer.wrap(SubmissionSerializer, "to_representation", "response serializer")
    statuses: dict[str, int] = defaultdict(int)
    start, start_cpu = time.perf_counter(), time.process_time()
    try:
        for token, body in timed_work:
            statuses[_post(handler, body, token, port)] += 1
    finally:
        timer.restore()
    elapsed, elapsed_cpu = time.perf_counter() - start, time.process_time() - start_cpu
    count = len(timed_work)
    parts = {
        label: {"wall": round(seconds * 1000 / count, 3), "cpu": round(timer.cpu[label] * 1000 / count, 3)}
        for label in timer.order
        if (seconds := timer.seconds.get(label)) is not None
    }
    accounted = sum(v["cpu"] for k, v in parts.items() if not k.startswith("  "))
    per_request_cpu = elapsed_cpu * 1000 / count

    # The same files parsed outside the request path, in this process: the codec's own cost.
    documents = [json.dumps(json.loads(body)["mud"]).encode() for _, body in timed_work]
    start_cpu = time.process_time()
    for document in documents:
        services.mud.parse(document, mode="import")
    parse_alone_ms = (time.process_time() - start_cpu) * 1000 / len(documents)

    with CaptureQueriesContext(connection) as queries:
        token, body = profiled[0]
        statuses[_post(handler, body, token, port)] += 1
    captured = list(queries.captured_queries)  # a live view: the next request resets it
    sql_ms = sum(float(q["time"]) for q in captured) * 1000
    for query in captured:
        print(f"  {query['time']} s  {query['sql'][:160]}", file=sys.stderr)

    profiler = cProfile.Profile()
    profiler.enable()
    for token, body in profiled[1:]:
        statuses[_post(handler, body, token, port)] += 1
    profiler.disable()
    stream = io.StringIO()
    stats = pstats.Stats(profiler, stream=stream).sort_stats("cumulative")
    stats.print_stats(45)
    print(stream.getvalue(), file=sys.stderr)
    runs = max(1, len(profiled) - 1)
    top = []
    for (filename, line, name), (_cc, _calls, tottime, cumtime, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        top.append(
            {
                "function": f"{Path(filename).name}:{line}:{name}",
                "cumulative_ms_per_request": round(cumtime * 1000 / runs, 3),
                "own_ms_per_request": round(tottime * 1000 / runs, 3),
            }
        )
    top.sort(key=lambda row: -row["cumulative_ms_per_request"])
    return {
        "requests": count,
        "statuses": dict(statuses),
        "wall_ms_per_request": round(elapsed * 1000 / count, 3),
        "cpu_ms_per_request": round(per_request_cpu, 3),
        "parts_ms_per_request": parts,
        "cpu_ms_outside_the_parts": round(per_request_cpu - accounted, 3),
        "mud_parse_alone_cpu_ms": round(parse_alone_ms, 3),
        "queries_per_request": len(captured),
        "sql_ms_per_request": round(sql_ms, 3),
        "profile_top_cumulative": top[:profile_top],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=1500, help="measured submissions")
    parser.add_argument("--warmup", type=int, default=100, help="submissions sent first, not measured")
    parser.add_argument("--clients", type=int, default=8, help="concurrent client threads")
    parser.add_argument("--contributors", type=int, default=64, help="accounts (tokens), shared out among clients")
    parser.add_argument("--models", type=int, default=20, help="device models the submissions are for")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--worker-class", default="sync")
    parser.add_argument("--threads", type=int, default=1, help="gunicorn threads per worker (gthread)")
    parser.add_argument(
        "--celery", choices=("worker", "queued"), default="worker", help="consume recomputes during the run, or not"
    )
    parser.add_argument("--young-accounts", action="store_true", help="accounts created now (burst freeze applies)")
    parser.add_argument("--in-process", type=int, default=300, help="requests for the in-process breakdown (0: none)")
    parser.add_argument("--profile-top", type=int, default=20, help="cProfile rows in the JSON line")
    parser.add_argument("--seed", type=int, default=8520)
    parser.add_argument("--keep", action="store_true", help="keep the scratch database afterwards")
    args = parser.parse_args()
    if 0 < args.in_process < 20:
        parser.error("--in-process must be 0 (none) or at least 20")
    if args.contributors < args.clients:
        parser.error("--contributors must be at least --clients (each client has tokens of its own)")

    load_start = round(os.getloadavg()[0], 2)
    queue = f"mudhub-bench-ingest-{uuid.uuid4().hex[:8]}"
    extra_env = {"MUDHUB_RECOMPUTE_QUEUE": queue, "MUDHUB_RECOMPUTE_DEBOUNCE_SECONDS": "5"}
    with common.scratch_stack("ingest", keep=args.keep, extra_env=extra_env) as scratch:
        # Every key kombu makes for the queue names it (a unique name); the rest are kombu's
        # per-database keys, in Redis database 5, which only these benches use.
        scratch.extra_redis_keys += [f"*{queue}*", "_kombu.binding_deadlines"]
        if args.celery == "worker":
            scratch.extra_redis_keys += ["unacked", "unacked_index", "unacked_mutex"]
        common.django_setup()
        from profiles.models import ConsensusProfile, DeviceModel, Submission

        rng = random.Random(args.seed)
        tokens = contributors_with_tokens(args.contributors, rng, young=args.young_accounts)
        total = args.warmup + args.requests + args.in_process
        started = time.perf_counter()
        bodies = make_bodies(total, args.models, rng)
        common.log(f"{total} bodies of {ACES} ACEs made in {time.perf_counter() - started:.1f} s")
        # Client i sends with tokens i, i + clients, ...: no token is shared between clients.
        per_client = len(tokens) // args.clients
        work = [
            (tokens[i % args.clients + args.clients * ((i // args.clients) % per_client)], body)
            for i, body in enumerate(bodies)
        ]
        warmup, measured = work[: args.warmup], work[args.warmup : args.warmup + args.requests]
        in_process_work = work[args.warmup + args.requests :]

        with common.children() as started_children:
            if args.celery == "worker":
                started_children.append(start_worker(scratch, queue))
            server = common.start_gunicorn(
                scratch, workers=args.workers, worker_class=args.worker_class, threads=args.threads
            )
            started_children.append(server)
            common.wait_http(server, scratch.port, "/api/v1/status/")
            _, warm_threads = send(scratch.port, warmup, args.clients)
            warm_errors = sum(n for t in warm_threads for s, n in t.statuses.items() if s != 201)
            common.log(f"warm-up: {len(warmup)} submissions, {warm_errors} errors")
            pids = common.process_tree(server.proc.pid)
            worker_pids = common.process_tree(started_children[0].proc.pid) if args.celery == "worker" else []
            cpu_before, worker_before = common.cpu_seconds(pids), common.cpu_seconds(worker_pids)
            with common.BackendCpu(scratch.database) as backends:
                elapsed, threads = send(scratch.port, measured, args.clients)
            server_cpu = common.cpu_seconds(pids) - cpu_before
            worker_cpu = common.cpu_seconds(worker_pids) - worker_before
            db_cpu = backends.seconds
            recomputed = ConsensusProfile.objects.count()
            if not server.alive():
                raise RuntimeError(f"gunicorn died:\n{server.tail()}")
        latencies = [x for t in threads for x in t.latencies]
        statuses: dict[int, int] = defaultdict(int)
        for thread in threads:
            for status, n in thread.statuses.items():
                statuses[status] += n
        failures = [f for t in threads for f in t.failures]
        for failure in failures[:5]:
            common.log(f"failure: {failure}")
        errors = sum(n for status, n in statuses.items() if status != 201)
        rate = len(measured) / elapsed
        common.log(f"{len(measured)} submissions in {elapsed:.1f} s: {rate:.1f}/s, {errors} errors")
        stored = Submission.objects.count()
        dirty = DeviceModel.objects.filter(dirty_since__isnull=False).count()
        breakdown = in_process_breakdown(in_process_work, scratch.port, args.profile_top) if args.in_process else {}

    latency_ms = [x * 1000 for x in latencies]
    result = {
        "bench": "ingest",
        "aces_per_file": ACES,
        "requests": len(measured),
        "warmup": len(warmup),
        "clients": args.clients,
        "contributors": len(tokens),
        "device_models": args.models,
        "server": {
            "gunicorn_workers": args.workers,
            "worker_class": args.worker_class,
            "threads": args.threads,
            "database": "postgresql",
            "cache_and_broker": "redis",
        },
        "celery": (
            "one worker (solo pool) consuming the isolated recompute queue during the run"
            if args.celery == "worker"
            else "no worker: recomputes left on an isolated queue, dropped at the end"
        ),
        "young_accounts": args.young_accounts,
        "seconds": round(elapsed, 2),
        "submissions_per_s": round(rate, 1),
        "latency_ms": {
            "p50": round(common.percentile(latency_ms, 50), 2),
            "p95": round(common.percentile(latency_ms, 95), 2),
            "p99": round(common.percentile(latency_ms, 99), 2),
            "max": round(max(latency_ms), 2),
        },
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "errors": errors,
        "server_cpu_ms_per_submission": round(server_cpu * 1000 / len(measured), 2),
        "postgres_backends_cpu_ms_per_submission": round(db_cpu * 1000 / len(measured), 2),
        "celery_worker_cpu_ms_per_submission": round(worker_cpu * 1000 / len(measured), 2),
        "machine_cores": os.cpu_count(),
        "submissions_stored": stored,
        "consensus_versions_published_during_run": recomputed,
        "models_left_dirty": dirty,
        "target_per_s": TARGET_PER_SECOND,
        "target_met": rate >= TARGET_PER_SECOND and errors == 0,
        "in_process": breakdown,
        "load_average_1min": {"start": load_start, "end": round(os.getloadavg()[0], 2)},
        "python": sys.version.split()[0],
    }
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
