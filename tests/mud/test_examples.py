"""The hand-written examples of ../shared/tools/mud-examples: strict agrees with validate-mud."""

from __future__ import annotations

import pytest

from profiles.mud import MudValidationError, parse
from tests.support import MUD_EXAMPLES, require_shared

# One pinned code per invalid file: what strict reports for what yanglint refuses.
INVALID = {
    "invalid-cache-validity-500.json": "out-of-range",
    "invalid-dangling-acl-name.json": "dangling-acl-name",
    "invalid-dnsname-number.json": "wrong-type",
    "invalid-dnsname-syntax.json": "invalid-dnsname",
    "invalid-is-supported-string.json": "wrong-type",
    "invalid-missing-mud-version.json": "missing-member",
    "invalid-no-mud-container.json": "missing-mud-container",
    "invalid-unknown-leaf.json": "unknown-member",
}
VALID = {"valid-minimal.json": 2, "valid-lightbulb.json": 8}


def test_every_example_file_is_pinned() -> None:
    require_shared()
    assert {p.name for p in MUD_EXAMPLES.glob("*.json")} == set(INVALID) | set(VALID)


@pytest.mark.parametrize(("name", "flows"), sorted(VALID.items()))
def test_strict_accepts_the_valid_examples(name: str, flows: int) -> None:
    require_shared()
    assert len(parse((MUD_EXAMPLES / name).read_bytes(), mode="strict").flows) == flows


@pytest.mark.parametrize(("name", "code"), sorted(INVALID.items()))
def test_strict_rejects_the_invalid_examples(name: str, code: str) -> None:
    require_shared()
    with pytest.raises(MudValidationError) as info:
        parse((MUD_EXAMPLES / name).read_bytes(), mode="strict")
    assert info.value.codes == [code]


def test_the_lightbulb_drop_ace_is_a_warning_not_a_flow() -> None:
    require_shared()
    document = parse((MUD_EXAMPLES / "valid-lightbulb.json").read_bytes(), mode="strict")
    assert document.ace_count == 9
    assert [w.path for w in document.warnings if w.code == "ace-not-accept"] == [
        "/ietf-access-control-list:acls/acl/3/aces/ace/3/actions/forwarding"
    ]
