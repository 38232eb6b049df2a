"""Helpers shared by the benches that run the Django stack on PostgreSQL and Redis.

Not a benchmark itself (importing or running it does nothing). Each bench gets:
- a scratch PostgreSQL database `mudhub_bench_<name>`, dropped and created anew per run and
  dropped again at the end (never `mudhub`, never a `test_*` one);
- Redis database 5 with a key prefix of its own, whose keys are deleted at the end;
- a temporary MUDHUB_VAR_DIR;
- child processes (gunicorn, celery) started in their own process group on 127.0.0.1 and
  stopped by their id in a `finally`.
Figures go to stdout as one JSON line; progress goes to stderr.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"  # every socket of every bench: loopback only
POSTGRES = "postgres://postgres@127.0.0.1:5432"
REDIS_DB = 5
DAY = timedelta(days=1)
HOUR = timedelta(hours=1)


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100), linear between the closest ranks."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = (len(ordered) - 1) * q / 100.0
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summary_ms(seconds: Sequence[float]) -> dict[str, float]:
    ms = [s * 1000.0 for s in seconds]
    return {
        "median": round(statistics.median(ms), 2),
        "p95": round(percentile(ms, 95), 2),
        "min": round(min(ms), 2),
        "max": round(max(ms), 2),
    }


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


# --- scratch database, cache and environment -------------------------------------------------


@dataclass
class Scratch:
    bench: str
    database: str
    env: dict[str, str]
    var_dir: Path
    cache_prefix: str
    redis_url: str
    port: int
    extra_redis_keys: list[str] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"


def _admin_connection() -> Any:
    import psycopg

    return psycopg.connect(f"{POSTGRES}/postgres", autocommit=True, connect_timeout=5)


def _recreate_database(name: str, *, create: bool) -> None:
    if not re.fullmatch(r"mudhub_bench_[a-z0-9_]+", name):  # never mudhub, never test_*
        raise ValueError(f"refusing to touch database {name!r}")
    with _admin_connection() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if create:
            conn.execute(f'CREATE DATABASE "{name}"')


def _redis_cleanup(scratch: Scratch) -> None:
    try:
        import redis

        client = redis.Redis.from_url(scratch.redis_url, socket_timeout=5)
        for key in client.scan_iter(f"{scratch.cache_prefix}*"):
            client.delete(key)
        for key in scratch.extra_redis_keys:
            for match in client.scan_iter(key):
                client.delete(match)
    except Exception as exc:  # cleanup must not hide the result
        log(f"redis cleanup failed: {exc}")


@contextlib.contextmanager
def scratch_stack(
    bench: str,
    *,
    keep: bool = False,
    settings_module: str = "aggregator.settings",
    extra_env: dict[str, str] | None = None,
) -> Iterator[Scratch]:
    """A fresh database (migrated), a private cache prefix and var dir; the environment is
    applied to this process too, before Django is imported, so in-process code and the
    servers started with `scratch.env` see the same settings."""
    database = f"mudhub_bench_{bench}"
    var_dir = Path(tempfile.mkdtemp(prefix=f"mudhub-bench-{bench}-"))
    prefix = f"mudhub-bench-{bench}-{uuid.uuid4().hex[:10]}"
    redis_url = f"redis://{HOST}:6379/{REDIS_DB}"
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CELERY_", "MUDHUB_", "DJANGO_"))}
    env.update(
        DATABASE_URL=f"{POSTGRES}/{database}",
        REDIS_URL=redis_url,
        CELERY_BROKER_URL=redis_url,
        MUDHUB_CACHE_PREFIX=prefix,
        MUDHUB_VAR_DIR=str(var_dir),
        MUDHUB_STATIC_ROOT=str(var_dir / "static"),
        DJANGO_SETTINGS_MODULE=settings_module,
        MUDHUB_ENV="development",
        DEBUG="false",
        MUDHUB_BIND=f"{HOST}:{port}",
        MUDHUB_PUBLIC_URL="https://mudhub.example.org",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        LOG_LEVEL="WARNING",
        PYTHONPATH=str(ROOT),
    )
    env.update(extra_env or {})
    scratch = Scratch(bench, database, env, var_dir, prefix, redis_url, port)
    log(f"scratch database {database}, redis db {REDIS_DB} prefix {prefix}, var {var_dir}")
    _recreate_database(database, create=True)
    try:
        os.environ.clear()
        os.environ.update(env)
        if str(ROOT) not in sys.path:
            sys.path.insert(0, str(ROOT))
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, str(ROOT / "manage.py"), "migrate", "--noinput", "-v0"],
            env={**env, "DJANGO_SETTINGS_MODULE": "aggregator.settings"},
            cwd=ROOT,
            check=True,
            timeout=300,
        )
        log(f"migrated in {time.perf_counter() - started:.1f} s")
        yield scratch
    finally:
        _redis_cleanup(scratch)
        with contextlib.suppress(Exception):
            from django.db import connections

            connections.close_all()
        if not keep:
            try:
                _recreate_database(database, create=False)
            except Exception as exc:
                log(f"could not drop {database}: {exc}")
        shutil.rmtree(var_dir, ignore_errors=True)


def django_setup() -> None:
    import django

    django.setup()


# --- child processes -------------------------------------------------------------------------


class Child:
    """A child process in its own process group, stopped (by its id) on exit."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], log_path: Path) -> None:
        self.name = name
        self.log_path = log_path
        self._log = open(log_path, "wb")  # noqa: SIM115 (closed in stop)
        self.proc = subprocess.Popen(
            argv, env=env, cwd=ROOT, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )
        log(f"started {name} (pid {self.proc.pid})")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        if self.alive():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)  # the group this child leads
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)
        self._log.close()
        log(f"stopped {self.name}")


