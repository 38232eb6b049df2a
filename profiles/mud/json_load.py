"""Read bytes into JSON values without trusting them: size, encoding, depth, duplicate keys."""

from __future__ import annotations

import json
import re
from typing import Any

from .collector import Abort, Collector, pointer
from .errors import MudValidationError, Problem
from .limits import DEFAULT_LIMITS, Limits

_BOM = b"\xef\xbb\xbf"
# What load_json refuses in any string: a lone surrogate, which can only come from an escape
# (UTF-8 text cannot hold one), and the control characters but tab, line feed and carriage
# return (NUL cannot be stored in PostgreSQL text; the others belong in no name, URL or text).
# JSON text needs an escape for C0 controls; DEL and the C1 controls may also appear raw.
_SUSPECT_ESCAPE = re.compile(rb"\\(?:u(?:[dD][89a-fA-F]|00[0189][0-9a-fA-F]|007[fF])|[bf])")
_RAW_C1 = re.compile(rb"\xc2[\x80-\x9f]")
_BODY_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


class _DupDict(dict[str, Any]):
    """A JSON object that had a member twice; `duplicates` names them."""

    duplicates: list[str]


def _with_duplicates(d: dict[str, Any], pairs: list[tuple[str, Any]]) -> _DupDict:
    dup = _DupDict(d)
    seen: set[str] = set()
    dup.duplicates = []
    for key, _ in pairs:
        if key in seen:
            dup.duplicates.append(key)
        seen.add(key)
    return dup


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _decode_with_duplicates(text: str) -> Any:
    """The value, with every object that had a member twice a _DupDict (the slow path)."""

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        d = dict(items)
        if len(d) != len(items):
            return _with_duplicates(d, items)
        return d

    return json.loads(text, object_pairs_hook=pairs, parse_constant=_no_constant)


def _members(node: dict[str, Any] | list[Any]) -> int:
    """How many members the objects in `node` have, once decoded (a duplicate counts once)."""
    if type(node) is dict:
        count = len(node)
        values: Any = node.values()
    else:
        count = 0
        values = node
    # One level unrolled: most containers of a MUD file hold only scalars (a port, a [null]).
    for child in values:
        kind = type(child)
        if kind is dict:
            count += len(child)
            for grandchild in child.values():
                kind = type(grandchild)
                if kind is dict or kind is list:
                    count += _members(grandchild)
        elif kind is list:
            for grandchild in child:
                kind = type(grandchild)
                if kind is dict or kind is list:
                    count += _members(grandchild)
    return count


def load(data: bytes | str, col: Collector) -> Any:
    """The JSON value of `data`, with double-encoded JSON unwrapped; raises Abort on failure."""
    if isinstance(data, str):
        try:
            raw = data.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise col.fatal("not-utf8", "", f"the text cannot be encoded as UTF-8: {exc.reason}") from None
    elif isinstance(data, bytes | bytearray | memoryview):
        raw = bytes(data)
    else:
        raise col.fatal("wrong-type", "", f"expected bytes or str, got {type(data).__name__}")
    if len(raw) > col.limits.max_bytes:
        raise col.fatal("too-large", "", f"{len(raw)} bytes, more than the limit of {col.limits.max_bytes}")
    if raw.startswith(_BOM):
        col.warn("byte-order-mark", "", "a UTF-8 byte order mark was ignored")
        raw = raw[3:]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise col.fatal("not-utf8", "", f"not UTF-8 at byte {exc.start}: {exc.reason}") from None
    value = _parse_text(text, raw, col)
    if isinstance(value, str):
        # One Deepness-Lab file is the MUD JSON serialised again as a JSON string (a tool
        # called json.dumps on text). Unwrapping once is unambiguous; twice is not tolerated.
        col.dialect("dialect-double-encoded", "", "the document is a JSON string that holds the MUD JSON")
        if col.strict:
            raise Abort()
        try:
            inner = value.encode("utf-8")
        except UnicodeEncodeError:
            raise col.fatal("not-utf8", "", "the double-encoded document holds a lone surrogate") from None
        value = _parse_text(value, inner, col)
    return value


def _parse_text(text: str, raw: bytes, col: Collector) -> Any:
    try:
        # The C decoder alone: an object_pairs_hook would cost as much again as the decoding.
        value = json.loads(text, parse_constant=_no_constant)
    except RecursionError:
        raise col.fatal("too-deep", "", f"nesting deeper than {col.limits.max_depth}") from None
    except json.JSONDecodeError as exc:
        raise col.fatal("not-json", "", f"line {exc.lineno} column {exc.colno}: {exc.msg}") from None
    except ValueError as exc:  # NaN/Infinity, or an integer with more digits than Python reads
        raise col.fatal("not-json", "", str(exc)[:200]) from None
    too_deep, members = _scan(raw, col.limits.max_depth)
    if too_deep:
        raise col.fatal("too-deep", "", f"nesting deeper than {col.limits.max_depth}")
    # Every member written in the text is a name separator (":") outside the strings; a dict
    # keeps one member per distinct decoded name. Fewer members decoded than written means
    # some object had a name twice (however it was spelled): decode again, slowly, to say where.
    if (type(value) is dict or type(value) is list) and _members(value) != members:
        _report_duplicates(_decode_with_duplicates(text), "", col)
        if not col.errors:  # pragma: no cover - the two counts disagree only on duplicates
            col.error("internal-error", "", "member count mismatch without a duplicate key")
        raise Abort()
    return value


