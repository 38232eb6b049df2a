"""A private mudhub stack for fault injection: its own PostgreSQL and Redis, gunicorn, workers.

The machine's PostgreSQL and Redis are shared (with other test runs, other developers), so a
test that restarts or stops a service starts its own instance first and breaks only that:
- PostgreSQL: `initdb` into a fresh temporary folder, `pg_ctl` on a free loopback port (as the
  `postgres` user when running as root, which initdb refuses);
- Redis: `redis-server` on a free loopback port, no persistence;
- gunicorn and Celery workers pointed at them, each in its own process group, stopped by id.
Every socket is on 127.0.0.1. Not a test module: tests/integration/test_faults.py uses it.
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.support import ROOT, require

HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def wait_until(predicate: Any, *, timeout: float, interval: float = 0.1, what: str = "a condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def postgres_bindir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def require_private_services() -> Path:
    bindir = postgres_bindir()
    require(bindir is not None, "PostgreSQL's initdb is not installed (apt-get install postgresql)")
    require(shutil.which("redis-server") is not None, "redis-server is not installed (apt-get install redis-server)")
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            require(False, "running as root, and there is no postgres user to run a private PostgreSQL as")
    assert bindir is not None
    return bindir


class Child:
    """A child process in its own process group, logging to a file, stopped by its id."""

    def __init__(self, name: str, argv: list[str], *, env: dict[str, str], log: Path, **popen: Any) -> None:
        self.name = name
        self.log = log
        self._out = open(log, "ab")  # noqa: SIM115 (closed in stop)
        self.proc = subprocess.Popen(
            argv, env=env, cwd=ROOT, stdout=self._out, stderr=subprocess.STDOUT, start_new_session=True, **popen
        )

    def alive(self) -> bool:
        return self.proc.poll() is None

    def tail(self, lines: int = 40) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        return ""

    def kill(self) -> None:
        """SIGKILL, as an out-of-memory killer or a pulled plug would: no cleanup at all."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.alive():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=8)
            except subprocess.TimeoutExpired:
                self.kill()
        self._out.close()


