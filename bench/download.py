"""Benchmark of the gateway download: a cached MUD file against a bare Django view, same server.

Run: .venv/bin/python bench/download.py [--seconds 5] [--rounds 3] [--workers 2] [--connections 8]
Prints one JSON line on stdout (progress on stderr). Needs PostgreSQL and Redis on 127.0.0.1,
and wrk (`apt-get install wrk`; without it a Python load generator is used and named).

One realistic consensus is published through the real pipeline (a community of contributors,
settled over two recomputes; the served file is about 10 KB), then gunicorn (sync workers,
DEBUG off, Redis cache, PostgreSQL, on 127.0.0.1) serves, from one process and one settings
module (bench/baseline/settings.py: the app's settings with a URLconf that adds /bare/):
- profile:    GET /mud/<mfg>/<model>.json, a cache hit (200 + the file);
- revalidate: the same with If-None-Match: its ETag (304);
- bare:       GET /bare/, a view returning the same bytes and headers from memory (the baseline).
- nginx:      the same file as published to MUDHUB_PUBLISH_DIR, served by nginx (Debian
              nginx-light, deploy/nginx-publish.conf, as many workers as gunicorn): the static
              ceiling (DESIGN.md: about 20x a bare Django view on the reference machine).
They are loaded in turn, over several rounds with the order rotated, and the ratios of each
round's requests/s to the bare view's are reported (DESIGN.md: profile/bare >= 0.7, and 304s
cheaper still), with the gateway view's share of the nginx ceiling. Then, in this process,
the same requests go through Django's WSGI handler with each middleware left out in turn,
and the parts of the gateway view are timed alone, to show where the difference goes.
"""

from __future__ import annotations

import argparse
import http.client
import io
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as common

TARGET_RATIO = 0.7
SETTINGS = "bench.baseline.settings"


def publish(args: argparse.Namespace, body_path: Path) -> tuple[str, bytes, str]:
    """Publish one consensus through the pipeline; return its path, bytes and ETag."""
    from datetime import timedelta

    from django.db import transaction
    from django.utils import timezone

    from profiles.models import ConsensusProfile
    from profiles.services.flows import flows_ensure
    from profiles.services.recompute import consensus_recompute

    rng = random.Random(args.seed)
    flows = common.catalogue_flows(args.flows)
    with transaction.atomic():
        flow_ids = flows_ensure(flows)
        people = common.contributors_create(args.contributors, rng)
        model = common.device_model_create("Acme Cam", "Indoor Cam 3", firmware=("2.1",))
        common.submissions_create(model, people, flows, flow_ids, rng, firmware_mix={"2.1": 0.85, "unknown": 0.15})
        common.domains_age()
    now = timezone.now().replace(microsecond=0)
    consensus_recompute(device_model_id=model.pk, as_of=now - timedelta(days=2))
    consensus_recompute(device_model_id=model.pk, as_of=now)  # holds elapsed: publishes, caches
    profile = ConsensusProfile.objects.get(device_model=model, scope="latest", is_current=True)
    body = bytes(profile.mud_bytes)
    body_path.write_bytes(body)
    common.log(f"published {model.mud_path}: {len(body)} bytes, {profile.allowed_count} flows")
    return model.mud_path, body, profile.etag