@contextlib.contextmanager
def children() -> Iterator[list[Child]]:
    started: list[Child] = []
    try:
        yield started
    finally:
        for child in reversed(started):
            try:
                child.stop()
            except Exception as exc:
                log(f"could not stop {child.name}: {exc}")


def start_gunicorn(scratch: Scratch, *, workers: int, worker_class: str = "sync", threads: int = 1) -> Child:
    argv = [
        sys.executable,
        "-m",
        "gunicorn",
        "aggregator.wsgi:application",
        "--bind",
        f"{HOST}:{scratch.port}",
        "--workers",
        str(workers),
        "--worker-class",
        worker_class,
        "--threads",
        str(threads),
        "--chdir",
        str(ROOT),
        "--log-level",
        "warning",
        "--backlog",
        "2048",
    ]
    return Child("gunicorn", argv, scratch.env, scratch.var_dir / "gunicorn.log")


def wait_http(child: Child, port: int, path: str, *, timeout: float = 60.0) -> None:
    """Wait (bounded) until the server answers `path` with anything below 500."""
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        if not child.alive():
            raise RuntimeError(f"{child.name} exited early:\n{child.tail()}")
        try:
            conn = http.client.HTTPConnection(HOST, port, timeout=5)
            conn.request("GET", path)
            status = conn.getresponse().status
            conn.close()
            if status < 500:
                return
            last = f"status {status}"
        except OSError as exc:
            last = str(exc)
        time.sleep(0.2)
    raise RuntimeError(f"{child.name} did not answer {path} within {timeout} s ({last}):\n{child.tail()}")


def process_tree(pid: int) -> list[int]:
    """`pid` and its descendants (read from /proc), e.g. a gunicorn master and its workers."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                fields = handle.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        parents.setdefault(int(fields[1]), []).append(int(entry))
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo.extend(parents.get(current, []))
    return tree


def cpu_seconds(pids: Sequence[int]) -> float:
    """User + system CPU time used so far by these processes (those still alive)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat", "rb") as handle:
                fields = handle.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return total / ticks


