"""Merge quality on real data: leave-one-location-out on the Deepness Lab location study.

Run: .venv/bin/python bench/merge_quality.py [--dataset DIR]. Prints one JSON line. Pure
engine, one process: no server, no database.

The protocol of issue 9. One device model observed in several countries (Yi camera 9
locations, Xiaomi bulb 10, TP-Link plug 8, LIFX bulb 3: 30 held-out cases). For each
location L, every other location's MUD file is one observation by its own TL3 contributor
(R = 1, a group of its own), unknown firmware, a one-day window, all submitted at T0 (the
domains first seen then). The consensus is computed 31 days later (domains no longer new)
and again at 33 days (T holds passed), carrying the hold state from one run to the next as
the service does. The served file (the ALLOWED flows) is compared with L's own file:
recall = L's flows the file allows (what keeps L's device working); precision = served flows
L really used.

Figures, per device type and overall (micro: pooled counts over the held-out cases; macro:
the mean of the per-case figures):
- automatic: the consensus as computed;
- with_approvals: a moderator approves every H flow the moderation queue lists after the
  31-day run (H candidates with support from >= 2 groups); recomputed at 33 days and at 34
  days (72 h after the approvals: the H hold, when the time-driven recompute runs);
- regional: the regional variant for L's UN M49 sub-region (country-converter), with the
  same approvals; observations from L's sub-region count in full, the others at
  params.region_other_factor; a region with no other location has no variant and is served
  the global file (with approvals), as the service does;
- the naive merges of the other locations' flow sets: union, >= 2 locations, majority
  (more than half), intersection.

Where precision goes: `false_positives_by_share` counts, for the automatic and the
with-approvals files, the served flows the held-out location did not use, by the share of
the other locations that did use them (at most a quarter, at most half, more than half). A
flow more than half of the others used is served by majority vote too: no merge that keeps
majority's recall can avoid it. `--cases` adds every case's false positives and misses
(class, reason, groups, state, used by how many of the others) under "cases".
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import country_converter  # noqa: E402

from profiles import mud  # noqa: E402
from profiles.consensus import (  # noqa: E402
    DEFAULT_PARAMS,
    ConsensusInput,
    ConsensusResult,
    ContributorSnapshot,
    ModelContext,
    ModeratorDecision,
    Observation,
    compute,
)
from profiles.consensus.risk import registrable_domain  # noqa: E402

T0 = datetime(2026, 10, 1, tzinfo=UTC)
WINDOW_HOURS = 24.0

# Folder -> ISO 3166-1 alpha-2 country of the capture (from the folder names and the study;
# "ch" is China in this data set, "antartica" the study's Antarctica run).
DEVICES: dict[str, dict[str, str]] = {
    "yi_camera": {
        "australia_yi_camera": "AU", "france_yi_camera": "FR", "germany_yi_camera": "DE", "hk_yi_camera": "HK",
        "india_yi_camera": "IN", "mexico_yi_camera": "MX", "russia_yi_camera": "RU", "uk_yi_camera": "GB",
        "us_yi_camera": "US",
    },
    "xiaomi_bulb": {
        "antartica_mi_bulb": "AQ", "argentina_mi_bulb": "AR", "austrelia_mi_bulb": "AU", "brazil_mi_bulb": "BR",
        "india_mi_bulb": "IN", "russia_mi_bulb": "RU", "spain_mi_bulb": "ES", "mi_bolb_hk": "HK", "mi_bolb_uk": "GB",
        "mi_bolb_us": "US",
    },
    "tplink_plug": {
        "ch_by_location_cords_tp_plug": "CN", "china_tp_plug": "CN", "hk_by_vpn_and_location_cords_tp_plug": "HK",
        "uk_by_location_cords_tp_plug": "GB", "uk_by_vpn_and_location_cords_tp_plug": "GB", "uk_tp_plug": "GB",
        "us_by_location_cords_tp_plug": "US", "us_by_vpn_and_location_cords_tp_plug": "US",
    },
    "lifx_bulb": {"hk_lifx_bulb": "HK", "uk_lifx_bulb": "GB", "us_lifx_bulb": "US"},
}  # fmt: skip


SHARES = ("quarter_or_less", "half_or_less", "more_than_half")


def _share(share: float) -> str:
    return SHARES[0] if share <= 0.25 else SHARES[1] if share <= 0.5 else SHARES[2]


def load(folder: Path) -> frozenset[mud.Flow]:
    files = sorted(p for p in folder.glob("*Mud.json"))
    if len(files) != 1:
        raise SystemExit(f"{folder}: expected one *Mud.json, found {len(files)}")
    return mud.parse(files[0].read_bytes()).flows


class Score:
    def __init__(self) -> None:
        self.tp = self.fp = self.fn = 0
        self.cases: list[tuple[float, float, float]] = []

    def add(self, served: Iterable[str], truth: Iterable[str]) -> None:
        served, truth = set(served), set(truth)
        tp, fp, fn = len(served & truth), len(served - truth), len(truth - served)
        self.tp, self.fp, self.fn = self.tp + tp, self.fp + fp, self.fn + fn
        self.cases.append(_prf(tp, fp, fn))

    def figures(self) -> dict[str, float]:
        p, r, f = _prf(self.tp, self.fp, self.fn)
        n = len(self.cases) or 1
        macro = [sum(c[i] for c in self.cases) / n for i in range(3)]
        return {"precision": round(p, 3), "recall": round(r, 3), "f1": round(f, 3),
                "macro_precision": round(macro[0], 3), "macro_recall": round(macro[1], 3),
                "macro_f1": round(macro[2], 3)}  # fmt: skip


def _prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    # An empty served file allows nothing wrongly: precision 1 (it is recall that suffers).
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def run_engine(inp: ConsensusInput, approvals: bool) -> ConsensusResult:
    """The runs of the protocol; returns the last one.

    Automatic: day 31, then day 33. With approvals: day 31; a moderator approves every H flow
    the queue lists; the approval itself recomputes the model (still day 31, the H hold of
    72 h starts); day 33; day 34, when the H hold has passed (the time-driven recompute)."""
    run = compute(replace(inp, as_of=T0 + timedelta(days=31)))
    days: tuple[int, ...] = (33,)
    if approvals:
        queued = [
            row.key for row in run.decisions if row.risk_class == "H" and row.state == "CANDIDATE" and row.groups >= 2
        ]
        inp = replace(
            inp,
            moderator_decisions=tuple(
                ModeratorDecision(f"approve-{i}", "approve", key) for i, key in enumerate(queued)
            ),
        )
        days = (31, 33, 34)
    for day in days:
        run = compute(replace(inp, as_of=T0 + timedelta(days=day), condition_since=run.condition_since))
    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--dataset",
        type=Path,
        default=ROOT.parent / "shared" / "datasets" / "mud-real" / "deepness-lab-iot-mud-locations",
    )
    parser.add_argument("--cases", action="store_true", help="list every case's false positives and misses")
    args = parser.parse_args()
    converter = country_converter.CountryConverter()

    def region_of(country: str) -> str:
        return str(converter.convert(country, src="ISO2", to="UNregion"))

    methods = ("automatic", "with_approvals", "regional", "union", "at_least_2", "majority", "intersection")
    overall = {m: Score() for m in methods}
    per_device: dict[str, dict[str, object]] = {}
    regional_cases = 0
    shares = {m: dict.fromkeys(SHARES, 0) for m in ("automatic", "with_approvals")}
    cases: list[dict[str, object]] = []
    for device, locations in DEVICES.items():
        scores = {m: Score() for m in methods}
        files = {name: load(args.dataset / name) for name in locations}
        for held_out in locations:
            others = [name for name in locations if name != held_out]
            truth = {f.key for f in files[held_out]}
            counts: dict[str, int] = {}
            for name in others:
                for flow in files[name]:
                    counts[flow.key] = counts.get(flow.key, 0) + 1
            naive = {
                "union": {k for k, c in counts.items() if c >= 1},
                "at_least_2": {k for k, c in counts.items() if c >= 2},
                "majority": {k for k, c in counts.items() if c > len(others) / 2},
                "intersection": {k for k, c in counts.items() if c == len(others)},
            }
            domains = {registrable_domain(f.peer) for name in others for f in files[name] if f.peer_kind == "dnsname"}
            inp = ConsensusInput(
                model_id=device,
                firmware="latest",
                as_of=T0,
                context=ModelContext(domain_first_seen=dict.fromkeys(domains, T0)),
                contributors=tuple(ContributorSnapshot(name, 3, 1.0, name) for name in others),
                observations=tuple(
                    Observation(
                        f"s-{name}", name, None, T0, WINDOW_HOURS, files[name], region=region_of(locations[name])
                    )
                    for name in others
                ),
                params=DEFAULT_PARAMS,
            )
            region = region_of(locations[held_out])
            served = {
                "automatic": run_engine(inp, approvals=False),
                "with_approvals": run_engine(inp, approvals=True),
            }
            # A region without observations has no variant: it is served the global file.
            has_variant = any(region_of(locations[name]) == region for name in others)
            served["regional"] = (
                run_engine(replace(inp, region=region), approvals=True) if has_variant else served["with_approvals"]
            )
            regional_cases += has_variant
            for method in methods:
                keys = naive[method] if method in naive else {f.key for f in served[method].allowed_flows}
                scores[method].add(keys, truth)
                overall[method].add(keys, truth)
            for method, buckets in shares.items():
                for key in {f.key for f in served[method].allowed_flows} - truth:
                    buckets[_share(counts[key] / len(others))] += 1
            if args.cases:
                cases.append(_case(device, held_out, len(others), counts, truth, served))
        per_device[device] = {"locations": len(locations), **{m: s.figures() for m, s in scores.items()}}
    print(
        json.dumps(
            {
                "bench": "merge_quality",
                "params_version": DEFAULT_PARAMS.version,
                "cases": sum(len(v) for v in DEVICES.values()),
                "cases_with_a_regional_variant": regional_cases,
                "region_other_factor": DEFAULT_PARAMS.region_other_factor,
                "overall": {m: s.figures() for m, s in overall.items()},
                "false_positives_by_share": shares,
                "per_device": per_device,
                **({"cases": cases} if args.cases else {}),
            }
        )
    )


def _case(
    device: str, held_out: str, others: int, counts: dict[str, int], truth: set[str], served: dict[str, ConsensusResult]
) -> dict[str, object]:
    """One held-out location: what the automatic and with-approvals files got wrong, and why."""

    def describe(result: ConsensusResult, key: str) -> dict[str, object]:
        row = result.decision(key)
        seen = {"flow": key, "used_by": f"{counts.get(key, 0)}/{others}"}
        if row is None:
            return {**seen, "state": "unseen"}
        return {**seen, "class": f"{row.risk_class}/{row.risk_reason}", "groups": row.groups, "state": row.state}

    out: dict[str, object] = {"device": device, "held_out": held_out}
    for method in ("automatic", "with_approvals"):
        result = served[method]
        keys = {f.key for f in result.allowed_flows}
        out[method] = {
            "false_positives": [describe(result, k) for k in sorted(keys - truth)],
            "misses": [describe(result, k) for k in sorted(truth - keys)],
        }
    return out


if __name__ == "__main__":
    main()
