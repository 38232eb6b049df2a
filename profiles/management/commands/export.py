"""Write the bulk export (what GET /api/v1/export/ streams) to a file, with a progress bar."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

from django.core.management.base import BaseCommand, CommandParser

from profiles.selectors.export import ExportRow, export_count, export_rows, ndjson_stream, tar_stream
from profiles.services.index import feed_seq_now


def _progress(rows: Iterator[ExportRow], total: int, out: TextIO) -> Iterator[ExportRow]:
    """Pass rows through, drawing `[#####.....] n/total` on `out` at most ten times a second."""
    drawn = 0.0
    done = 0
    for row in rows:
        done += 1
        now = time.monotonic()
        if now - drawn > 0.1 or done == total:
            filled = 30 * done // max(total, 1)
            out.write(f"\r[{'#' * filled}{'.' * (30 - filled)}] {done}/{total}")
            out.flush()
            drawn = now
        yield row
    out.write("\n" if done else f"[{'.' * 30}] 0/0\n")


class Command(BaseCommand):
    help = "Write every current profile with its signature to a file: NDJSON, or a gzip tar of the publish layout."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("output", help="the file to write ('-' for standard output)")
        parser.add_argument("--format", choices=["ndjson", "tar"], default="ndjson")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar on standard error")

    def handle(self, *args: Any, **options: Any) -> None:
        feed_seq = feed_seq_now()
        rows: Iterator[ExportRow] = export_rows()
        if not options["no_progress"]:
            rows = _progress(rows, export_count(), sys.stderr)
        stream = (tar_stream if options["format"] == "tar" else ndjson_stream)(feed_seq=feed_seq, rows=rows)
        if options["output"] == "-":
            for chunk in stream:
                sys.stdout.buffer.write(chunk)
            sys.stdout.buffer.flush()
            return
        target = Path(options["output"])
        tmp = target.with_name(f".{target.name}.partial")
        with tmp.open("wb") as out:  # never a half-written export under the final name
            for chunk in stream:
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        tmp.replace(target)
        self.stdout.write(f"export: {target} at feed_seq {feed_seq}")
