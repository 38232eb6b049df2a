"""Load test: gateway downloads, catalogue reads and submissions from many accounts at once.

Run: .venv/bin/python bench/load.py [--seconds 30] [--users 24] [--accounts 60] [--workers 2]
Prints one JSON line on stdout (progress on stderr). Needs PostgreSQL and Redis on 127.0.0.1.

The whole production stack on loopback, started here: gunicorn (sync workers, DEBUG off) on
a scratch PostgreSQL database and Redis (cache and broker), with one Celery worker consuming
the recomputes the submissions cause during the run. It is seeded with the demo community
(served files, a catalogue, a change feed) and `--accounts` trusted contributors with
tokens. locust (as a library, headless, in a process of its own: bench/_load_users.py) then
runs `--users` concurrent users for `--seconds`: gateways (60%) download the served files,
half of them revalidating (304); readers (30%) browse the catalogue; contributors (10%)
submit distinct 20-ACE MUD files, each from the next of the accounts in turn.

Reported per kind: requests/s, latency p50/p95/p99 (locust's, in ms), errors (any answer but
the expected one: 200 with the right ETag, 304, 200, 201). Afterwards every submission the
server accepted (201) is looked up in the database, its bytes' sha256 compared. The load
generator shares the machine's cores with the server, so the rates are those of the whole
stack on this machine, not of the server alone. Anonymous reads are not throttled here
(MUDHUB_ANON_RATE is raised: every simulated user has the same loopback address).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as common
import ingest

TARGET_ERRORS = 0


def seed(scratch: common.Scratch) -> None:
    """The demo community, its consensus computed inline, in a process of its own."""
    env = {**scratch.env, "CELERY_TASK_ALWAYS_EAGER": "true", "LOG_LEVEL": "ERROR"}
    subprocess.run(
        [sys.executable, str(common.ROOT / "manage.py"), "seed_demo"],
        env=env,
        cwd=common.ROOT,
        check=True,
        timeout=600,
        stdout=subprocess.DEVNULL,
    )


def served_files() -> list[dict[str, str]]:
    from profiles.models import ConsensusProfile

    rows = ConsensusProfile.objects.filter(is_current=True).select_related("device_model__manufacturer")
    files = []
    for profile in rows:
        model = profile.device_model
        name = f"{model.slug}.json" if profile.scope == "latest" else f"{model.slug}/{profile.scope}.json"
        files.append({"path": f"/mud/{model.manufacturer.slug}/{name}", "etag": profile.etag})
    return files


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="how long the users run")
    parser.add_argument("--users", type=int, default=24, help="concurrent simulated users")
    parser.add_argument("--spawn-rate", type=float, default=12.0, help="users started per second")
    parser.add_argument("--accounts", type=int, default=60, help="accounts submitting, in turn")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--models", type=int, default=20, help="device models the submissions are for")
    parser.add_argument("--seed", type=int, default=8520)
    parser.add_argument("--keep", action="store_true", help="keep the scratch database afterwards")
    args = parser.parse_args()
    if not 1 <= args.seconds <= 3600:
        parser.error("--seconds must be within 1..3600 (the run is bounded)")

    load_start = round(os.getloadavg()[0], 2)
    queue = f"mudhub-bench-load-{uuid.uuid4().hex[:8]}"
    extra_env = {
        "MUDHUB_RECOMPUTE_QUEUE": queue,
        "MUDHUB_RECOMPUTE_DEBOUNCE_SECONDS": "5",
        "MUDHUB_ANON_RATE": "1000000/minute",
    }
    with common.scratch_stack("load", keep=args.keep, extra_env=extra_env) as scratch:
        scratch.extra_redis_keys += [f"*{queue}*", "_kombu.binding_deadlines", "unacked", "unacked_index",
                                     "unacked_mutex"]  # fmt: skip
        seed(scratch)
        common.django_setup()
        from profiles.models import DeviceModel, Manufacturer, Submission

        rng = random.Random(args.seed)
        tokens = ingest.contributors_with_tokens(args.accounts, rng, young=False)
        # Enough distinct bodies for the busiest run this many users can make.
        count = int(args.seconds * max(20, args.users * 2))
        started = time.perf_counter()
        bodies = ingest.make_bodies(count, args.models, rng)
        common.log(f"{count} bodies of {ingest.ACES} ACEs made in {time.perf_counter() - started:.1f} s")
        files = served_files()
        spec = {
            "base_url": scratch.base_url,
            "seconds": args.seconds,
            "users": args.users,
            "spawn_rate": args.spawn_rate,
            "seed": args.seed,
            "files": files,
            "manufacturers": list(Manufacturer.objects.values_list("slug", flat=True)),
            "model_ids": list(DeviceModel.objects.values_list("id", flat=True)),
            "tokens": tokens,
            "bodies": [body.decode() for body in bodies],
        }
        spec_path, out_path = scratch.var_dir / "load-spec.json", scratch.var_dir / "load-out.json"
        spec_path.write_text(json.dumps(spec))
        submissions_before = Submission.objects.count()

        with common.children() as started_children:
            started_children.append(ingest.start_worker(scratch, queue))
            server = common.start_gunicorn(scratch, workers=args.workers)
            started_children.append(server)
            common.wait_http(server, scratch.port, "/api/v1/status/")
            common.log(f"locust: {args.users} users for {args.seconds:g} s against {scratch.base_url}")
            subprocess.run(
                [sys.executable, str(Path(__file__).resolve().parent / "_load_users.py"), str(spec_path),
                 str(out_path)],
                env={**os.environ, "PYTHONPATH": str(common.ROOT)},
                check=True,
                timeout=args.seconds + 300,
            )  # fmt: skip
            if not server.alive():
                raise RuntimeError(f"gunicorn died:\n{server.tail()}")
        out = json.loads(out_path.read_text())

        accepted = out["accepted"]
        found = dict(Submission.objects.filter(pk__in=[a["id"] for a in accepted]).values_list("id", "sha256"))
        missing = [a for a in accepted if found.get(a["id"]) != a["sha256"]]
        stored_during_run = Submission.objects.count() - submissions_before
        dirty = DeviceModel.objects.filter(dirty_since__isnull=False).count()

    kinds = out["kinds"]
    errors = sum(k.get("errors", 0) for k in kinds.values() if isinstance(k, dict))
    total = sum(k.get("requests", 0) for k in kinds.values() if isinstance(k, dict))
    for sample in kinds["error_samples"]:
        common.log(f"error: {sample}")
    result = {
        "bench": "load",
        "seconds": out["seconds"],
        "users": args.users,
        "accounts": args.accounts,
        "server": {
            "gunicorn_workers": args.workers,
            "database": "postgresql",
            "cache_and_broker": "redis",
            "celery": "one worker (solo pool) consuming the recomputes during the run",
        },
        "requests": total,
        "requests_per_s": round(total / out["seconds"], 1),
        "per_kind": {k: v for k, v in kinds.items() if k != "error_samples"},
        "errors": errors,
        "target_errors": TARGET_ERRORS,
        "submissions_accepted": len(accepted),
        "submissions_stored_during_run": stored_during_run,
        "accepted_missing_from_database": len(missing),
        "submission_bodies_unused": out["bodies_left"],
        "models_left_dirty": dirty,
        "target_met": errors == TARGET_ERRORS and not missing and stored_during_run == len(accepted),
        "machine_cores": os.cpu_count(),
        "load_average_1min": {"start": load_start, "end": round(os.getloadavg()[0], 2)},
        "python": sys.version.split()[0],
    }
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