_KEEP_STRUCTURE = bytes(c for c in range(256) if c not in b'"[]{}:')
_BRACKETS_ONLY = bytes(c for c in range(256) if c not in b"[]{}")
_STRING_WITH_STRUCTURE = re.compile(rb'"[^"]*"')


def _scan(raw: bytes, limit: int) -> tuple[bool, int]:
    """Whether valid JSON text nests deeper than `limit`, and how many object members it writes.

    Computed on the text (faster than a walk). Escaped backslashes, then escaped quotes, are
    removed first, so that what is left between two quotes is exactly a string's brackets and
    colons, which do not count. Outside strings a colon separates a member name from its value.
    Then each round removes the innermost bracket pairs: the number of rounds that leave
    something is the depth.
    """
    if b"\\" in raw:
        raw = raw.replace(b"\\\\", b"").replace(b'\\"', b"")
    reduced = raw.translate(None, _KEEP_STRUCTURE)
    reduced = reduced.replace(b'""', b"")
    if b'"' in reduced:
        reduced = _STRING_WITH_STRUCTURE.sub(b"", reduced)
    members = reduced.count(b":")
    if members:
        reduced = reduced.translate(None, _BRACKETS_ONLY)
    for _ in range(limit):
        if not reduced:
            return False, members
        # A stand-in keeps "{[]}" from losing two levels in one round.
        reduced = reduced.replace(b"[]", b".").replace(b"{}", b".").replace(b".", b"")
    return bool(reduced), members


def _report_duplicates(node: Any, path: str, col: Collector) -> None:
    if isinstance(node, dict):
        if type(node) is _DupDict:
            for key in node.duplicates:
                col.error("duplicate-key", pointer(path, key), "this member appears more than once")
        for key, child in node.items():
            _report_duplicates(child, pointer(path, key), col)
    elif isinstance(node, list):
        for i, child in enumerate(node):
            _report_duplicates(child, pointer(path, i), col)


def load_json(raw: bytes, limits: Limits = DEFAULT_LIMITS) -> Any:
    """Any JSON document (an API request body), read as strictly as a MUD file is.

    Raises MudValidationError listing every problem: not UTF-8, not JSON, too large or too
    deep, a member twice in one object (`duplicate-key`: the last one would silently win, so
    the bytes kept would not be the document validated), a lone surrogate escape in a name
    or a string (`invalid-string`: no UTF-8 text, database or JSON encoder can hold it), a
    control character but tab, line feed and carriage return (`control-character`: NUL
    cannot be stored in PostgreSQL text, and none belongs in a name, URL or text). Paths and
    messages never carry a surrogate itself, so the error can always be encoded.
    """
    col = Collector("strict", limits)
    try:
        if len(raw) > limits.max_bytes:
            raise col.fatal("too-large", "", f"{len(raw)} bytes, more than the limit of {limits.max_bytes}")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise col.fatal("not-utf8", "", f"not UTF-8 at byte {exc.start}: {exc.reason}") from None
        value = _parse_text(text, raw, col)
    except Abort:
        raise MudValidationError([_printable(p) for p in col.errors]) from None
    if _suspect(raw):
        _report_bad_strings(value, "", col)
        if col.errors:
            raise MudValidationError(col.errors)
    return value


def _suspect(raw: bytes) -> bool:
    """Whether the text may hold a string load_json refuses (cheap; a yes is checked value by value)."""
    if b"\\" in raw and _SUSPECT_ESCAPE.search(raw):
        return True
    return b"\x7f" in raw or (b"\xc2" in raw and _RAW_C1.search(raw) is not None)


def _escaped(text: str) -> str:
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _printable(problem: Problem) -> Problem:
    return Problem(problem.code, _escaped(problem.path), _escaped(problem.message))


def _string_problem(text: str) -> tuple[str, str] | None:
    if text.isprintable():  # neither a control character nor a surrogate
        return None
    if _BODY_CONTROL.search(text):
        return "control-character", "a control character (other than tab, line feed, carriage return)"
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return "invalid-string", "a lone surrogate escape (\\uD800-\\uDFFF alone)"
    return None


def _report_bad_strings(node: Any, path: str, col: Collector) -> None:
    if isinstance(node, dict):
        for key, child in node.items():
            here = pointer(path, _escaped(key))
            if (found := _string_problem(key)) is not None:
                col.error(found[0], here, f"the member name {_escaped(key)!r} holds {found[1]}")
            _report_bad_strings(child, here, col)
    elif isinstance(node, list):
        for i, child in enumerate(node):
            _report_bad_strings(child, pointer(path, i), col)
    elif isinstance(node, str) and (found := _string_problem(node)) is not None:
        col.error(found[0], path, f"the string holds {found[1]}")
