"""A/B of one model's recompute: the code of a base revision against this tree, same inputs.

Run: .venv/bin/python bench/recompute_ab.py [--base main] [--head REV] [--rounds 8] [--contributors 1000]
Prints one JSON line on stdout (progress on stderr). Needs PostgreSQL and Redis on 127.0.0.1,
and git (the base revision, and `--head` if given instead of this working tree, is exported with
`git archive` into a temporary folder; the worker scripts are this tree's).

Two worker processes, one per code tree, each with a scratch database of its own
(mudhub_bench_recompute_ab_base, mudhub_bench_recompute_ab_head, dropped and created anew,
dropped at the end) filled with the same synthetic community as bench/recompute.py (the same
seed, under the same frozen clock, so the two databases hold equal inputs). Both then go
through the same steps, one worker after the other, the order alternating each round:

- after one new submission (the usual case): one contributor's new capture, then a recompute;
- unchanged inputs: the same recompute again, at the same time (must publish nothing);
- time-driven: no new input, a recompute at the model's `recompute_due_at` (what the beat task
  `recompute_due_models` does) and one a day later (a sweep's run where nothing is due).

After every recompute each worker writes down, untimed, everything the run left behind for
the model: its versions (served bytes, ETags, input digests), every decision row (state,
numbers, provenance, evidence digest), the change feed, `recompute_due_at`, the published
files and the reputation credits it scheduled. The two must be equal, step by step
(`outputs_equal`); the first difference is printed. Each recompute is timed in wall time, in
the worker's CPU time (time.process_time) and in its PostgreSQL backend's CPU time (from
/proc, when the server runs on this machine), and split into selector / engine / store /
rest as bench/recompute.py splits it. The machine may be shared: compare the ratios of the
medians (head / base) within this run, CPU above all.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as common

ROOT = common.ROOT
PHASES = ("selector", "engine", "store")


# --- the worker: one code tree, one database -------------------------------------------------


class Worker:
    """Runs in a child process whose PYTHONPATH starts with the tree under test."""

    def __init__(self) -> None:
        common.django_setup()
        from django.db import connection

        self.connection = connection
        self.model: Any = None
        self.as_of: Any = None
        self.credits: list[Any] = []
        self.seconds: dict[str, float] = defaultdict(float)
        self._wrap_phases()

    def _wrap_phases(self) -> None:
        import profiles.services.recompute as recompute

        def wrap(owner: Any, name: str, phase: str) -> None:
            original = getattr(owner, name, None)
            if original is None:  # not in this version of the app
                return

            def timed(*a: Any, **kw: Any) -> Any:
                start = time.perf_counter()
                try:
                    return original(*a, **kw)
                finally:
                    self.seconds[phase] += time.perf_counter() - start

            setattr(owner, name, timed)

        wrap(recompute, "consensus_inputs_get", "selector")
        wrap(recompute.engine, "compute_scopes", "engine")
        wrap(recompute, "_store", "store")
        wrap(recompute, "_store_scopes", "store")

        # The credits a run schedules are one of its outputs: recorded, not sent to a broker.
        def record(model_id: int, credits: list[Any], at: Any) -> None:
            self.credits.append([model_id, sorted(map(list, credits)), at.isoformat()])

        recompute.reputation_credit_schedule = record

    def _clock(self, at: str) -> Any:
        import time_machine

        return time_machine.travel(at, tick=False)

    def setup(self, contributors: int, flows: int, seed: int, clock: str) -> dict[str, Any]:
        from datetime import datetime, timedelta

        import recompute as bench
        from django.test.utils import override_settings

        from profiles.services.recompute import consensus_recompute

        args = argparse.Namespace(contributors=contributors, flows=flows, seed=seed)
        self.as_of = datetime.fromisoformat(clock)
        with self._clock(clock):
            self.model, _ = bench._populate(args, [])
            with override_settings(CELERY_TASK_ALWAYS_EAGER=True):
                consensus_recompute(device_model_id=self.model.pk, as_of=self.as_of - timedelta(days=2))
        return {"model": self.model.pk}

    def submit(self, seed: int, minutes: float) -> dict[str, Any]:
        from datetime import timedelta

        import recompute as bench

        moment = self.as_of + timedelta(minutes=minutes)
        with self._clock(moment.isoformat()):
            bench._one_more_submission(self.model, random.Random(seed), moment)
        return {}

    def due_at(self) -> dict[str, Any]:
        from profiles.models import DeviceModel

        due = getattr(DeviceModel.objects.get(pk=self.model.pk), "recompute_due_at", None)
        return {"due_at": due.isoformat() if due else None}

    def recompute(self, minutes: float | None = None, at: str | None = None) -> dict[str, Any]:
        from datetime import datetime, timedelta

        from profiles.services.recompute import consensus_recompute

        moment = datetime.fromisoformat(at) if at else self.as_of + timedelta(minutes=minutes or 0)
        self.seconds = defaultdict(float)
        self.credits = []
        backend = _backend_cpu(self.connection)
        with self._clock(moment.isoformat()):
            wall, cpu = time.perf_counter(), time.process_time()
            outcome = consensus_recompute(device_model_id=self.model.pk, as_of=moment)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        backend = _backend_cpu(self.connection) - backend if backend is not None else None
        snapshot = self.snapshot()
        text = json.dumps(snapshot, sort_keys=True, default=str)
        return {
            "wall": wall,
            "cpu": cpu,
            "db_cpu": backend,
            "phases": {name: self.seconds.get(name, 0.0) for name in PHASES},
            "published": len(outcome.published),
            "digest": hashlib.sha256(text.encode()).hexdigest(),
            "snapshot": snapshot,
        }

    def snapshot(self) -> dict[str, Any]:
        """What the model's recomputes left behind, in an order that does not depend on ids."""
        from django.conf import settings

        from profiles.models import Change, ConsensusFlow, ConsensusProfile, DeviceModel

        model = DeviceModel.objects.get(pk=self.model.pk)
        versions = ConsensusProfile.objects.filter(device_model=model).order_by("scope", "version")
        profiles = [
            [p.scope, p.version, p.is_current, p.input_digest, p.params_version, p.as_of.isoformat(), p.etag,
             hashlib.sha256(bytes(p.mud_bytes)).hexdigest(), p.allowed_count, p.cache_validity_hours,
             bool(getattr(p, "signature", b"")), p.computed_at.isoformat()]
            for p in versions
        ]  # fmt: skip
        fields = [f.attname for f in ConsensusFlow._meta.concrete_fields if f.attname not in ("id", "profile_id")]
        rows = sorted(
            [r.pop("profile__scope"), r.pop("profile__version"), r.pop("flow__key"), r]
            for r in ConsensusFlow.objects.filter(profile__device_model=model).values(
                "profile__scope", "profile__version", "flow__key", *fields
            )
        )
        for _, _, _, row in rows:
            row["flow_id"] = None  # flows are inserted in the same order; the key names it anyway
        feed = [
            [getattr(c, "kind", None), c.scope, c.profile.version if c.profile_id else None, c.etag]
            for c in Change.objects.filter(device_model=model).select_related("profile").order_by("pk")
        ]
        published = {}
        publish = getattr(settings, "MUDHUB_PUBLISH_DIR", "")  # not in every version of the app
        publish_dir = Path(publish) if publish else None
        if publish_dir is not None and publish_dir.is_dir():
            for path in sorted(publish_dir.rglob("*.json")):
                if path.parent == publish_dir / "mud":  # the index and timestamp: each worker signs its own
                    continue
                published[str(path.relative_to(publish_dir))] = hashlib.sha256(path.read_bytes()).hexdigest()
        return {
            "model": [model.has_consensus, getattr(model, "recompute_due_at", None), model.dirty_since is None],
            "profiles": profiles,
            "decisions": rows,
            "feed": feed,
            "published": published,
            "credits": self.credits,
        }


