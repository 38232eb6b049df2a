"""Merge-quality of rule changes considered for issue 9 and not adopted (docs/consensus.md,
"Merge quality, measured"), on bench/merge_quality.py's protocol and data.

Run: .venv/bin/python bench/merge_quality_alternatives.py [--dataset DIR]. Prints one JSON
line: micro-averaged precision and recall of the automatic file and of the file with every
queued H flow approved, for the current rules and for each alternative:

- full_week_windows: every capture a full week (the crowd's silence counts in full), rules
  unchanged;
- full_week_windows_phi_0_15: the same, with a dilution floor of 0.15 for every class, V
  included;
- global_majority_of_regions: the global file keeps a flow only if more than half of the
  UN M49 sub-regions that observed the model saw it;
- global_intersection_of_variants: the global file keeps what every regional variant serves;
- approved_h_with_t_prior: an approved H flow is judged with T's prior (A >= 2.81, not 5.99);
- approved_h_with_t_prior_majority_queue: the same, with the queue listing only H flows most
  observers saw.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import country_converter
from merge_quality import DEVICES, ROOT, T0, WINDOW_HOURS, Score, load, run_engine

from profiles.consensus import (
    DEFAULT_PARAMS,
    ConsensusInput,
    ConsensusParams,
    ContributorSnapshot,
    ModelContext,
    ModeratorDecision,
    Observation,
    compute,
)
from profiles.consensus.risk import registrable_domain

Merge = Callable[[ConsensusInput, bool], set[str]]


def engine(inp: ConsensusInput, approvals: bool) -> set[str]:
    return {f.key for f in run_engine(inp, approvals).allowed_flows}


def with_params(params: ConsensusParams) -> Merge:
    return lambda inp, approvals: engine(replace(inp, params=params), approvals)


def with_windows(hours: float, params: ConsensusParams = DEFAULT_PARAMS) -> Merge:
    def merge(inp: ConsensusInput, approvals: bool) -> set[str]:
        observations = tuple(replace(o, window_hours=hours) for o in inp.observations)
        return engine(replace(inp, observations=observations, params=params), approvals)

    return merge


def majority_of_regions(inp: ConsensusInput, approvals: bool) -> set[str]:
    regions = {o.region for o in inp.observations}
    seen_in: dict[str, set[str | None]] = {}
    for o in inp.observations:
        for f in o.flows:
            seen_in.setdefault(f.key, set()).add(o.region)
    return {k for k in engine(inp, approvals) if 2 * len(seen_in[k]) > len(regions)}


def intersection_of_variants(inp: ConsensusInput, approvals: bool) -> set[str]:
    served = engine(inp, approvals)
    for region in {o.region for o in inp.observations}:
        served &= engine(replace(inp, region=region), approvals)
    return served


def approved_h_as_t(majority_queue: bool) -> Merge:
    params = replace(DEFAULT_PARAMS, version="alt", high_risk=replace(DEFAULT_PARAMS.high_risk, prior_beta=2.0))

    def merge(inp: ConsensusInput, approvals: bool) -> set[str]:
        inp = replace(inp, params=params)
        if not approvals or not majority_queue:
            return engine(inp, approvals)
        observers = len(inp.observations)
        run = compute(replace(inp, as_of=T0 + timedelta(days=31)))
        queued = [
            row.key
            for row in run.decisions
            if row.risk_class == "H" and row.state == "CANDIDATE" and row.groups >= 2 and 2 * row.groups > observers
        ]
        decisions = tuple(ModeratorDecision(f"approve-{i}", "approve", key) for i, key in enumerate(queued))
        inp = replace(inp, moderator_decisions=decisions)
        for day in (31, 33, 34):
            run = compute(replace(inp, as_of=T0 + timedelta(days=day), condition_since=run.condition_since))
        return {f.key for f in run.allowed_flows}

    return merge


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--dataset",
        type=Path,
        default=ROOT.parent / "shared" / "datasets" / "mud-real" / "deepness-lab-iot-mud-locations",
    )
    args = parser.parse_args()
    converter = country_converter.CountryConverter()
    phi = 0.15
    floor = replace(
        DEFAULT_PARAMS,
        version="alt-phi",
        vendor=replace(DEFAULT_PARAMS.vendor, phi=phi),
        third_party=replace(DEFAULT_PARAMS.third_party, phi=phi),
        high_risk=replace(DEFAULT_PARAMS.high_risk, phi=phi),
    )
    merges: dict[str, Merge] = {
        "current": engine,
        "full_week_windows": with_windows(168.0),
        "full_week_windows_phi_0_15": with_windows(168.0, floor),
        "global_majority_of_regions": majority_of_regions,
        "global_intersection_of_variants": intersection_of_variants,
        "approved_h_with_t_prior": approved_h_as_t(majority_queue=False),
        "approved_h_with_t_prior_majority_queue": approved_h_as_t(majority_queue=True),
    }
    scores = {name: {mode: Score() for mode in ("automatic", "with_approvals")} for name in merges}
    for device, locations in DEVICES.items():
        files = {name: load(args.dataset / name) for name in locations}
        for held_out in locations:
            others = [name for name in locations if name != held_out]
            truth = {f.key for f in files[held_out]}
            domains = {registrable_domain(f.peer) for name in others for f in files[name] if f.peer_kind == "dnsname"}
            inp = ConsensusInput(
                model_id=device,
                firmware="latest",
                as_of=T0,
                context=ModelContext(domain_first_seen=dict.fromkeys(domains, T0)),
                contributors=tuple(ContributorSnapshot(name, 3, 1.0, name) for name in others),
                observations=tuple(
                    Observation(
                        f"s-{name}",
                        name,
                        None,
                        T0,
                        WINDOW_HOURS,
                        files[name],
                        region=str(converter.convert(locations[name], src="ISO2", to="UNregion")),
                    )
                    for name in others
                ),
                params=DEFAULT_PARAMS,
            )
            for name, merge in merges.items():
                for mode, score in scores[name].items():
                    score.add(merge(inp, mode == "with_approvals"), truth)
    figures = {
        name: {mode: {k: s.figures()[k] for k in ("precision", "recall")} for mode, s in modes.items()}
        for name, modes in scores.items()
    }
    print(json.dumps({"bench": "merge_quality_alternatives", "params_version": DEFAULT_PARAMS.version, **figures}))


if __name__ == "__main__":
    main()
