"""Benchmark of one model's consensus recompute on PostgreSQL: database reads + engine + writes.

Run: .venv/bin/python bench/recompute.py [--contributors 1000] [--runs 15] [--scaling 100,1000,3000,10000]
Prints one JSON line on stdout (progress on stderr). Needs PostgreSQL and Redis on 127.0.0.1;
uses the scratch database mudhub_bench_recompute (dropped and created anew) and Redis db 5.

One device model, N contributors (TL1-TL3 with reputations, a few shared households), each
with one active native-flow submission holding 20-60 of 200 distinct flows (a common core
most captures see, a long tail few do), firmware 2.0 / 2.1 / unknown, so a run computes
three scopes (latest, 2.0, 2.1) as production would. Rows are inserted in bulk, not through
the API. The model is settled once (an untimed run two days earlier, so the hold periods of
third-party flows have elapsed; its reputation crediting, a task of its own after the
commit, is skipped unless --settle-reputation, which runs it inline and times it). Then
`consensus_recompute` is timed end to end at one `as_of`: the first timed run publishes a
new version and credits the supporters of the flows that just became ALLOWED; once a run
credits no one (reputations are inputs too), the next ones read unchanged inputs and must
publish nothing, and every run's files, emitted again from its results outside the timing,
must be byte-identical and equal to the served bytes. The runs are split into selector /
engine / store / reputation / rest; the selector and the engine are also timed alone, and
the engine alone at 100 .. 10,000 contributors (inputs read by the selector from models of
those sizes) to show how it grows with contributors x flows. bench/engine.py
measures the engine on synthetic inputs without a database.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as common

TARGET_MS = 200.0
FIRMWARE_ORDER = ("1.0", "1.1", "2.0", "2.1")
FIRMWARE_MIX = {"2.1": 0.5, "2.0": 0.35, "unknown": 0.15}


def _populate(args: argparse.Namespace, sizes: list[int]) -> tuple[Any, dict[int, Any]]:
    from django.db import transaction

    from profiles.services.flows import flows_ensure

    rng = random.Random(args.seed)
    started = time.perf_counter()
    flows = common.catalogue_flows(args.flows)
    with transaction.atomic():
        flow_ids = flows_ensure(flows)
        people = common.contributors_create(max([args.contributors, *sizes]), rng)
        main = common.device_model_create("Acme Cam", "Indoor Cam 3", firmware=FIRMWARE_ORDER)
        main_rng = random.Random(args.seed + 1)  # the main model's data do not depend on --scaling
        common.submissions_create(
            main, people[: args.contributors], flows, flow_ids, main_rng, firmware_mix=FIRMWARE_MIX
        )
        scaled = {}
        for size in sizes:
            if size == args.contributors:
                scaled[size] = main
                continue
            model = common.device_model_create("Acme Cam", f"Scale {size}", firmware=FIRMWARE_ORDER)
            size_rng = random.Random(args.seed + size)
            common.submissions_create(model, people[:size], flows, flow_ids, size_rng, firmware_mix=FIRMWARE_MIX)
            scaled[size] = model
        common.domains_age()
    common.log(f"inserted {len(people)} contributors and their submissions in {time.perf_counter() - started:.1f} s")
    return main, scaled


class Phases:
    """Wraps the functions `consensus_recompute` calls, to split each run's time, and keeps
    what the selector read and what the engine returned, to emit each scope's file again
    outside the timing."""

    PHASES = ("selector", "engine", "store", "reputation")

    def __init__(self) -> None:
        import profiles.services.recompute as recompute

        self.module = recompute
        self.seconds: dict[str, float] = defaultdict(float)
        self.inputs: Any = None
        self.results: dict[str, Any] = {}
        self._saved: dict[tuple[Any, str], Any] = {}

    def _wrap(self, owner: Any, name: str, phase: str, keep: Callable[[Any, Any], None] | None = None) -> None:
        original = getattr(owner, name, None)
        if original is None:  # not in this version of the app
            return
        self._saved[owner, name] = original

        def timed(*a: Any, **kw: Any) -> Any:
            start = time.perf_counter()
            try:
                value = original(*a, **kw)
            finally:
                self.seconds[phase] += time.perf_counter() - start
            if keep is not None:
                keep(a, value)
            return value

        setattr(owner, name, timed)

    def __enter__(self) -> Phases:
        def keep_inputs(a: Any, inputs: Any) -> None:
            self.inputs = inputs

        def keep_results(a: Any, results: Any) -> None:
            for inp, result in zip(a[0], results, strict=True):  # compute_scopes([ConsensusInput, ...])
                self.results[inp.firmware] = result

        self._wrap(self.module, "consensus_inputs_get", "selector", keep_inputs)
        self._wrap(self.module.engine, "compute_scopes", "engine", keep_results)
        self._wrap(self.module, "_store", "store")
        self._wrap(self.module, "_reputation_events", "reputation")
        return self

    def __exit__(self, *exc: object) -> None:
        for (owner, name), original in self._saved.items():
            setattr(owner, name, original)

    def reset(self) -> None:
        self.seconds = defaultdict(float)
        self.inputs = None
        self.results = {}

    def files(self) -> dict[str, bytes]:
        """Each scope's MUD file as this run's result makes it (emitted again, untimed)."""
        return {scope: self.module._emit(self.inputs, scope, result) for scope, result in self.results.items()}


@contextlib.contextmanager
def _no_reputation_events(skip: bool) -> Iterator[None]:
    import profiles.services.recompute as recompute

    original = getattr(recompute, "_reputation_events", None)
    if skip and original is not None:
        recompute._reputation_events = lambda *a, **kw: None
    try:
        yield
    finally:
        if original is not None:
            recompute._reputation_events = original


def _engine_inputs(inputs: Any, model_id: int, as_of: Any) -> list[Any]:
    from profiles.consensus import ConsensusInput

    return [
        ConsensusInput(
            model_id=str(model_id),
            firmware=scope,
            as_of=as_of,
            context=inputs.context,
            contributors=inputs.contributors,
            observations=inputs.observations,
            condition_since=inputs.condition_since.get(scope, {}),
        )
        for scope in inputs.scopes
    ]


def _selector_once(model: Any) -> tuple[float, Any]:
    from django.db import transaction

    from profiles.selectors.consensus_inputs import consensus_inputs_get

    with transaction.atomic():
        start = time.perf_counter()
        inputs = consensus_inputs_get(device_model=model)
        return time.perf_counter() - start, inputs


def _engine_once(engine_inputs: list[Any], *, together: bool = True) -> float:
    """The engine on these scopes: with compute_scopes (as the pipeline runs it), or each
    scope on its own with compute."""
    from profiles.consensus import compute, compute_scopes

    start = time.perf_counter()
    if together:
        compute_scopes(engine_inputs)
    else:
        for inp in engine_inputs:
            compute(inp)
    return time.perf_counter() - start


def _scaling(scaled: dict[int, Any], flows: int, as_of: Any) -> dict[str, Any]:
    from profiles.models import DeviceModel

    out = {}
    for size, model in sorted(scaled.items()):
        model = DeviceModel.objects.select_related("manufacturer").get(pk=model.pk)
        repeat = 3 if size >= 5000 else 5
        selector_times, inputs = [], None
        for _ in range(repeat):
            seconds, inputs = _selector_once(model)
            selector_times.append(seconds)
        latest = _engine_inputs(inputs, model.pk, as_of)[:1]  # the "latest" scope only
        _engine_once(latest)  # warm
        engine_times = [_engine_once(latest) for _ in range(repeat)]
        pairs = sum(len(o.flows) for o in inputs.observations)
        median = statistics.median(engine_times)
        out[str(size)] = {
            "engine_ms": round(median * 1000, 2),
            "engine_ms_min": round(min(engine_times) * 1000, 2),
            "us_per_contributor_x_flow": round(median * 1e6 / (size * flows), 3),
            "us_per_contributor_x_flow_min": round(min(engine_times) * 1e6 / (size * flows), 3),
            "ns_per_observed_pair": round(median * 1e9 / pairs, 1),
            "observed_flow_pairs": pairs,
            "selector_ms": round(statistics.median(selector_times) * 1000, 2),
        }
        row = out[str(size)]
        common.log(f"scaling {size}: engine {row['engine_ms']} ms, selector {row['selector_ms']} ms")
    return out


def measure(args: argparse.Namespace) -> dict[str, Any]:
    from datetime import timedelta

    from django.db import connection
    from django.test.utils import CaptureQueriesContext, override_settings
    from django.utils import timezone

    from profiles.models import ConsensusProfile
    from profiles.services.recompute import consensus_recompute

    load_start = round(os.getloadavg()[0], 2)
    sizes = sorted({int(s) for s in args.scaling.split(",") if s}) if args.scaling else []
    main, scaled = _populate(args, sizes)
    as_of = timezone.now().replace(microsecond=0)

    ledger = _ledger_count()
    started = time.perf_counter()
    with _no_reputation_events(skip=not args.settle_reputation), override_settings(CELERY_TASK_ALWAYS_EAGER=True):
        settle = consensus_recompute(device_model_id=main.pk, as_of=as_of - timedelta(days=2))
    settle_ms = (time.perf_counter() - started) * 1000
    settle_events = _ledger_count() - ledger
    common.log(f"settle run: {settle_ms:.0f} ms, published {settle.published}, {settle_events} reputation events")

    totals: list[float] = []
    split: dict[str, list[float]] = defaultdict(list)
    outcomes = []
    files: list[dict[str, bytes]] = []
    events: list[int] = []
    with Phases() as phases:
        for run in range(args.runs):
            phases.reset()
            ledger = _ledger_count()
            start = time.perf_counter()
            outcome = consensus_recompute(device_model_id=main.pk, as_of=as_of)
            total = time.perf_counter() - start
            totals.append(total)
            outcomes.append(outcome)
            events.append(_ledger_count() - ledger)
            files.append(phases.files())
            for name in Phases.PHASES:
                split[name].append(phases.seconds[name])
            split["rest"].append(total - sum(phases.seconds[name] for name in Phases.PHASES))
            common.log(
                f"run {run + 1}: {total * 1000:.1f} ms, published {outcome.published}, {events[-1]} reputation events"
            )

    with CaptureQueriesContext(connection) as queries:
        consensus_recompute(device_model_id=main.pk, as_of=as_of)

    # The usual case: one contributor sent a new capture since the last run.
    after_one, after_one_published, after_one_rows = [], 0, []
    after_one_split: dict[str, list[float]] = defaultdict(list)
    rng = random.Random(args.seed + 2)
    with Phases() as phases:
        for run in range(args.runs):
            moment = as_of + timedelta(minutes=run + 1)
            _one_more_submission(main, rng, moment)
            rows_before = _decision_row_ids(main)
            phases.reset()
            start = time.perf_counter()
            outcome = consensus_recompute(device_model_id=main.pk, as_of=moment)
            after_one.append(time.perf_counter() - start)
            for name in Phases.PHASES:
                after_one_split[name].append(phases.seconds[name])
            after_one_split["rest"].append(after_one[-1] - sum(phases.seconds[name] for name in Phases.PHASES))
            after_one_published += bool(outcome.published)
            after_one_rows.append(len(_decision_row_ids(main) - rows_before))
    common.log(f"after one new submission: {common.summary_ms(after_one)}, rows rewritten {after_one_rows}")

    # A run reads unchanged inputs when the run before it changed nothing: a run that credits
    # reputation changes its successor's inputs (reputations are inputs of the engine).
    unchanged = [k for k in range(1, len(totals)) if events[k - 1] == 0]
    identical = bool(unchanged) and all(files[k] == files[k - 1] for k in unchanged)
    republished = [outcomes[k].published for k in unchanged if outcomes[k].published]
    versions = {scope: ConsensusProfile.objects.filter(device_model=main, scope=scope).count() for scope in files[0]}
    current = {p.scope: p for p in ConsensusProfile.objects.filter(device_model=main, is_current=True)}
    served_match = all(
        _sha256(body) == current[scope].etag and bytes(current[scope].mud_bytes) == body
        for scope, body in files[-1].items()
    )

    # The selector and the engine each alone, on the same model.
    selector_alone, inputs = [], None
    for _ in range(args.runs):
        seconds, inputs = _selector_once(main)
        selector_alone.append(seconds)
    engine_inputs = _engine_inputs(inputs, main.pk, as_of)
    _engine_once(engine_inputs)
    engine_alone = [_engine_once(engine_inputs) for _ in range(args.runs)]
    engine_separately = [_engine_once(engine_inputs, together=False) for _ in range(args.runs)]
    engine_latest = [_engine_once(engine_inputs[:1]) for _ in range(args.runs)]

    profile = _profile(main, as_of, args.profile) if args.profile else None
    write_path = _write_diagnostic(main.pk, as_of, max(3, args.runs // 3))
    common.log(f"write path: {write_path}")

    steady = [totals[k] for k in unchanged] or totals[1:] or totals
    median_ms = statistics.median(steady) * 1000
    observations = inputs.observations
    return {
        "bench": "recompute",
        "database": "postgresql",
        "contributors": args.contributors,
        "flows": args.flows,
        "distinct_flows_observed": len({f for o in observations for f in o.flows}),
        "flows_per_submission_mean": round(statistics.mean(len(o.flows) for o in observations), 1),
        "scopes": list(inputs.scopes),
        "runs": args.runs,
        "settle_run_ms": round(settle_ms, 1),
        "settle_run_reputation_events": settle_events if args.settle_reputation else "skipped (--settle-reputation)",
        "first_run_ms": round(totals[0] * 1000, 2),
        "first_run_published": outcomes[0].published != [],
        "first_run_split_ms": {name: round(values[0] * 1000, 1) for name, values in split.items()},
        "first_run_reputation_events": events[0],
        "later_runs_reputation_events": sum(events[1:]),
        "recompute_ms_unchanged_inputs": common.summary_ms(steady),
        "unchanged_input_runs": len(unchanged),
        "recompute_ms_after_one_new_submission": common.summary_ms(after_one),
        "after_one_new_submission_runs_that_published": after_one_published,
        "after_one_new_submission_decision_rows_rewritten_median": statistics.median(after_one_rows),
        "after_one_new_submission_split_median_ms": {
            name: round(statistics.median(values) * 1000, 2) for name, values in after_one_split.items()
        },
        "recompute_split_median_ms": {
            name: round(statistics.median([values[k] for k in unchanged] or values) * 1000, 2)
            for name, values in split.items()
        },
        "selector_alone_ms": common.summary_ms(selector_alone),
        "engine_alone_all_scopes_ms": common.summary_ms(engine_alone),
        "engine_alone_all_scopes_each_on_its_own_ms": common.summary_ms(engine_separately),
        "engine_alone_latest_scope_ms": common.summary_ms(engine_latest),
        "queries_per_recompute": len(queries),
        "unchanged_runs_byte_identical": identical,
        "unchanged_runs_published_nothing": bool(unchanged) and not republished,
        "served_bytes_match_recomputed": served_match,
        "versions_per_scope": versions,
        "served_file_bytes": {scope: len(body) for scope, body in files[-1].items()},
        "allowed_flows": {scope: current[scope].allowed_count for scope in current},
        "target_ms": TARGET_MS,
        "target_met": median_ms < TARGET_MS and statistics.median(after_one) * 1000 < TARGET_MS,
        "store_diagnostic_one_scope": write_path,
        "engine_scaling_latest_scope": _scaling(scaled, args.flows, as_of) if scaled else {},
        **({"profile_top_cumulative": profile} if profile else {}),
        "load_average_1min": {"start": load_start, "end": round(os.getloadavg()[0], 2)},
        "python": sys.version.split()[0],
    }


def _one_more_submission(model: Any, rng: random.Random, moment: Any) -> None:
    """A contributor's new capture, as the submission service stores it: the same firmware,
    one flow missed and one other seen; it supersedes their previous one and marks the
    model dirty."""
    import hashlib

    from django.db import transaction

    from profiles.models import Flow, Submission
    from profiles.services.recompute import device_model_mark_dirty

    active = list(
        Submission.objects.filter(device_model=model, status="active").order_by("pk").values_list("pk", flat=True)
    )
    old = Submission.objects.get(pk=rng.choice(active))
    every = list(Flow.objects.order_by("pk").values_list("pk", flat=True))
    ids = sorted({*rng.sample(old.flow_ids, len(old.flow_ids) - 1), rng.choice(every)})
    raw = f"bench capture {old.pk} {moment.isoformat()}".encode()
    with transaction.atomic():
        new = Submission.objects.create(
            contributor_id=old.contributor_id, device_model=model, firmware_id=old.firmware_id, format="flows",
            raw=raw, sha256=hashlib.sha256(raw).hexdigest(), observed_start=moment - timedelta_hours(24),
            observed_end=moment - timedelta_hours(1), flow_ids=ids, flow_count=len(ids), ace_count=len(ids),
        )  # fmt: skip
        Submission.objects.filter(pk=old.pk).update(status="superseded", superseded_by=new)
        device_model_mark_dirty(device_model_id=model.pk)


def timedelta_hours(hours: float) -> Any:
    from datetime import timedelta

    return timedelta(hours=hours)


def _decision_row_ids(model: Any) -> set[int]:
    from profiles.models import ConsensusFlow

    return set(ConsensusFlow.objects.filter(profile__device_model=model).values_list("pk", flat=True))


def _profile(model: Any, as_of: Any, runs: int) -> list[dict[str, Any]]:
    """cProfile over `runs` recomputes, each after one new submission (the usual case): the
    full listing to stderr, the top of it (by cumulative time, per run) into the JSON line."""
    import cProfile
    import io
    import pstats
    from datetime import timedelta

    from profiles.services.recompute import consensus_recompute

    rng = random.Random(7)
    profiler = cProfile.Profile()
    for run in range(runs):
        moment = as_of + timedelta(hours=1, minutes=run)
        _one_more_submission(model, rng, moment)
        profiler.enable()
        consensus_recompute(device_model_id=model.pk, as_of=moment)
        profiler.disable()
    profiler.disable()
    text = io.StringIO()
    stats = pstats.Stats(profiler, stream=text).sort_stats("cumulative")
    stats.print_stats(40)
    print(text.getvalue(), file=sys.stderr)
    top = []
    for (filename, line, name), (_cc, calls, tottime, cumtime, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        top.append(
            {
                "function": f"{Path(filename).name}:{line}:{name}",
                "calls_per_run": calls // runs,
                "cumulative_ms_per_run": round(cumtime * 1000 / runs, 1),
                "own_ms_per_run": round(tottime * 1000 / runs, 1),
            }
        )
    top.sort(key=lambda row: -row["cumulative_ms_per_run"])
    return top[:25]


def _write_diagnostic(model_id: int, as_of: Any, repeat: int) -> dict[str, Any]:
    """Where the store step's time goes: one scope's decision rows inserted (in a transaction
    rolled back) as the app does it on PostgreSQL (COPY) and by Django's bulk_create."""
    from django.db import transaction

    from profiles.consensus import compute
    from profiles.consensus.provenance import evidence_digest
    from profiles.models import ConsensusFlow, ConsensusProfile, DeviceModel
    from profiles.services.recompute import _decision_row, _decision_rows_insert

    model = DeviceModel.objects.select_related("manufacturer").get(pk=model_id)
    _, inputs = _selector_once(model)
    result = compute(_engine_inputs(inputs, model_id, as_of)[0])
    profile = ConsensusProfile.objects.get(device_model_id=model_id, scope=result.firmware, is_current=True)
    rows = [_decision_row(profile, row, inputs.flow_ids[row.key], evidence_digest(row)) for row in result.decisions]
    texts = [json.dumps(row["provenance"]) for row in rows]

    def insert_ms(insert: Callable[[list[Any]], Any]) -> float:
        times = []
        for _ in range(repeat):
            with transaction.atomic():
                ConsensusFlow.objects.filter(profile=profile).delete()
                start = time.perf_counter()
                insert(rows)
                times.append(time.perf_counter() - start)
                if ConsensusFlow.objects.filter(profile=profile).count() != len(rows):
                    raise AssertionError("the insert lost rows")
                transaction.set_rollback(True)
        return round(statistics.median(times) * 1000, 2)

    return {
        "scope": result.firmware,
        "rows": len(rows),
        "provenance_json_bytes": sum(map(len, texts)),
        "insert_copy_ms": insert_ms(_decision_rows_insert),
        "insert_bulk_create_ms": insert_ms(
            lambda rows: ConsensusFlow.objects.bulk_create([ConsensusFlow(**r) for r in rows])
        ),
    }