def _backend_cpu(connection: Any) -> float | None:
    """CPU seconds (user + system) of this connection's PostgreSQL backend, from /proc."""
    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:  # the server runs elsewhere
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def worker_main() -> None:
    worker = Worker()
    for line in sys.stdin:
        request = json.loads(line)
        try:
            reply = {"ok": getattr(worker, request.pop("cmd"))(**request)}
        except Exception as exc:  # reported to the driver, which stops
            import traceback

            reply = {"error": f"{exc!r}\n{traceback.format_exc()}"}
        print(json.dumps(reply, default=str), flush=True)


# --- the driver -------------------------------------------------------------------------------


class Side:
    def __init__(self, name: str, tree: Path, env: dict[str, str], log_path: Path) -> None:
        self.name = name
        self.log_path = log_path
        self._log = open(log_path, "wb")  # noqa: SIM115 (closed in stop)
        self.proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--worker"],
            cwd=tree, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._log, text=True,
            start_new_session=True,
        )  # fmt: skip
        common.log(f"started the {name} worker (pid {self.proc.pid}) on {tree}")

    def call(self, cmd: str, **kw: Any) -> Any:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps({"cmd": cmd, **kw}) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the {self.name} worker stopped:\n{self.log_path.read_text()[-3000:]}")
        reply = json.loads(line)
        if "error" in reply:
            raise RuntimeError(f"the {self.name} worker failed on {cmd}: {reply['error']}")
        return reply["ok"]

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            if self.proc.stdin:
                self.proc.stdin.close()
            self.proc.wait(timeout=30)
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._log.close()


