"""Read bytes into JSON values without trusting them: size, encoding, depth, duplicate keys."""

from __future__ import annotations

import json
from typing import Any

from .collector import Abort, Collector, pointer

_BOM = b"\xef\xbb\xbf"


class _DupDict(dict[str, Any]):
    """A JSON object that had a member twice; `duplicates` names them."""

    duplicates: list[str]


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    d = dict(pairs)
    if len(d) != len(pairs):
        dup = _DupDict(d)
        seen: set[str] = set()
        dup.duplicates = [k for k, _ in pairs if k in seen or seen.add(k)]  # type: ignore[func-returns-value]
        return dup
    return d


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _decode(text: str) -> Any:
    return json.loads(text, object_pairs_hook=_pairs, parse_constant=_no_constant)


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
    value = _parse_text(text, col)
    if isinstance(value, str):
        # One Deepness-Lab file is the MUD JSON serialised again as a JSON string (a tool
        # called json.dumps on text). Unwrapping once is unambiguous; twice is not tolerated.
        col.dialect("dialect-double-encoded", "", "the document is a JSON string that holds the MUD JSON")
        if col.strict:
            raise Abort()
        value = _parse_text(value, col)
    _check_shape(value, col)
    return value


def _parse_text(text: str, col: Collector) -> Any:
    try:
        return _decode(text)
    except RecursionError:
        raise col.fatal("too-deep", "", f"nesting deeper than {col.limits.max_depth}") from None
    except json.JSONDecodeError as exc:
        raise col.fatal("not-json", "", f"line {exc.lineno} column {exc.colno}: {exc.msg}") from None
    except ValueError as exc:  # NaN/Infinity, or an integer with more digits than Python reads
        raise col.fatal("not-json", "", str(exc)[:200]) from None


def _check_shape(value: Any, col: Collector) -> None:
    """Depth limit and duplicate members, over the whole document (unknown members included)."""
    limit = col.limits.max_depth
    found_dup = False
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            raise col.fatal("too-deep", "", f"nesting deeper than {limit}")
        children = node.values() if isinstance(node, dict) else node
        if type(node) is _DupDict:
            found_dup = True
        for child in children:
            if isinstance(child, dict | list):
                stack.append((child, depth + 1))
    if found_dup:
        _report_duplicates(value, "", col)
        raise Abort()


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
