"""Benchmark of the nightly trust job (`reputation_nightly`) on PostgreSQL.

Run: .venv/bin/python bench/trust.py [--contributors N] [--events N] [--submissions N]
Prints one JSON line. Progress goes to stderr.

Each size runs in a child process of its own against a scratch database
`mudhub_trust_bench` (dropped and created anew, dropped at the end; never `mudhub`, never
a `test_*` one) with a temporary MUDHUB_VAR_DIR. The child loads N contributors, their
ledger and their submissions with COPY, then times one nightly run: accept submissions,
judge votes, fold every ledger and evaluate every level. It reports the time, the rates,
the tracemalloc peak over the job and the growth of ru_maxrss during it. The same is done
with ten times fewer contributors and events: a job that streams has about the same peak
at both sizes, one that loads everything has ten times the peak.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SERVER = "postgres://postgres@127.0.0.1:5432"
DATABASE = "mudhub_trust_bench"
NOW = datetime(2026, 11, 1, 3, 0, tzinfo=UTC)
MODELS = 50


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def recreate_database() -> None:
    import psycopg

    assert DATABASE.startswith("mudhub_trust_bench")  # never the real or a test database
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{DATABASE}"')


def drop_database() -> None:
    import psycopg

    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')


def load(contributors: int, events: int, submissions: int, seed: int) -> None:
    """COPY the synthetic community straight into the tables (the ORM would take minutes)."""
    from django.db import connection

    from profiles.models import Contributor, DeviceModel, FirmwareVersion, Manufacturer, ReputationEvent, Submission

    rng = random.Random(seed)
    maker = Manufacturer.objects.create(name="Acme", slug="acme")
    models = [DeviceModel.objects.create(manufacturer=maker, name=f"M{i}", slug=f"m{i}") for i in range(MODELS)]
    firmware = [FirmwareVersion.objects.create(device_model=m, version="1.0", first_seen=NOW) for m in models]
    connection.ensure_connection()
    raw = connection.connection
    user_table = Contributor._meta.get_field("user").related_model._meta.db_table
    with raw.cursor() as cursor:
        with cursor.copy(
            f"COPY {user_table} (id, password, is_superuser, username, first_name, last_name, email, is_staff,"
            " is_active, date_joined) FROM STDIN"
        ) as copy:
            for i in range(1, contributors + 1):
                copy.write_row((i, "!", False, f"u{i}", "", "", "", False, True, NOW))
        with cursor.copy(
            f"COPY {Contributor._meta.db_table} (id, user_id, trust_level, reputation_r, reputation_s, strikes,"
            " is_moderator, group_key, signup_network, tl3_granted, created_at) FROM STDIN"
        ) as copy:
            for i in range(1, contributors + 1):
                level = rng.choice((0, 0, 1, 1, 2, 3))
                age = timedelta(days=rng.uniform(0, 700))
                copy.write_row((i, i, level, 0.0, 0.0, 0, False, "", "", level == 3, NOW - age))
        log(f"{contributors} contributors")
        kinds = [
            ("flow_confirmed", 1.0, 0.0),
            ("submission_accepted", 0.25, 0.0),
            ("vote_agreed", 0.1, 0.0),
            ("vote_disagreed", 0.0, 0.1),
            ("flow_rejected", 0.0, 2.0),
            ("manufacturer_rejected", 0.0, 1.0),
        ]
        with cursor.copy(
            f"COPY {ReputationEvent._meta.db_table} (contributor_id, kind, delta_r, delta_s, strike, cause, created_at)"
            " FROM STDIN"
        ) as copy:
            for i in range(events):
                kind, dr, ds = rng.choices(kinds, weights=(40, 30, 15, 5, 7, 3))[0]
                at = NOW - timedelta(seconds=rng.uniform(0, 365 * 86400))
                strike = rng.random() < 0.0005
                copy.write_row((rng.randint(1, contributors), kind, dr, ds, strike, f"bench:{i}", at))
        log(f"{events} ledger events")
        with cursor.copy(
            f"COPY {Submission._meta.db_table} (contributor_id, device_model_id, firmware_id, source, format, raw,"
            " raw_content_type, sha256, observed_end, collector_hash, flow_ids, flow_count, ace_count, warnings,"
            " meta, status, accepted_at, created_at) FROM STDIN"
        ) as copy:
            for i in range(submissions):
                m = rng.randrange(MODELS)
                created = NOW - timedelta(seconds=rng.uniform(0, 365 * 86400))
                status = "rejected" if rng.random() < 0.01 else "active"
                # Most old submissions were accepted on earlier nights; a few wait (no consensus here).
                accepted = created + timedelta(hours=80) if rng.random() < 0.9 else None
                copy.write_row(
                    (rng.randint(1, contributors), models[m].pk, firmware[m].pk, "crowd", "flows", b"{}",
                     "application/json", f"{i:064x}", created, "", "[]", 0, 0, "[]", "{}", status, accepted, created)
                )  # fmt: skip
        log(f"{submissions} submissions")
    raw.commit() if not raw.autocommit else None
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
        # The COPY gave explicit ids: move the sequences past them.
        for table in (user_table, Contributor._meta.db_table):
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))")


def child(args: argparse.Namespace) -> None:
    os.environ["DATABASE_URL"] = f"{SERVER}/{DATABASE}"
    os.environ["MUDHUB_VAR_DIR"] = tempfile.mkdtemp(prefix="mudhub-trust-bench-")
    os.environ["DEBUG"] = "false"  # DEBUG keeps every query in memory
    for name in ("REDIS_URL", "CELERY_BROKER_URL"):
        os.environ.pop(name, None)
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aggregator.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from profiles.services.reputation import reputation_nightly

    recreate_database()
    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    load(args.contributors, args.events, args.submissions, args.seed)
    loaded = time.perf_counter() - started
    log(f"loaded in {loaded:.1f} s; nightly job...")

    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if args.tracemalloc:
        tracemalloc.start()
    started = time.perf_counter()
    counts = reputation_nightly(now=NOW)
    seconds = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1] if args.tracemalloc else None
    tracemalloc.stop()
    rss_growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before
    connection.close()
    print(
        json.dumps(
            {
                "contributors": args.contributors,
                "events": args.events,
                "submissions": args.submissions,
                "load_seconds": round(loaded, 2),
                "seconds": round(seconds, 2),
                "contributors_per_s": round(args.contributors / seconds),
                "events_per_s": round(args.events / seconds),
                "tracemalloc_peak_mib": None if peak is None else round(peak / 2**20, 2),
                "maxrss_growth_mib": round(rss_growth / 1024, 2),
                "promoted": counts["promoted"],
                "demoted": counts["demoted"],
                "accepted": counts["accepted"],
            }
        )
    )


def run_child(contributors: int, events: int, submissions: int, args: argparse.Namespace) -> dict[str, object]:
    command = [
        sys.executable,
        __file__,
        "--child",
        f"--contributors={contributors}",
        f"--events={events}",
        f"--submissions={submissions}",
        f"--seed={args.seed}",
    ]
    if not args.tracemalloc:
        command.append("--no-tracemalloc")
    out = subprocess.run(command, check=True, stdout=subprocess.PIPE, text=True).stdout
    result: dict[str, object] = json.loads(out.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--contributors", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--submissions", type=int, default=300_000)
    parser.add_argument("--seed", type=int, default=8520)
    parser.add_argument("--no-tracemalloc", dest="tracemalloc", action="store_false", help="time without tracing")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    try:
        full = run_child(args.contributors, args.events, args.submissions, args)
        tenth = run_child(args.contributors // 10, args.events // 10, args.submissions // 10, args)
    finally:
        drop_database()
    peak_full, peak_tenth = full["tracemalloc_peak_mib"], tenth["tracemalloc_peak_mib"]
    ratio = None
    if isinstance(peak_full, float) and isinstance(peak_tenth, float) and peak_tenth > 0:
        ratio = round(peak_full / peak_tenth, 2)
    print(
        json.dumps(
            {
                "bench": "trust",
                "seconds": full["seconds"],
                "contributors_per_s": full["contributors_per_s"],
                "events_per_s": full["events_per_s"],
                "tracemalloc_peak_mib": peak_full,
                "maxrss_growth_mib": full["maxrss_growth_mib"],
                "peak_ratio_vs_tenth": ratio,
                "full": full,
                "tenth": tenth,
            }
        )
    )


if __name__ == "__main__":
    main()