class PrivatePostgres:
    def __init__(self, bindir: Path, workdir: Path) -> None:
        self.bindir = bindir
        self.workdir = workdir
        self.data = workdir / "data"
        self.log = workdir / "postgres.log"
        self.port = free_port()
        self.user = "postgres" if os.geteuid() == 0 else None

    def _run(self, *argv: str, timeout: float = 120) -> None:
        out = subprocess.run(
            [str(self.bindir / argv[0]), *argv[1:]],
            user=self.user,
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=self.workdir,
        )
        if out.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} failed:\n{out.stdout}\n{out.stderr}\n{self.tail()}")

    def tail(self) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-30:])
        return ""

    def init(self) -> None:
        if self.user:
            entry = pwd.getpwnam(self.user)
            os.chown(self.workdir, entry.pw_uid, entry.pw_gid)
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8")
        options = " ".join(
            [
                f"-p {self.port}",
                f"-k {self.workdir}",
                f"-c listen_addresses={HOST}",
                "-c fsync=off",
                "-c full_page_writes=off",
                "-c max_connections=60",
                # A backend whose client vanished (a killed worker) notices within this time
                # even while it waits for a lock, and rolls its transaction back.
                "-c client_connection_check_interval=200ms",
            ]
        )
        self.options = options

    def start(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", self.options, "-w", "-t", "60", "start")

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")

    def url(self, database: str = "postgres") -> str:
        return f"postgres://postgres@{HOST}:{self.port}/{database}"

    def connect(self, database: str = "mudhub") -> Any:
        import psycopg

        return psycopg.connect(self.url(database), autocommit=True, connect_timeout=5)

    def destroy(self) -> None:
        with contextlib.suppress(Exception):
            self.stop("immediate")
        shutil.rmtree(self.workdir, ignore_errors=True)


class PrivateRedis:
    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.child: Child | None = None

    def start(self) -> None:
        argv = ["redis-server", "--port", str(self.port), "--bind", HOST, "--save", "", "--appendonly", "no",
                "--dir", str(self.workdir)]  # fmt: skip
        self.child = Child("redis", argv, env=dict(os.environ), log=self.workdir / "redis.log")
        wait_until(self.ping, timeout=20, what="the private Redis")

    def ping(self) -> bool:
        try:
            with socket.create_connection((HOST, self.port), timeout=1) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        if self.child is not None:
            self.child.stop()
            self.child = None

    def url(self, db: int = 0) -> str:
        return f"redis://{HOST}:{self.port}/{db}"


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def http(
    port: int,
    method: str,
    path: str,
    *,
    body: Any = None,
    token: str | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """One request to the private server; a refused or broken connection raises OSError."""
    data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
    request = urllib.request.Request(f"http://{HOST}:{port}{path}", data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Token {token}")
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return Response(answer.status, dict(answer.headers), answer.read())
    except urllib.error.HTTPError as error:
        return Response(error.code, dict(error.headers), error.read())


@dataclass
class Stack:
    postgres: PrivatePostgres
    redis: PrivateRedis
    workdir: Path
    env: dict[str, str]
    port: int
    children: list[Child] = field(default_factory=list)

    def manage(self, *args: str, extra_env: dict[str, str] | None = None) -> str:
        out = subprocess.run(
            [sys.executable, str(ROOT / "manage.py"), *args],
            env={**self.env, **(extra_env or {})},
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if out.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{out.stdout}\n{out.stderr}")
        return out.stdout

    def start_gunicorn(self, workers: int = 2) -> Child:
        argv = [sys.executable, "-m", "gunicorn", "aggregator.wsgi:application", "--bind", f"{HOST}:{self.port}",
                "--workers", str(workers), "--log-level", "warning", "--graceful-timeout", "5"]  # fmt: skip
        child = Child("gunicorn", argv, env=self.env, log=self.workdir / "gunicorn.log")
        self.children.append(child)

        def up() -> bool:
            if not child.alive():
                raise RuntimeError(f"gunicorn exited:\n{child.tail()}")
            try:
                return http(self.port, "GET", "/api/v1/status/").status < 600
            except OSError:
                return False

        wait_until(up, timeout=60, interval=0.2, what="gunicorn")
        return child

    def start_worker(self) -> Child:
        name = f"faults-{uuid.uuid4().hex[:8]}@localhost"
        argv = [sys.executable, "-m", "celery", "-A", "aggregator", "worker", "--pool", "solo", "-n", name,
                "--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel", "INFO"]  # fmt: skip
        env = {**self.env, "DATABASE_URL": self.postgres.url("mudhub") + "?application_name=mudhub-worker"}
        child = Child("celery worker", argv, env=env, log=self.workdir / f"worker-{name}.log")
        self.children.append(child)

        def ready() -> bool:
            if not child.alive():
                raise RuntimeError(f"the worker exited:\n{child.tail()}")
            return " ready." in child.log.read_text(errors="replace")

        wait_until(ready, timeout=90, interval=0.2, what="the Celery worker")
        return child

    def send_task(self, name: str) -> None:
        code = f"from aggregator.celery import app; app.send_task({name!r})"
        subprocess.run([sys.executable, "-c", code], env=self.env, cwd=ROOT, check=True, timeout=60)

    def token(self, username: str, password: str) -> str:
        answer = http(self.port, "POST", "/api/v1/auth/token/", body={"username": username, "password": password})
        assert answer.status == 200, answer.body
        return str(answer.json()["token"])


@contextlib.contextmanager
def private_stack(*, extra_env: dict[str, str] | None = None) -> Iterator[Stack]:
    bindir = require_private_services()
    workdir = Path(tempfile.mkdtemp(prefix="mudhub-faults-"))
    workdir.chmod(0o755)  # the postgres user reaches its folder inside
    postgres = PrivatePostgres(bindir, workdir / "pg")
    postgres.workdir.mkdir()
    redis = PrivateRedis(workdir)
    stack: Stack | None = None
    try:
        postgres.init()
        postgres.start()
        with contextlib.closing(postgres.connect("postgres")) as conn:
            conn.execute("CREATE DATABASE mudhub")
        redis.start()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("CELERY_", "MUDHUB_", "DJANGO_", "DATABASE_"))}
        port = free_port()
        env.update(
            DATABASE_URL=postgres.url("mudhub"),
            DATABASE_CONN_MAX_AGE="60",
            REDIS_URL=redis.url(0),
            CELERY_BROKER_URL=redis.url(0),
            CELERY_TASK_ALWAYS_EAGER="false",
            MUDHUB_CACHE_PREFIX="mudhub-faults",
            MUDHUB_VAR_DIR=str(workdir / "var"),
            MUDHUB_STATIC_ROOT=str(workdir / "var" / "static"),
            MUDHUB_BIND=f"{HOST}:{port}",
            MUDHUB_PUBLIC_URL="https://mudhub.example.org",
            MUDHUB_RECOMPUTE_DEBOUNCE_SECONDS="1",
            MUDHUB_MUD_FILE_MEMORY_SECONDS="0",
            MUDHUB_SIGNUPS_PER_NETWORK_PER_DAY="1000",
            DJANGO_SETTINGS_MODULE="aggregator.settings",
            DEBUG="false",
            LOG_LEVEL="WARNING",
            PYTHONPATH=str(ROOT),
            **(extra_env or {}),
        )
        stack = Stack(postgres, redis, workdir, env, port)
        stack.manage("migrate", "--noinput", "-v0")
        yield stack
    finally:
        if stack is not None:
            for child in reversed(stack.children):
                with contextlib.suppress(Exception):
                    child.stop()
        redis.stop()
        postgres.destroy()
        shutil.rmtree(workdir, ignore_errors=True)