class BackendCpu:
    """CPU time used by the PostgreSQL server processes serving one database, sampled from
    /proc twice a second in a thread (connections come and go: a backend first seen late is
    counted from then on). Read-only: it looks at pg_stat_activity and /proc, nothing else."""

    def __init__(self, database: str, interval: float = 0.5) -> None:
        self.database = database
        self.interval = interval
        self.first: dict[int, float] = {}
        self.last: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self, conn: Any) -> None:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", [self.database]
        ).fetchall()
        for (pid,) in rows:
            used = cpu_seconds([pid])
            self.first.setdefault(pid, used)
            self.last[pid] = max(self.last.get(pid, 0.0), used)

    def _run(self) -> None:
        import psycopg

        with psycopg.connect(f"{POSTGRES}/{self.database}", autocommit=True, connect_timeout=5) as conn:
            while not self._stop.is_set():
                self._sample(conn)
                self._stop.wait(self.interval)
            self._sample(conn)

    def __enter__(self) -> BackendCpu:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    @property
    def seconds(self) -> float:
        return sum(self.last[pid] - self.first[pid] for pid in self.first)


# --- load generators -------------------------------------------------------------------------


@dataclass
class LoadResult:
    tool: str
    requests: int
    seconds: float
    rps: float
    errors: int
    latency_ms: dict[str, float]


_WRK_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def _wrk_ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if not match:
        return float("nan")
    return float(match.group(1)) * _WRK_UNITS[match.group(2)]


def wrk_available() -> bool:
    return shutil.which("wrk") is not None


def run_wrk(
    port: int, path: str, *, seconds: float, connections: int, threads: int, headers: Sequence[str] = ()
) -> LoadResult:
    argv = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds:g}s", "--latency", "--timeout", "5s"]
    for header in headers:
        argv += ["-H", header]
    argv.append(f"http://{HOST}:{port}{path}")
    out = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60, check=True).stdout
    total = re.search(r"(\d+) requests in ([\d.]+)(ms|s|m)", out)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if not total or not rps:
        raise RuntimeError(f"cannot read wrk output:\n{out}")
    non_ok = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = int(non_ok.group(1)) if non_ok else 0
    # A read "error" is how wrk counts a server closing a connection it may not reuse
    # (sync gunicorn workers close after every response): not a failed request.
    if sock:
        errors += int(sock.group(1)) + int(sock.group(3)) + int(sock.group(4))
    latency = {q: _wrk_ms(v) for q, v in re.findall(r"^\s+(50|90|99)%\s+(\S+)$", out, flags=re.M)}
    elapsed = _wrk_ms(total.group(2) + total.group(3)) / 1000.0
    return LoadResult(
        "wrk",
        int(total.group(1)),
        elapsed,
        float(rps.group(1)),
        errors,
        {f"p{q}": round(v, 3) for q, v in latency.items()},
    )


