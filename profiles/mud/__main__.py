"""Command line for the MUD codec; needs no Django settings.

python -m profiles.mud check [--strict] [--json] FILE...
python -m profiles.mud normalize [--strict] [--json] FILE [-o OUT]
python -m profiles.mud diff [--strict] [--json] A B
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from .diff import diff
from .emit import emit
from .errors import MudValidationError, Problem
from .parse import MudDocument, parse


def _read(path: str, strict: bool) -> tuple[MudDocument | None, list[Problem]]:
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        return None, [Problem("unreadable", "", f"cannot read {path}: {exc.strerror or exc}")]
    try:
        return parse(data, mode="strict" if strict else "import"), []
    except MudValidationError as exc:
        return None, exc.problems


def _print_problems(path: str, label: str, problems: Sequence[Problem]) -> None:
    for p in problems:
        print(f"{path}: {label} {p.code} {p.path or '/'}: {p.message}")


def _check(args: argparse.Namespace) -> int:
    failed = 0
    report = []
    for path in args.files:
        doc, errors = _read(path, args.strict)
        failed += doc is None
        if args.json:
            report.append(
                {
                    "file": path,
                    "ok": doc is not None,
                    "errors": [p.as_dict() for p in errors],
                    "warnings": [p.as_dict() for p in (doc.warnings if doc else ())],
                    "flows": len(doc.flows) if doc else None,
                    "aces": doc.ace_count if doc else None,
                }
            )
            continue
        if doc is None:
            print(f"FAIL {path}")
            _print_problems(path, "error", errors)
        else:
            print(f"OK {path}: {doc.ace_count} ACEs, {len(doc.flows)} flows, {len(doc.warnings)} warnings")
            _print_problems(path, "warning", doc.warnings)
    if args.json:
        print(json.dumps(report, indent=2))
    return 1 if failed else 0


def _normalize(args: argparse.Namespace) -> int:
    doc, errors = _read(args.file, args.strict)
    if doc is None:
        if args.json:
            print(json.dumps({"file": args.file, "ok": False, "errors": [p.as_dict() for p in errors]}, indent=2))
        else:
            _print_problems(args.file, "error", errors)
        return 1
    out = emit(doc.meta, doc.flows)
    if args.output and args.output != "-":
        Path(args.output).write_bytes(out)
    elif not args.json:
        sys.stdout.buffer.write(out)
    if args.json:
        report = {"file": args.file, "ok": True, "warnings": [p.as_dict() for p in doc.warnings]}
        if not args.output or args.output == "-":
            report["mud"] = json.loads(out)
        print(json.dumps(report, indent=2))
    elif args.output and args.output != "-":
        _print_problems(args.file, "warning", doc.warnings)
    return 0


def _diff(args: argparse.Namespace) -> int:
    docs = []
    for path in (args.a, args.b):
        doc, errors = _read(path, args.strict)
        if doc is None:
            _print_problems(path, "error", errors)
            return 2
        docs.append(doc)
    result = diff(docs[0], docs[1])
    if args.json:
        print(json.dumps(result.as_dict(), indent=2))
    else:
        for flow in result.removed:
            print(f"- {flow.key}")
        for flow in result.added:
            print(f"+ {flow.key}")
        changes = result.as_dict()["meta_changes"]
        assert isinstance(changes, dict)
        for name, (old, new) in changes.items():
            print(f"~ {name}: {json.dumps(old)} -> {json.dumps(new)}")
    return 0 if result.empty else 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m profiles.mud", description="Read, check and compare MUD files.")
    commands = parser.add_subparsers(dest="command", required=True)

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text)
        sub.add_argument("--strict", action="store_true", help="RFC 8520 only: refuse the dialects of real files")
        sub.add_argument("--json", action="store_true", help="machine-readable output")
        return sub

    check = command("check", "print each file's problems; exit 1 if any file fails")
    check.add_argument("files", nargs="+", metavar="FILE")
    normalize = command("normalize", "write the canonical RFC 8520 form of a file")
    normalize.add_argument("file", metavar="FILE")
    normalize.add_argument("-o", "--output", metavar="OUT", help="write here instead of standard output")
    compare = command("diff", "print the flows added and removed from A to B; exit 1 if they differ")
    compare.add_argument("a", metavar="A")
    compare.add_argument("b", metavar="B")

    args = parser.parse_args(argv)
    handler = {"check": _check, "normalize": _normalize, "diff": _diff}[args.command]
    return handler(args)


if __name__ == "__main__":
    sys.exit(main())
