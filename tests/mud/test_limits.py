"""Limits and hostile input: each is a clear problem, never another exception."""

from __future__ import annotations

import json

import pytest

from profiles.mud import Limits, MudValidationError, parse

from .helpers import codes, doc, dump, first_ace


def test_it_rejects_input_over_the_size_limit() -> None:
    assert codes(b" " * (1024 * 1024 + 1)) == ["too-large"]
    assert codes_with(dump(doc()), Limits(max_bytes=100)) == ["too-large"]


def test_it_rejects_deep_nesting_anywhere() -> None:
    d = doc()
    d["ietf-mud:mud"]["x-extension"] = json.loads("[" * 40 + "]" * 40)
    assert codes(d, "import") == ["too-deep"]
    assert codes(b"[" * 100_000 + b"]" * 100_000, "import") == ["too-deep"]


def test_brackets_inside_strings_do_not_count_as_depth() -> None:
    d = doc()
    d["ietf-mud:mud"]["systeminfo"] = '[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[ \\" [[[[[[[[[[[[[[[['
    assert parse(dump(d)).meta.systeminfo == d["ietf-mud:mud"]["systeminfo"]


def test_it_rejects_too_many_aces_and_acls() -> None:
    d = doc()
    aces = d["ietf-access-control-list:acls"]["acl"][0]["aces"]["ace"]
    aces.extend({**aces[0], "name": f"n{i}"} for i in range(2000))
    assert codes(d, "import") == ["too-many-aces"]
    assert codes_with(dump(doc()), Limits(max_acls=1)) == ["too-many-acls"]


def test_it_rejects_names_outside_1_to_64_characters() -> None:
    d = doc()
    first_ace(d)["name"] = "x" * 65
    assert codes(d, "import") == ["name-length"]
    first_ace(d)["name"] = ""
    assert codes(d, "import") == ["name-length"]


def test_it_rejects_long_strings() -> None:
    d = doc()
    d["ietf-mud:mud"]["systeminfo"] = "x" * 5000
    assert codes(d, "import") == ["string-too-long"]


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"\xff\xfe{}", "not-utf8"),
        (b'{"a": NaN}', "not-json"),
        (b'{"a": Infinity}', "not-json"),
        (b"[1", "not-json"),
        (b"", "not-json"),
        (b"[]", "not-an-object"),
        (b"9" * 5000, "not-json"),
        (b'{"ietf-mud:mud": {}, "ietf-mud:mud": {}}', "duplicate-key"),
        ("\ud800", "not-utf8"),
    ],
)
def test_malformed_input_is_one_clear_problem(data: bytes | str, code: str) -> None:
    with pytest.raises(MudValidationError) as info:
        parse(data)
    assert info.value.codes[0] == code


def test_a_duplicate_key_is_reported_where_it_is() -> None:
    text = dump(doc()).decode().replace('"mud-version": 1', '"mud-version": 1, "mud-version": 2')
    with pytest.raises(MudValidationError) as info:
        parse(text)
    assert [(p.code, p.path) for p in info.value.problems] == [("duplicate-key", "/ietf-mud:mud/mud-version")]


@pytest.mark.parametrize(
    ("old", "new", "path"),
    [
        # the same decoded name, spelled two ways
        ('"mud-version": 1', '"mud-version": 1, "mud-\\u0076ersion": 2', "/ietf-mud:mud/mud-version"),
        # deep inside an ACE, in an object in an array
        (
            '"protocol": 6',
            '"protocol": 6, "protocol": 6',
            "/ietf-access-control-list:acls/acl/0/aces/ace/0/matches/ipv4/protocol",
        ),
        # a string with colons, brackets and escaped quotes beside the duplicate
        ('"mfg-name": "Example"', '"mfg-name": "Ex:a\\"mp:le}", "mfg-name": "x"', "/ietf-mud:mud/mfg-name"),
    ],
)
def test_every_duplicate_key_is_found(old: str, new: str, path: str) -> None:
    text = dump(doc()).decode()
    assert old in text
    with pytest.raises(MudValidationError) as info:
        parse(text.replace(old, new, 1))
    assert [(p.code, p.path) for p in info.value.problems] == [("duplicate-key", path)]


def test_colons_and_quotes_inside_strings_are_not_members() -> None:
    d = doc()
    d["ietf-mud:mud"]["systeminfo"] = 'a:b "c:d" \\" e:{f}: [g]:: \\\\'
    d["ietf-mud:mud"]["mfg-name"] = ":"
    assert parse(dump(d)).meta.systeminfo == d["ietf-mud:mud"]["systeminfo"]


def test_a_byte_order_mark_is_a_warning() -> None:
    assert "byte-order-mark" in [w.code for w in parse(b"\xef\xbb\xbf" + dump(doc())).warnings]


def test_a_lone_surrogate_in_a_string_is_refused_so_emit_can_always_encode() -> None:
    text = dump(doc()).decode().replace('"Example"', '"Ex\\ud800ample"')
    assert codes(text, "import") == ["invalid-string"]


def codes_with(data: bytes, limits: Limits) -> list[str]:
    with pytest.raises(MudValidationError) as info:
        parse(data, limits=limits)
    return info.value.codes