def _export(revision: str, into: Path) -> str:
    commit = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--verify", f"{revision}^{{commit}}"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", commit], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return commit


def _head_commit() -> str:
    out = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True).stdout.strip()  # fmt: skip
    return out + ("+changes" if dirty else "")


def _env(name: str, tree: Path, var_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CELERY_", "MUDHUB_", "DJANGO_"))}
    redis_url = f"redis://{common.HOST}:6379/{common.REDIS_DB}"
    env.update(
        DATABASE_URL=f"{common.POSTGRES}/mudhub_bench_recompute_ab_{name}",
        REDIS_URL=redis_url,
        CELERY_BROKER_URL=redis_url,
        MUDHUB_CACHE_PREFIX=f"mudhub-bench-recompute-ab-{name}-{os.getpid()}",
        MUDHUB_VAR_DIR=str(var_dir),
        MUDHUB_PUBLISH_DIR=str(var_dir / "publish"),
        MUDHUB_STATIC_ROOT=str(var_dir / "static"),
        DJANGO_SETTINGS_MODULE="aggregator.settings",
        MUDHUB_ENV="development",
        DEBUG="false",
        MUDHUB_PUBLIC_URL="https://mudhub.example.org",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        LOG_LEVEL="WARNING",
        PYTHONPATH=str(tree),
    )
    return env


def _first_difference(a: Any, b: Any, path: str = "") -> str:
    if type(a) is not type(b):
        return f"{path}: {a!r} != {b!r}"
    if isinstance(a, dict):
        for key in sorted(set(a) | set(b), key=str):
            if a.get(key) != b.get(key):
                return _first_difference(a.get(key), b.get(key), f"{path}.{key}")
    if isinstance(a, list):
        if len(a) != len(b):
            return f"{path}: {len(a)} items != {len(b)}"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            if x != y:
                return _first_difference(x, y, f"{path}[{i}]")
    return f"{path}: {str(a)[:300]} != {str(b)[:300]}"


def _summary(values: list[float]) -> dict[str, float]:
    return {
        "median": round(statistics.median(values) * 1000, 2),
        "mean": round(statistics.mean(values) * 1000, 2),
        "min": round(min(values) * 1000, 2),
    }


def measure(args: argparse.Namespace, base: Side, head: Side) -> dict[str, Any]:
    from datetime import UTC, datetime

    clock = datetime.now(UTC).replace(microsecond=0)
    for side in (base, head):
        started = time.perf_counter()
        side.call("setup", contributors=args.contributors, flows=args.flows, seed=args.seed, clock=clock.isoformat())
        common.log(f"{side.name}: populated and settled in {time.perf_counter() - started:.1f} s")

    runs: dict[str, dict[str, list[dict[str, Any]]]] = defaultdict(lambda: {"base": [], "head": []})
    differences: list[str] = []

    def step(kind: str, order: tuple[Side, ...], command: str, **kw: Any) -> None:
        replies = {}
        for side in order:
            replies[side.name] = side.call(command, **kw)
            if command == "recompute":
                runs[kind][side.name].append(replies[side.name])
        if command == "recompute" and replies["base"]["digest"] != replies["head"]["digest"]:
            where = _first_difference(replies["base"]["snapshot"], replies["head"]["snapshot"])
            differences.append(f"{kind}, {kw}: {where}")
            common.log(f"DIFFERENT outputs ({kind}, {kw}): {where}")

    step("first_run_publishing", (base, head), "recompute", minutes=0)
    for r in range(args.rounds):
        order = (base, head) if r % 2 == 0 else (head, base)
        minutes = r + 1
        for side in order:
            side.call("submit", seed=args.seed + r, minutes=minutes)
        step("after_one_new_submission", order, "recompute", minutes=minutes)
        step("unchanged_inputs", order[::-1], "recompute", minutes=minutes)
        last = {name: runs["after_one_new_submission"][name][-1] for name in ("base", "head")}
        common.log(
            f"round {r + 1}, after one new submission: base {last['base']['wall'] * 1000:.0f} ms"
            f" (CPU {last['base']['cpu'] * 1000:.0f}), head {last['head']['wall'] * 1000:.0f} ms"
            f" (CPU {last['head']['cpu'] * 1000:.0f})"
        )
    # Time alone: runs an hour apart with nothing due (the slow sweep's kind of run), then the
    # beat's runs, each at the model's recompute_due_at as the previous run set it.
    hours = max(2, args.rounds // 2)
    for r in range(hours):
        order = (base, head) if r % 2 == 0 else (head, base)
        step("time_driven_nothing_due", order, "recompute", minutes=args.rounds + 60 * (r + 1))
    due: dict[str, Any] = {}
    for r in range(hours):
        due = {side.name: side.call("due_at")["due_at"] for side in (base, head)}
        if due["base"] != due["head"]:
            differences.append(f"recompute_due_at: {due}")
            break
        if due["head"] is None:
            break
        step("time_driven_due", (base, head) if r % 2 == 0 else (head, base), "recompute", at=due["head"])

    out: dict[str, Any] = {}
    for kind, sides in runs.items():
        row: dict[str, Any] = {"runs": len(sides["head"])}
        for measure_name in ("wall", "cpu", "db_cpu"):
            values = {name: [run[measure_name] for run in sides[name]] for name in ("base", "head")}
            if any(v is None for vs in values.values() for v in vs):
                continue
            row[measure_name + "_ms"] = {name: _summary(vs) for name, vs in values.items()}
            # the backend's CPU is counted in clock ticks (10 ms): its mean is the steadier figure
            middle = statistics.mean if measure_name == "db_cpu" else statistics.median
            medians = [middle(values[name]) for name in ("base", "head")]
            row[measure_name + "_ratio_head_base"] = round(medians[1] / medians[0], 3) if medians[0] else None
        row["split_wall_median_ms"] = {
            name: {p: round(statistics.median(run["phases"][p] for run in sides[name]) * 1000, 2) for p in PHASES}
            for name in ("base", "head")
        }
        row["published_per_run"] = {name: [run["published"] for run in sides[name]] for name in ("base", "head")}
        out[kind] = row
    return {"steps": out, "outputs_equal": not differences, "differences": differences[:10], "due_at": due}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--base", default="main", help="the revision to compare with (default main)")
    parser.add_argument("--head", default="", help="a revision to measure instead of this working tree")
    parser.add_argument("--rounds", type=int, default=8, help="rounds of new submission + recompute (each side)")
    parser.add_argument("--contributors", type=int, default=1000)
    parser.add_argument("--flows", type=int, default=200)
    parser.add_argument("--seed", type=int, default=8520)
    parser.add_argument("--keep", action="store_true", help="keep the scratch databases afterwards")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker_main()
        return
    load_start = round(os.getloadavg()[0], 2)
    sides: list[Side] = []
    with tempfile.TemporaryDirectory(prefix="mudhub-bench-recompute-ab-") as tmp:
        base_tree = Path(tmp) / "base"
        base_tree.mkdir()
        base_commit = _export(args.base, base_tree)
        head_tree, head_commit = ROOT, _head_commit()
        if args.head:
            head_tree = Path(tmp) / "head"
            head_tree.mkdir()
            head_commit = _export(args.head, head_tree)
        trees = {"base": base_tree, "head": head_tree}
        scratches = []
        try:
            for name, tree in trees.items():
                var_dir = Path(tmp) / f"var-{name}"
                (var_dir / "publish").mkdir(parents=True)
                env = _env(name, tree, var_dir)
                database = env["DATABASE_URL"].rsplit("/", 1)[1]
                common._recreate_database(database, create=True)
                scratches.append(common.Scratch("recompute_ab", database, env, var_dir, env["MUDHUB_CACHE_PREFIX"],
                                                env["REDIS_URL"], 0))  # fmt: skip
                subprocess.run([sys.executable, str(tree / "manage.py"), "migrate", "--noinput", "-v0"], env=env,
                               cwd=tree, check=True, timeout=300)  # fmt: skip
                sides.append(Side(name, tree, env, Path(tmp) / f"worker-{name}.log"))
            result = measure(args, *sides)
        finally:
            for side in sides:
                side.stop()
            for scratch in scratches:
                common._redis_cleanup(scratch)
                if not args.keep:
                    with contextlib.suppress(Exception):
                        common._recreate_database(scratch.database, create=False)
    print(
        json.dumps(
            {
                "bench": "recompute_ab",
                "base": base_commit,
                "head": head_commit,
                "contributors": args.contributors,
                "flows": args.flows,
                "rounds": args.rounds,
                **result,
                "load_average_1min": {"start": load_start, "end": round(os.getloadavg()[0], 2)},
                "python": sys.version.split()[0],
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