def _get(port: int, path: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection(common.HOST, port, timeout=10)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def check_responses(port: int, path: str, body: bytes, etag: str) -> None:
    status, headers, got = _get(port, path)
    if status != 200 or got != body or headers.get("etag") != f'"{etag}"':
        raise RuntimeError(f"profile: status {status}, {len(got)} bytes, etag {headers.get('etag')}")
    status, _, got = _get(port, path, {"If-None-Match": f'"{etag}"'})
    if status != 304 or got:
        raise RuntimeError(f"revalidate: status {status}, {len(got)} bytes")
    status, headers, got = _get(port, "/bare/")
    if status != 200 or got != body:
        raise RuntimeError(f"bare: status {status}, {len(got)} bytes")


def start_nginx(scratch: Any, site: Path, workers: int) -> tuple[Any, int]:
    """nginx serving `site` with the documented server block, on a free loopback port."""
    import grp
    import pwd
    import shutil

    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(binary).exists():
        raise RuntimeError("nginx is not installed (apt-get install nginx-light)")
    port = common.free_port()
    prefix = scratch.var_dir / "nginx"
    prefix.mkdir()
    server = (common.ROOT / "deploy" / "nginx-publish.conf").read_text()
    server = server.replace("listen 80;", f"listen {common.HOST}:{port};")
    server = server.replace("root /srv/mudhub/publish;", f"root {site};")
    temps = "\n".join(
        f"    {name}_temp_path {prefix / name};" for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    user = f"user {pwd.getpwuid(os.getuid()).pw_name} {grp.getgrgid(os.getgid()).gr_name};"
    conf = prefix / "nginx.conf"
    conf.write_text(
        f"{user}\nworker_processes {workers};\npid {prefix}/nginx.pid;\nerror_log {prefix}/error.log;\n"
        f"events {{ worker_connections 1024; }}\nhttp {{\n    access_log off;\n{temps}\n{server}\n}}\n"
    )
    child = common.Child("nginx", [binary, "-p", str(prefix), "-c", str(conf), "-g", "daemon off;"], scratch.env,
                         scratch.var_dir / "nginx.log")  # fmt: skip
    return child, port


def load_test(
    args: argparse.Namespace,
    port: int,
    server_pid: int,
    endpoints: dict[str, tuple[str, list[str], int]],
    other_servers: dict[str, tuple[int, int]] | None = None,
) -> dict[str, Any]:
    """Requests/s of each endpoint, interleaved in short rounds (the order rotated) so that
    the background load of a shared machine falls on all three alike; and the server's CPU
    time per request (gunicorn master + workers, from /proc), which other processes on the
    machine barely disturb."""
    use_wrk = common.wrk_available() and not args.python_load
    cpu_ms: dict[str, list[float]] = {name: [] for name in endpoints}

    other_servers = other_servers or {}  # endpoint -> (port, pid) of a server other than gunicorn

    def run(name: str, seconds: float, pids: list[int] | None = None) -> common.LoadResult:
        path, headers, expect = endpoints[name]
        target = other_servers[name][0] if name in other_servers else port
        if pids is not None and name in other_servers:
            pids = other_pids[name]
        before = common.cpu_seconds(pids or [])
        if use_wrk:
            result = common.run_wrk(
                target, path, seconds=seconds, connections=args.connections, threads=args.wrk_threads, headers=headers
            )
        else:
            result = common.run_python_load(
                target, path, seconds=seconds, connections=args.connections, headers=headers, expect=expect
            )
        if pids:
            cpu_ms[name].append((common.cpu_seconds(pids) - before) * 1000 / max(1, result.requests))
        return result

    names = list(endpoints)
    other_pids = {name: common.process_tree(pid) for name, (_, pid) in other_servers.items()}
    for name in names:  # warm every worker's connections, imports and caches
        run(name, min(2.0, args.seconds))
    pids = common.process_tree(server_pid)
    rounds: list[dict[str, common.LoadResult]] = []
    for index in range(args.rounds):
        order = names[index % len(names) :] + names[: index % len(names)]
        results = {}
        for name in order:
            results[name] = run(name, args.seconds, pids)
            common.log(
                f"round {index + 1} {name}: {results[name].rps:.0f} req/s, "
                f"server cpu {cpu_ms[name][-1]:.3f} ms/request, errors {results[name].errors}"
            )
        rounds.append(results)
    ratios = {
        "profile_over_bare": [r["profile"].rps / r["bare"].rps for r in rounds],
        "revalidate_over_bare": [r["revalidate"].rps / r["bare"].rps for r in rounds],
    }
    if "nginx" in names:
        ratios["nginx_over_bare"] = [r["nginx"].rps / r["bare"].rps for r in rounds]
        ratios["profile_over_nginx"] = [r["profile"].rps / r["nginx"].rps for r in rounds]
    cpu = {name: statistics.median(values) for name, values in cpu_ms.items()}
    return {
        "server_processes": len(pids),
        "server_cpu_ms_per_request": {name: round(value, 3) for name, value in cpu.items()},
        "cpu_ratio_bare_over_profile": round(cpu["bare"] / cpu["profile"], 3),
        "cpu_ratio_bare_over_revalidate": round(cpu["bare"] / cpu["revalidate"], 3),
        "load_generator": rounds[0]["bare"].tool,
        "rps": {name: round(statistics.median(r[name].rps for r in rounds), 1) for name in names},
        "rps_per_round": {name: [round(r[name].rps, 1) for r in rounds] for name in names},
        "latency_ms_p50": {
            name: round(statistics.median(r[name].latency_ms.get("p50", 0) for r in rounds), 3) for name in names
        },
        "ratio_profile_over_bare": round(statistics.median(ratios["profile_over_bare"]), 3),
        "ratio_revalidate_over_bare": round(statistics.median(ratios["revalidate_over_bare"]), 3),
        "ratio_per_round": {k: [round(x, 3) for x in v] for k, v in ratios.items()},
        **(
            {
                "ratio_nginx_over_bare": round(statistics.median(ratios["nginx_over_bare"]), 3),
                "ratio_profile_over_nginx": round(statistics.median(ratios["profile_over_nginx"]), 3),
                "cpu_ratio_profile_over_nginx": round(cpu["profile"] / cpu["nginx"], 3),
            }
            if "nginx" in names
            else {}
        ),
        "requests": sum(r[name].requests for r in rounds for name in names),
        "errors": sum(r[name].errors for r in rounds for name in names),
    }


# --- in-process breakdown --------------------------------------------------------------------


def _environ(path: str, port: int, headers: dict[str, str]) -> dict[str, Any]:
    env: dict[str, Any] = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "SCRIPT_NAME": "",
        "QUERY_STRING": "",
        "SERVER_NAME": common.HOST,
        "SERVER_PORT": str(port),
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": common.HOST,
        "HTTP_HOST": f"{common.HOST}:{port}",
        "HTTP_USER_AGENT": "bench",
        "HTTP_ACCEPT": "*/*",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        "wsgi.errors": sys.stderr,
    }
    for name, value in headers.items():
        env["HTTP_" + name.upper().replace("-", "_")] = value
    return env


def _per_request_us(handler: Any, environ: dict[str, Any], count: int, expect: int) -> float:
    statuses: list[str] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        statuses.append(status)
        return None

    start = time.perf_counter()
    for _ in range(count):
        env = dict(environ)
        env["wsgi.input"] = io.BytesIO(b"")
        response = handler(env, start_response)
        for _chunk in response:
            pass
        response.close()
    elapsed = time.perf_counter() - start
    if not statuses[-1].startswith(str(expect)):
        raise RuntimeError(f"in-process request answered {statuses[-1]}, expected {expect}")
    return elapsed * 1e6 / count


def in_process_breakdown(
    args: argparse.Namespace, port: int, path: str, etag: str, mfg: str, model: str
) -> dict[str, Any]:
    import pickle

    import redis
    from django.conf import settings
    from django.core.cache import cache
    from django.core.handlers.wsgi import WSGIHandler
    from django.db import connection
    from django.test.utils import CaptureQueriesContext, override_settings
    from django.urls import resolve

    from profiles.selectors.mud_files import served_file_get, served_file_key

    count = args.in_process_requests
    requests = {
        "profile": (_environ(path, port, {}), 200),
        "revalidate": (_environ(path, port, {"If-None-Match": f'"{etag}"'}), 304),
        "bare": (_environ("/bare/", port, {}), 200),
    }
    middleware = list(settings.MIDDLEWARE)
    variants: dict[str, list[str]] = {"all": middleware, "none": []}
    for name in middleware:
        left_out = {name}
        if name.endswith(".SessionMiddleware"):  # authentication and messages need a session
            left_out |= {m for m in middleware if m.endswith((".AuthenticationMiddleware", ".MessageMiddleware"))}
        label = "+".join(sorted(m.rsplit(".", 1)[-1] for m in left_out))
        variants["without " + label] = [m for m in middleware if m not in left_out]

    handlers = {}
    for label, stack in variants.items():
        with override_settings(MIDDLEWARE=stack):
            handlers[label] = WSGIHandler()
    timings: dict[str, dict[str, list[float]]] = {label: {} for label in variants}
    for _ in range(args.in_process_repeats):  # interleaved; the minimum of the repeats is kept
        for label, handler in handlers.items():
            for name, (environ, expect) in requests.items():
                timings[label].setdefault(name, []).append(_per_request_us(handler, environ, count, expect))
    us = {label: {name: round(min(v), 1) for name, v in per.items()} for label, per in timings.items()}
    full = us["all"]
    middleware_cost = {
        label.removeprefix("without "): {name: round(full[name] - us[label][name], 1) for name in requests}
        for label in us
        if label.startswith("without ")
    }

    with CaptureQueriesContext(connection) as queries:
        _per_request_us(handlers["all"], requests["profile"][0], 1, 200)

    def timed_us(fn: Any, n: int = 2000) -> float:
        best = float("inf")
        for _ in range(3):
            start = time.perf_counter()
            for _ in range(n):
                fn()
            best = min(best, (time.perf_counter() - start) * 1e6 / n)
        return round(best, 1)

    key = served_file_key(mfg, model, "latest")
    client = redis.Redis.from_url(settings.CACHES["default"]["LOCATION"])
    stored = client.get(cache.make_and_validate_key(key))
    if stored is None:
        raise RuntimeError("the served file is not in the cache")
    parts = {
        "redis_ping_round_trip": timed_us(client.ping),
        "cache_get_hit": timed_us(lambda: cache.get(key)),
        "unpickle_served_file": timed_us(lambda: pickle.loads(stored)),
        "served_file_get": timed_us(lambda: served_file_get(manufacturer_slug=mfg, model_slug=model)),
        "url_resolve_profile": timed_us(lambda: resolve(path)),
        "url_resolve_bare": timed_us(lambda: resolve("/bare/")),
    }
    return {
        "requests_per_measure": count,
        "us_per_request_all_middleware": full,
        "us_per_request_no_middleware": us["none"],
        "middleware_total_us": {name: round(full[name] - us["none"][name], 1) for name in requests},
        "middleware_cost_us": middleware_cost,
        "view_extra_us_profile_minus_bare": {
            "all_middleware": round(full["profile"] - full["bare"], 1),
            "no_middleware": round(us["none"]["profile"] - us["none"]["bare"], 1),
        },
        "parts_us": parts,
        "cached_value_bytes": len(stored),
        "queries_per_profile_request": len(queries),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="length of each load measurement")
    parser.add_argument("--rounds", type=int, default=10, help="rounds of the three endpoints, order rotated")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (the same for every endpoint)")
    parser.add_argument("--worker-class", default="sync", help="gunicorn worker class (sync, gthread)")
    parser.add_argument("--threads", type=int, default=1, help="gunicorn threads per worker (gthread)")
    parser.add_argument("--connections", type=int, default=8, help="concurrent client connections")
    parser.add_argument("--wrk-threads", type=int, default=1)
    parser.add_argument("--python-load", action="store_true", help="use the Python load generator even if wrk exists")
    parser.add_argument("--contributors", type=int, default=200, help="community that publishes the file")
    parser.add_argument("--flows", type=int, default=24, help="distinct flows seen (about 10 KB served)")
    parser.add_argument("--in-process-requests", type=int, default=500, help="requests per in-process measure")
    parser.add_argument("--in-process-repeats", type=int, default=3)
    parser.add_argument(
        "--memory-seconds",
        type=float,
        default=2.0,
        metavar="SECONDS",
        help="MUDHUB_MUD_FILE_MEMORY_SECONDS of the server: each worker's copy of served files (0: every hit "
        "goes to Redis)",
    )
    parser.add_argument("--no-nginx", action="store_true", help="leave out the nginx-served published file")
    parser.add_argument("--seed", type=int, default=8520)
    parser.add_argument("--keep", action="store_true", help="keep the scratch database afterwards")
    args = parser.parse_args()

    load_start = round(os.getloadavg()[0], 2)
    extra_env = {
        "MUDHUB_MUD_FILE_CACHE_SECONDS": "3600",  # no expiry during the run
        "MUDHUB_MUD_FILE_MEMORY_SECONDS": str(args.memory_seconds),
    }
    with common.scratch_stack("download", keep=args.keep, settings_module=SETTINGS, extra_env=extra_env) as scratch:
        body_path = scratch.var_dir / "served.json"
        os.environ["MUDHUB_BENCH_BARE_FILE"] = scratch.env["MUDHUB_BENCH_BARE_FILE"] = str(body_path)
        site = scratch.var_dir / "publish"
        os.environ["MUDHUB_PUBLISH_DIR"] = str(site)  # this process publishes; nginx serves the folder
        common.django_setup()
        path, body, etag = publish(args, body_path)
        _, mfg, model_file = path.strip("/").split("/")
        model = model_file.removesuffix(".json")
        endpoints = {
            "profile": (path, [], 200),
            "revalidate": (path, [f'If-None-Match: "{etag}"'], 304),
            "bare": ("/bare/", [], 200),
        }
        with common.children() as started:
            server = common.start_gunicorn(
                scratch, workers=args.workers, worker_class=args.worker_class, threads=args.threads
            )
            started.append(server)
            common.wait_http(server, scratch.port, "/bare/")
            check_responses(scratch.port, path, body, etag)
            other: dict[str, tuple[int, int]] = {}
            if not args.no_nginx:
                if (site / path.lstrip("/")).read_bytes() != body:
                    raise RuntimeError("the published file is not the served one")
                nginx, nginx_port = start_nginx(scratch, site, args.workers)
                started.append(nginx)
                common.wait_http(nginx, nginx_port, path)
                endpoints["nginx"] = (path, [], 200)
                other["nginx"] = (nginx_port, nginx.proc.pid)
            load = load_test(args, scratch.port, server.proc.pid, endpoints, other)
            check_responses(scratch.port, path, body, etag)  # still a cache hit, still the same bytes
            if not server.alive():
                raise RuntimeError(f"gunicorn died:\n{server.tail()}")
        common.log("in-process breakdown")
        breakdown = in_process_breakdown(args, scratch.port, path, etag, mfg, model)

    result = {
        "bench": "download",
        "served_file_bytes": len(body),
        "server": {
            "gunicorn_workers": args.workers,
            "worker_class": args.worker_class,
            "threads": args.threads,
            "debug": False,
            "cache": "redis",
            "memory_seconds": args.memory_seconds,
            "database": "postgresql",
        },
        "connections": args.connections,
        "seconds_per_measure": args.seconds,
        "rounds": args.rounds,
        **load,
        "target_ratio": TARGET_RATIO,
        "target_met": load["ratio_profile_over_bare"] >= TARGET_RATIO,
        "revalidate_cheaper_than_profile": load["rps"]["revalidate"] > load["rps"]["profile"],
        "in_process": breakdown,
        "load_average_1min": {"start": load_start, "end": round(os.getloadavg()[0], 2)},
        "python": sys.version.split()[0],
    }
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
