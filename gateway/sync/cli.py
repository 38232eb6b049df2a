"""mudhub-sync: keep a MUD manager's directory in step with mudhub, every file verified.

    mudhub-sync --server https://mudhub.example --cert aggregator.pem --dest /var/lib/mud
    mudhub-sync --mirror https://cdn.example/mudhub --cert aggregator.pem --dest /var/lib/mud
    mudhub-sync --server https://mudhub.example --cert aggregator.pem --dest /var/lib/mud --region DE

Exit status: 0 in step; 1 the server or mirror failed (try again later); 2 bad usage; 3 a
file, the index or the timestamp does not verify or does not match; 4 the index or the
timestamp has expired; 5 signed by a certificate that is not pinned; 6 an older index or
timestamp than one seen before. On any failure the
files already in the directory stay as they were (each written only once verified).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .client import Sync, load_trust
from .errors import EXIT_OK, EXIT_USAGE, SyncError
from .fetch import Fetcher
from .store import LAYOUTS, State, Store

CERTIFICATE_PATH = ".well-known/mudhub/aggregator.pem"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mudhub-sync", description=__doc__.split("\n\n")[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--server", help="a mudhub server: the index, the export and the change feed")
    source.add_argument(
        "--mirror", help="a static copy of mudhub's publish directory (only its signed index is trusted)"
    )
    parser.add_argument("--cert", required=True, type=Path, help="the pinned aggregator certificate (PEM)")
    parser.add_argument("--dest", required=True, type=Path, help="the directory the MUD manager reads")
    parser.add_argument(
        "--layout", choices=LAYOUTS, default="plain", help="plain <mfg>/<model>.json, or osMUD's flat one"
    )
    parser.add_argument(
        "--region",
        help="this gateway's country (ISO 3166-1 alpha-2) or UN M49 sub-region slug: its regional variants, "
        "falling back to the global file, written at the plain paths",
    )
    parser.add_argument("--state", type=Path, help="the state file (default: DEST/.mudhub-sync/state.json)")
    parser.add_argument("--page-size", type=int, default=1000, help="feed entries per request (1..1000)")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds per request")
    parser.add_argument(
        "--trust-on-first-use",
        action="store_true",
        help="when --cert does not exist, fetch the server's certificate and pin it there",
    )
    parser.add_argument("-q", "--quiet", action="store_true")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if not 1 <= args.page_size <= 1000:
        print("mudhub-sync: error: --page-size must be within 1..1000", file=sys.stderr)
        return EXIT_USAGE

    def say(text: str) -> None:
        if not args.quiet:
            print(f"mudhub-sync: {text}", file=sys.stderr)

    base = args.server or args.mirror
    fetcher = Fetcher(timeout=args.timeout)
    try:
        if not args.cert.exists():
            if not args.trust_on_first_use:
                print(f"mudhub-sync: error: no pinned certificate at {args.cert}", file=sys.stderr)
                return EXIT_USAGE
            from .store import write_atomically

            pem = fetcher.get(base.rstrip("/") + "/" + CERTIFICATE_PATH).body
            write_atomically(args.cert, pem)
            say(f"pinned the certificate the server gave at {args.cert} (trust on first use)")
        state = State.load(args.state or args.dest / ".mudhub-sync" / "state.json")
        trust = load_trust(args.cert.read_bytes(), state)
        sync = Sync(
            base=base,
            mirror=bool(args.mirror),
            store=Store(args.dest, args.layout),
            state=state,
            trust=trust,
            fetcher=fetcher,
            page_size=args.page_size,
            region=args.region,
            say=say,
        )
        summary = sync.run()
    except SyncError as error:
        print(f"mudhub-sync: error: {error}", file=sys.stderr)
        return error.status
    if not args.quiet:
        print(
            f"mudhub-sync: {summary.written} written, {summary.removed} removed, cursor {state.cursor}, "
            f"index v{state.index_version}, {fetcher.requests} request(s), {fetcher.bytes_received} bytes, "
            f"{summary.feed_requests} feed request(s)"
        )
    return EXIT_OK
