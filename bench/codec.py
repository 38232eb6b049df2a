"""Benchmark of the MUD codec: parse + normalise, and emit, over the shared real files.

Run: .venv/bin/python bench/codec.py [--seconds N]. Prints one JSON line. No Django.
The dataset is read from $MUDHUB_SHARED/datasets/mud-real (default ../shared next to the repo).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from profiles.mud import MudValidationError, emit, parse  # noqa: E402


def load_dataset() -> list[bytes]:
    shared = Path(os.environ.get("MUDHUB_SHARED", ROOT.parent / "shared"))
    dataset = shared / "datasets" / "mud-real"
    files = sorted(p for p in dataset.rglob("*") if p.is_file() and p.name != "SOURCES.md")
    if not files:
        sys.exit(f"no MUD files under {dataset} (set MUDHUB_SHARED)")
    return [p.read_bytes() for p in files]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=3.0, help="time spent on each measurement")
    args = parser.parse_args()
    blobs = load_dataset()
    usable = []
    for blob in blobs:
        try:
            doc = parse(blob)
        except MudValidationError:
            continue  # the pre-RFC files: rejected, and not what this measures
        usable.append((blob, doc))
    aces = sum(doc.ace_count for _, doc in usable)

    # parse + normalise: bytes to canonical flows, all checks and warnings included
    rounds, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < args.seconds:
        for blob, _ in usable:
            parse(blob)
        rounds += 1
    parse_seconds = elapsed
    parse_rate = rounds * aces / parse_seconds

    # The floor under any pure-Python codec: the stdlib JSON decoder alone, on the same bytes.
    # Measured in the same run, so the ratio holds on a loaded or slower machine.
    json_rounds, start = 0, time.perf_counter()
    while (json_elapsed := time.perf_counter() - start) < args.seconds:
        for blob, _ in usable:
            json.loads(blob)
        json_rounds += 1
    json_rate = json_rounds * aces / json_elapsed

    emit_rounds, start = 0, time.perf_counter()
    while (emit_elapsed := time.perf_counter() - start) < args.seconds:
        for _, doc in usable:
            emit(doc.meta, doc.flows)
        emit_rounds += 1
    emit_rate = emit_rounds * aces / emit_elapsed

    print(
        json.dumps(
            {
                "bench": "codec",
                "files": len(blobs),
                "files_parsed": len(usable),
                "aces": aces,
                "flows": sum(len(doc.flows) for _, doc in usable),
                "parse_normalise_aces_per_s": round(parse_rate),
                "parse_rounds": rounds,
                "parse_seconds": round(parse_seconds, 3),
                "json_loads_only_aces_per_s": round(json_rate),
                "parse_time_vs_json_loads": round(json_rate / parse_rate, 2),
                "emit_aces_per_s": round(emit_rate),
                "emit_rounds": emit_rounds,
                "emit_seconds": round(emit_elapsed, 3),
                "target_parse_aces_per_s": 50000,
                "python": sys.version.split()[0],
            }
        )
    )


if __name__ == "__main__":
    main()
