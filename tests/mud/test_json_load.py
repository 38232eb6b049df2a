"""load_json: any JSON document (an API body) read as strictly as a MUD file."""

from __future__ import annotations

import json

import pytest

from profiles.mud import Limits, MudValidationError, load_json


def problems(raw: bytes) -> list[tuple[str, str]]:
    with pytest.raises(MudValidationError) as info:
        load_json(raw)
    return [(p.code, p.path) for p in info.value.problems]


def test_it_reads_plain_json() -> None:
    assert load_json(b'{"a": [1, {"b": "\\u00e9\\ud83d\\ude00"}]}') == {"a": [1, {"b": "é😀"}]}


def test_it_lists_every_duplicate_key_at_any_depth() -> None:
    raw = b'{"a": 1, "a": 2, "list": [{"x": {"deep": 1, "deep": 2}}], "o": {"k": 1, "k": 1}}'
    assert sorted(problems(raw)) == [("duplicate-key", "/a"), ("duplicate-key", "/list/0/x/deep"),
                                     ("duplicate-key", "/o/k")]  # fmt: skip


def test_a_key_spelled_twice_with_escapes_is_a_duplicate() -> None:
    assert problems(b'{"ab": 1, "a\\u0062": 2}') == [("duplicate-key", "/ab")]


def test_it_finds_every_lone_surrogate_in_names_and_values() -> None:
    raw = b'{"flows": [{"peer": "\\ud800"}], "\\udfff": {"ok": "\\udbff x"}, "pair": "\\ud83d\\ude00"}'
    found = problems(raw)
    assert found == [("invalid-string", "/flows/0/peer"), ("invalid-string", "/\\udfff"),
                     ("invalid-string", "/\\udfff/ok")]  # fmt: skip


def test_problem_paths_and_messages_can_always_be_encoded() -> None:
    with pytest.raises(MudValidationError) as info:
        load_json(b'{"\\ud800": 1, "\\ud800": 2}')
    for item in info.value.problems:
        json.dumps(item.as_dict(), ensure_ascii=False).encode("utf-8")
    assert info.value.codes == ["duplicate-key"]


def test_an_escaped_backslash_before_u_is_not_a_surrogate() -> None:
    assert load_json(b'{"a": "\\\\ud800"}') == {"a": "\\ud800"}


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (b"", "not-json"),
        (b"{", "not-json"),
        (b"[NaN]", "not-json"),
        (b"\xff", "not-utf8"),
        (b"[" * 40 + b"]" * 40, "too-deep"),
        (b"1" * 5000, "not-json"),
    ],
)
def test_what_is_not_json_is_one_problem(raw: bytes, code: str) -> None:
    assert [c for c, _ in problems(raw)] == [code]


def test_it_keeps_to_the_size_limit() -> None:
    with pytest.raises(MudValidationError) as info:
        load_json(b"[1, 2, 3]", Limits(max_bytes=4))
    assert info.value.codes == ["too-large"]


@pytest.mark.parametrize(
    "raw",
    [b'{"a": "x\\u0000"}', b'{"a": "\\u001b[31m"}', b'{"a": "\\b"}', b'{"a": "\\f"}', b'{"a": "\\u007f"}',
     b'{"a": "\x7f"}', '{"a": "\u0085"}'.encode(), b'{"a": "\\u009F"}'],
)  # fmt: skip
def test_control_characters_are_refused_in_strings(raw: bytes) -> None:
    assert problems(raw) == [("control-character", "/a")]


def test_a_control_character_in_a_member_name_is_refused() -> None:
    assert problems(b'{"list": [{"a\\u0000": 1}]}') == [("control-character", "/list/0/a\x00")]


def test_tab_line_feed_and_carriage_return_are_text() -> None:
    assert load_json(b'{"reason": "one\\ttwo\\nthree\\r\\n", "x": "\\u000a\\u00a0"}')["x"] == "\n\u00a0"