def run_python_load(
    port: int, path: str, *, seconds: float, connections: int, headers: Sequence[str] = (), expect: int = 200
) -> LoadResult:
    """The fallback load generator: one thread per connection, http.client keep-alive
    (reconnecting whenever the server closes), counting any other status as an error."""
    extra = dict(h.split(": ", 1) for h in headers)
    deadline = time.perf_counter() + seconds
    lock = threading.Lock()
    latencies: list[float] = []
    errors = [0]

    def worker() -> None:
        mine: list[float] = []
        bad = 0
        conn: http.client.HTTPConnection | None = None
        while time.perf_counter() < deadline:
            if conn is None:
                conn = http.client.HTTPConnection(HOST, port, timeout=10)
            start = time.perf_counter()
            try:
                conn.request("GET", path, headers=extra)
                response = conn.getresponse()
                response.read()
                if response.status != expect:
                    bad += 1
                if response.will_close:
                    conn.close()
                    conn = None
            except OSError:
                bad += 1
                conn.close()
                conn = None
                continue
            mine.append(time.perf_counter() - start)
        if conn is not None:
            conn.close()
        with lock:
            latencies.extend(mine)
            errors[0] += bad

    started = time.perf_counter()
    pool = [threading.Thread(target=worker, daemon=True) for _ in range(connections)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join(timeout=seconds + 30)
    elapsed = time.perf_counter() - started
    ms = [x * 1000 for x in latencies]
    return LoadResult(
        "python-threads",
        len(latencies),
        elapsed,
        len(latencies) / elapsed,
        errors[0],
        {f"p{q}": round(percentile(ms, q), 3) for q in (50, 90, 99)},
    )


# --- a synthetic community, inserted in bulk (Django must be set up) -------------------------

VENDOR_DOMAIN = "acmecam.com"


def catalogue_flows(count: int = 200) -> list[Any]:
    """`count` distinct flows of a camera, most popular first: the vendor cloud and the
    gateway services everyone sees, then regional CDNs and relays, then a long tail of
    pinned addresses, trackers and local ports that few capture."""
    from profiles.mud.flows import Flow, PortMatch

    def out(kind: str, peer: str, proto: int, port: int) -> Flow:
        return Flow(
            "from-device",
            "ipv4",
            kind,
            peer,
            protocol=proto,
            dst_port=PortMatch.eq(port),
            initiated="from-device" if proto == 6 else None,
        )

    def back(kind: str, peer: str, proto: int, port: int) -> Flow:
        return Flow("to-device", "ipv4", kind, peer, protocol=proto, src_port=PortMatch.eq(port))

    flows: list[Flow] = [
        out("controller", "urn:ietf:params:mud:ntp", 17, 123),
        out("controller", "urn:ietf:params:mud:dns", 17, 53),
        out("local-networks", "", 17, 1900),
        out("local-networks", "", 17, 5353),
        back("local-networks", "", 17, 5353),
        out("my-controller", "", 6, 554),
        back("my-controller", "", 6, 554),
    ]
    for service, port in (("api", 443), ("ota", 443), ("mqtt", 8883), ("stream", 443), ("log", 443), ("time", 443)):
        host = f"{service}.{VENDOR_DOMAIN}"
        flows += [out("dnsname", host, 6, port), back("dnsname", host, 6, port)]
    for region in ("eu", "us", "ap", "sa", "af", "me"):
        host = f"{region}.cdn.{VENDOR_DOMAIN}"
        flows += [out("dnsname", host, 6, 443), back("dnsname", host, 6, 443)]
        flows += [out("dnsname", f"relay-{region}.{VENDOR_DOMAIN}", 17, 3478)]
        flows += [out("dnsname", f"edge-{region}.fastcdn-{region}.net", 6, 443)]
    k = 0
    while len(flows) < count:
        kind = k % 4
        if kind == 0:
            flows.append(out("network", f"203.0.{k // 4 % 256}.{k % 250 + 1}/32", 6, 443))
        elif kind == 1:
            flows.append(out("dnsname", f"t{k}.tracker{k % 13}.com", 6, 443))
        elif kind == 2:
            flows.append(out("dnsname", f"p2p{k}.cheapcloud{k % 7}.net", 17, 32100 + k))
        else:
            flows.append(out("local-networks", "", 6, 8000 + k))
        k += 1
    flows = flows[:count]
    if len({f.key for f in flows}) != count:
        raise AssertionError("catalogue flows are not distinct")
    return flows


def flow_popularity(count: int) -> list[float]:
    """The chance that one capture sees each flow: a common core of 30-60 flows, then a
    long tail; on average a capture holds about 35 flows."""
    weights = []
    for i in range(count):
        if i < 30:
            weights.append(0.92 - 0.01 * i)  # 0.92 .. 0.63
        elif i < 60:
            weights.append(0.45 - 0.012 * (i - 30))  # 0.45 .. 0.10
        else:
            weights.append(max(0.002, 0.03 / (1 + (i - 60) / 20)))
    return weights


def captures(rng: Any, count: int, weights: Sequence[float], *, low: int = 20, high: int = 60) -> list[list[int]]:
    """`count` captures (indexes into the catalogue), each of `low`..`high` flows, every flow
    in at least one capture."""
    out = []
    for _ in range(count):
        seen = [i for i, w in enumerate(weights) if rng.random() < w]
        if len(seen) < low:
            extra = [i for i in range(len(weights)) if i not in set(seen)]
            seen = sorted(seen + extra[: low - len(seen)])
        elif len(seen) > high:
            seen = seen[:high]
        out.append(seen)
    covered = {i for seen in out for i in seen}
    for i in range(len(weights)):
        if i not in covered and out:
            pick = out[rng.randrange(len(out))]
            pick.append(i)
            pick.sort()
    return out


def contributors_create(count: int, rng: Any, *, prefix: str = "bench") -> list[int]:
    """Users and Contributors in bulk: TL1-TL3 with reputations, a few shared households."""
    from django.contrib.auth import get_user_model

    from profiles.models import Contributor

    users = get_user_model()
    ids: list[int] = []
    for start in range(0, count, 2000):
        batch = range(start, min(count, start + 2000))
        made = users.objects.bulk_create(
            [users(username=f"{prefix}-{i}", email=f"{prefix}-{i}@bench.invalid", password="!bench") for i in batch]
        )
        people = []
        for user in made:
            level = rng.choices((1, 2, 3), weights=(50, 38, 12))[0]
            r, s = {1: (rng.uniform(1, 6), rng.uniform(0, 2)), 2: (rng.uniform(8, 25), rng.uniform(0, 4))}.get(
                level, (rng.uniform(30, 80), rng.uniform(0, 5))
            )
            group = f"household-{rng.randrange(count // 3 + 1)}" if rng.random() < 0.08 else ""
            people.append(Contributor(user=user, trust_level=level, reputation_r=r, reputation_s=s, group_key=group))
        ids += [p.pk for p in Contributor.objects.bulk_create(people)]
    return ids


def device_model_create(manufacturer_name: str, model_name: str, *, firmware: Sequence[str] = ()) -> Any:
    from django.utils import timezone

    from profiles.models import UNKNOWN_FIRMWARE, FirmwareVersion, ManufacturerDomain
    from profiles.services.catalog import device_model_resolve, manufacturer_resolve

    manufacturer = manufacturer_resolve(name=manufacturer_name)
    ManufacturerDomain.objects.get_or_create(
        manufacturer=manufacturer, domain=VENDOR_DOMAIN, defaults={"verified_at": timezone.now()}
    )
    model = device_model_resolve(manufacturer=manufacturer, name=model_name)
    now = timezone.now()
    for order, version in enumerate((*firmware, UNKNOWN_FIRMWARE)):
        FirmwareVersion.objects.get_or_create(
            device_model=model, version=version, defaults={"first_seen": now - (len(firmware) - order) * DAY}
        )
    return model


def submissions_create(
    model: Any,
    contributor_ids: Sequence[int],
    flows: Sequence[Any],
    flow_ids: dict[Any, int],
    rng: Any,
    *,
    firmware_mix: dict[str, float],
) -> int:
    """One active native-flow submission per contributor, inserted in bulk."""
    import hashlib
    import json

    from django.utils import timezone

    from profiles.management.commands.seed_demo import native
    from profiles.models import FirmwareVersion, Submission

    versions = dict(FirmwareVersion.objects.filter(device_model=model).values_list("version", "id"))
    names, weights = list(firmware_mix), list(firmware_mix.values())
    now = timezone.now()
    seen_by = captures(rng, len(contributor_ids), flow_popularity(len(flows)))
    rows = []
    for contributor_id, seen in zip(contributor_ids, seen_by, strict=True):
        chosen = [flows[i] for i in seen]
        end = now - rng.uniform(1, 90) * DAY
        start = end - rng.choice((6, 24, 72, 168)) * HOUR
        version = rng.choices(names, weights=weights)[0]
        payload = {
            "device": {"manufacturer": model.manufacturer.name, "model": model.name, "firmware": version},
            "observation": {"start": start.isoformat(), "end": end.isoformat()},
            "flows": [native(f) for f in chosen],
        }
        raw = json.dumps(payload, sort_keys=True).encode()
        ids = sorted(flow_ids[f] for f in chosen)
        rows.append(
            Submission(
                contributor_id=contributor_id,
                device_model=model,
                firmware_id=versions[version],
                format="flows",
                raw=raw,
                sha256=hashlib.sha256(raw).hexdigest(),
                observed_start=start,
                observed_end=end,
                flow_ids=ids,
                flow_count=len(ids),
                ace_count=len(ids),
            )
        )
    Submission.objects.bulk_create(rows, batch_size=1000)
    return len(rows)


def domains_age(days: int = 180) -> None:
    """An instance that has run for months: the peer domains are not new to it."""
    from django.utils import timezone

    from profiles.models import PeerDomain

    PeerDomain.objects.update(first_seen=timezone.now() - days * DAY)
