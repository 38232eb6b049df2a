"""Benchmark of the pure consensus engine on synthetic models. No Django, no database.

Run: .venv/bin/python bench/engine.py [--repeat N]. Prints one JSON line.

A model has 200 distinct flows (vendor, third-party and high-risk ones); each contributor
has one or two observations (mostly the latest firmware, some older or unknown) holding a
popularity-weighted subset of the flows, and a few votes. Flow objects are shared between
observations, as a database layer that loads a model's flow table once passes them. The
figures: the median (and minimum) engine time for 1,000 contributors (the DESIGN.md target is 200 ms
including database reads), the times for 100 / 1,000 / 10,000 contributors with the cost
per (contributor x flow) to show linear growth, a dense worst case (every contributor
observed every flow), and the dense case with equal-but-distinct Flow instances.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from profiles.consensus import (  # noqa: E402
    ConsensusInput,
    ContributorSnapshot,
    ModelContext,
    Observation,
    Vote,
    compute,
)
from profiles.mud.flows import Flow, PortMatch  # noqa: E402

AS_OF = datetime(2026, 11, 1, tzinfo=UTC)
FLOWS = 200
FIRMWARE = ("1.0", "1.1", "2.0", "2.1")


def make_flows() -> list[Flow]:
    flows: list[Flow] = []
    for i in range(FLOWS):
        kind = i % 5
        if kind == 0:
            flows.append(Flow("from-device", "ipv4", "dnsname", f"api{i}.acme.com", 6, dst_port=PortMatch.eq(443)))
        elif kind == 1:
            flows.append(
                Flow("from-device", "ipv4", "dnsname", f"cdn{i}.thirdparty{i}.net", 6, dst_port=PortMatch.eq(443))
            )
        elif kind == 2:
            flows.append(Flow("from-device", "ipv4", "dnsname", f"ntp{i}.pool.ntp.org", 17, dst_port=PortMatch.eq(123)))
        elif kind == 3:
            flows.append(
                Flow("from-device", "ipv4", "network", f"203.0.{i % 256}.7/32", 6, dst_port=PortMatch.eq(8000 + i))
            )
        else:
            flows.append(Flow("from-device", "ipv4", "local-networks", "", 17, dst_port=PortMatch.eq(10000 + i)))
    return flows


def make_input(contributors: int, flows: list[Flow], *, dense: bool = False, seed: int = 1) -> ConsensusInput:
    rng = random.Random(seed)
    # Popularity: a core the device always shows, then a long tail seen by few.
    weights = [0.95 if i < 30 else min(0.9, 2.0 / (i - 25) ** 0.8) for i in range(FLOWS)]
    people = []
    observations = []
    votes = []
    for c in range(contributors):
        level = rng.choices((0, 1, 2, 3), weights=(20, 30, 40, 10))[0]
        group = f"g{c}" if rng.random() < 0.9 else f"g{c // 3}"
        people.append(ContributorSnapshot(f"c{c}", level, rng.choice((0.6, 0.75, 0.85, 0.95)), group))
        for k in range(rng.choice((1, 1, 1, 2))):
            seen = (
                frozenset(flows)
                if dense
                else frozenset(f for f, w in zip(flows, weights, strict=True) if rng.random() < w)
            )
            observations.append(
                Observation(
                    f"s{c}-{k}",
                    f"c{c}",
                    rng.choice((*FIRMWARE[2:], FIRMWARE[3], None)),
                    AS_OF - timedelta(days=rng.randint(0, 700)),
                    float(rng.choice((24, 72, 168, 336))),
                    seen,
                )
            )
        if level >= 2 and rng.random() < 0.5:
            votes.append(Vote(f"v{c}", f"c{c}", rng.choice(flows).key, rng.choice((1, 1, 1, -1))))
    context = ModelContext(
        manufacturer_domains=frozenset({"acme.com"}),
        domain_first_seen={**{f"thirdparty{i}.net": AS_OF - timedelta(days=300) for i in range(FLOWS)}},
        firmware_order=FIRMWARE,
    )
    return ConsensusInput(
        model_id="bench",
        firmware="latest",
        as_of=AS_OF,
        context=context,
        contributors=tuple(people),
        observations=tuple(observations),
        votes=tuple(votes),
        condition_since={f.key: AS_OF - timedelta(days=5) for f in flows[::2]},
    )


def distinct_instances(inp: ConsensusInput) -> ConsensusInput:
    """The same input with a fresh, equal Flow object in every observation (no sharing)."""

    def copy(flow: Flow) -> Flow:
        return Flow(
            flow.direction,
            flow.family,
            flow.peer_kind,
            flow.peer,
            flow.network,
            flow.protocol,
            flow.src_port,
            flow.dst_port,
        )

    observations = tuple(
        Observation(
            o.submission_id, o.contributor_id, o.firmware, o.last_seen, o.window_hours, frozenset(map(copy, o.flows))
        )
        for o in inp.observations
    )
    return ConsensusInput(
        model_id=inp.model_id,
        firmware=inp.firmware,
        as_of=inp.as_of,
        context=inp.context,
        contributors=inp.contributors,
        observations=observations,
        votes=inp.votes,
        condition_since=inp.condition_since,
    )


def timed(inp: ConsensusInput, repeat: int) -> tuple[float, float, int]:
    """Median and minimum seconds of `repeat` runs (the minimum is the figure least disturbed
    by other processes on a shared machine), and how many flows were ALLOWED."""
    compute(inp)  # warm caches (public-suffix list, imports)
    times = []
    allowed = 0
    for _ in range(repeat):
        start = time.perf_counter()
        result = compute(inp)
        times.append(time.perf_counter() - start)
        allowed = len(result.allowed_flows)
    return statistics.median(times), min(times), allowed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=7, help="runs per measurement (the median is reported)")
    args = parser.parse_args()
    flows = make_flows()
    scaling = {}
    pairs_observed = {}
    for n in (100, 1_000, 10_000):
        inp = make_input(n, flows)
        seconds, fastest, allowed = timed(inp, max(3, args.repeat if n < 10_000 else 3))
        pairs_observed[n] = sum(len(o.flows) for o in inp.observations)
        scaling[str(n)] = {
            "ms": round(seconds * 1000, 2),
            "ms_min": round(fastest * 1000, 2),
            "us_per_contributor_x_flow": round(seconds * 1e6 / (n * FLOWS), 3),
            "observed_flow_pairs": pairs_observed[n],
            "allowed": allowed,
        }
    dense = make_input(1_000, flows, dense=True)
    dense_seconds, _, _ = timed(dense, args.repeat)
    unshared_seconds, _, _ = timed(distinct_instances(dense), args.repeat)
    print(
        json.dumps(
            {
                "bench": "engine",
                "flows": FLOWS,
                "engine_ms_1000_contributors": scaling["1000"]["ms"],
                "engine_ms_min_1000_contributors": scaling["1000"]["ms_min"],
                "load_average_1min": round(os.getloadavg()[0], 2),
                "scaling": scaling,
                "dense_1000_contributors_ms": round(dense_seconds * 1000, 2),
                "dense_1000_distinct_flow_objects_ms": round(unshared_seconds * 1000, 2),
                "target_ms_with_database": 200,
                "repeat": args.repeat,
                "python": sys.version.split()[0],
            }
        )
    )


if __name__ == "__main__":
    main()