def _ledger_count() -> int:
    try:
        from profiles.models import ReputationEvent
    except ImportError:  # an app without a reputation ledger
        return 0
    return int(ReputationEvent.objects.count())


def _sha256(body: bytes) -> str:
    import hashlib

    return hashlib.sha256(body).hexdigest()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--contributors", type=int, default=1000)
    parser.add_argument("--flows", type=int, default=200)
    parser.add_argument("--runs", type=int, default=15, help="timed recompute runs (the first one publishes)")
    parser.add_argument(
        "--scaling",
        default="100,1000,3000,10000",
        help="contributor counts for the engine-alone growth figures ('' to skip)",
    )
    parser.add_argument(
        "--settle-reputation",
        action="store_true",
        help="let the settle run credit reputation too, inline (every supporter of every allowed flow), and time it",
    )
    parser.add_argument("--seed", type=int, default=8520)
    parser.add_argument(
        "--profile", type=int, default=0, metavar="RUNS", help="cProfile this many runs after a new submission"
    )
    parser.add_argument("--keep", action="store_true", help="keep the scratch database afterwards")
    args = parser.parse_args()
    if args.runs < 2:
        parser.error("--runs must be at least 2 (the first run publishes, the rest are compared to it)")
    with common.scratch_stack("recompute", keep=args.keep):
        common.django_setup()
        result = measure(args)
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
