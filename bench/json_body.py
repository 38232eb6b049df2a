"""Benchmark of the API's strict JSON body reader (profiles.mud.load_json) against the
standard library's json.loads on the same bytes, in one run.

Run: .venv/bin/python bench/json_body.py [--rounds 30]
Prints one JSON line on stdout. Pure Python, no services; uses ../shared for real files.

Bodies: submission envelopes around real MUD files of ../shared/datasets/mud-real (the
median file has 17 ACEs), around the largest real file, and a synthetic body near the 1 MiB
limit; each also with one lone surrogate escape (the slow path that walks the value). The
figure that matters is the ratio: what the duplicate-key, depth and string checks add to
decoding a body at all.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from profiles.mud import load_json  # noqa: E402

DATASET = ROOT.parent / "shared" / "datasets" / "mud-real"


def envelope(mud_text: str) -> bytes:
    return f'{{"device": {{"manufacturer": "Bench", "model": "M"}}, "mud": {mud_text}}}'.encode()


def bodies() -> dict[str, list[bytes]]:
    files = sorted(p for p in DATASET.rglob("*.json") if p.is_file())
    texts = [p.read_text() for p in files]
    real = [envelope(t) for t in texts]
    largest = max(real, key=len)
    flows = [
        {"direction": "from-device", "peer_kind": "dnsname", "peer": f"h{i}.example.com", "protocol": 6, "dst_port": i}
        for i in range(7000)
    ]
    big = json.dumps({"device": {"manufacturer": "Bench", "model": "M"}, "flows": flows}).encode()
    with_surrogate = [b.replace(b'"model": "M"', b'"model": "M\\ud800"', 1) for b in real]
    return {
        "real_files": real,
        "largest_real_file": [largest],
        "near_1MiB_flows": [big],
        "real_files_with_a_lone_surrogate": with_surrogate,
    }


def best_of(rounds: int, fn: Callable[[bytes], Any], items: list[bytes]) -> float:
    """The fastest of `rounds` passes over `items`, in seconds per pass."""
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        for item in items:
            with contextlib.suppress(ValueError):
                fn(item)
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    if not DATASET.is_dir():
        print(json.dumps({"bench": "json_body", "skipped": f"no dataset at {DATASET}"}))
        return
    out: dict[str, Any] = {"bench": "json_body", "rounds": args.rounds}
    for name, items in bodies().items():
        baseline = best_of(args.rounds, json.loads, items)
        strict = best_of(args.rounds, load_json, items)
        size = statistics.median(len(b) for b in items)
        out[name] = {
            "bodies": len(items),
            "median_bytes": int(size),
            "json_loads_us_per_body": round(baseline / len(items) * 1e6, 1),
            "load_json_us_per_body": round(strict / len(items) * 1e6, 1),
            "load_json_vs_json_loads": round(strict / baseline, 2),
        }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
