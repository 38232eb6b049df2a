"""Read bytes into JSON values without trusting them: size, encoding, depth, duplicate keys."""

from __future__ import annotations

import json
import re
from typing import Any

from .collector import Abort, Collector, pointer

_BOM = b"\xef\xbb\xbf"


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


def _decode(text: str) -> tuple[Any, bool]:
    """The value and whether some object had a duplicate member."""
    duplicates: list[bool] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        d = dict(items)
        if len(d) != len(items):
            duplicates.append(True)
            return _with_duplicates(d, items)
        return d

    return json.loads(text, object_pairs_hook=pairs, parse_constant=_no_constant), bool(duplicates)


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
        value, duplicates = _decode(text)
    except RecursionError:
        raise col.fatal("too-deep", "", f"nesting deeper than {col.limits.max_depth}") from None
    except json.JSONDecodeError as exc:
        raise col.fatal("not-json", "", f"line {exc.lineno} column {exc.colno}: {exc.msg}") from None
    except ValueError as exc:  # NaN/Infinity, or an integer with more digits than Python reads
        raise col.fatal("not-json", "", str(exc)[:200]) from None
    if _deeper_than(raw, col.limits.max_depth):
        raise col.fatal("too-deep", "", f"nesting deeper than {col.limits.max_depth}")
    if duplicates:
        _report_duplicates(value, "", col)
        raise Abort()
    return value


_KEEP_BRACKETS_AND_QUOTES = bytes(c for c in range(256) if c not in b'"[]{}')
_BRACKETS_ONLY = bytes(c for c in range(256) if c not in b"[]{}")
_STRING_WITH_BRACKETS = re.compile(rb'"[^"]*"')


def _deeper_than(raw: bytes, limit: int) -> bool:
    """Whether valid JSON text nests deeper than `limit`, computed on the text (faster than a walk).

    Escaped backslashes, then escaped quotes, are removed first, so that what is left between
    two quotes is exactly a string's brackets, which do not count. Then each round removes the
    innermost bracket pairs: the number of rounds that leave something is the depth.
    """
    if b"\\" in raw:
        raw = raw.replace(b"\\\\", b"").replace(b'\\"', b"")
    reduced = raw.translate(None, _KEEP_BRACKETS_AND_QUOTES)
    reduced = reduced.replace(b'""', b"")
    if b'"' in reduced:
        reduced = _STRING_WITH_BRACKETS.sub(b"", reduced)
    reduced = reduced.translate(None, _BRACKETS_ONLY)
    for _ in range(limit):
        if not reduced:
            return False
        # A stand-in keeps "{[]}" from losing two levels in one round.
        reduced = reduced.replace(b"[]", b".").replace(b"{}", b".").replace(b".", b"")
    return bool(reduced)


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
