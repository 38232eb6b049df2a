"""Dangerous values: only the URI schemes RFC 8520 values can mean, no control characters."""

from __future__ import annotations

import pytest

from profiles.mud import MudValidationError, parse
from profiles.mud.values import ValueProblem, check_peer_uri, check_uri_scheme

from .helpers import doc, dump, first_ace

BAD_SCHEMES = ["javascript:alert(1)", "JavaScript:alert(1)", "data:text/html,<script>x</script>",
               "file:///etc/passwd", "vbscript:msgbox", "ftp://files.example.com/x"]  # fmt: skip


def problems(d: object, mode: str = "import") -> list[tuple[str, str]]:
    with pytest.raises(MudValidationError) as info:
        parse(dump(d), mode=mode)  # type: ignore[arg-type]
    return [(p.code, p.path) for p in info.value.problems]


@pytest.mark.parametrize("mode", ["strict", "import"])
@pytest.mark.parametrize("member", ["documentation", "mud-signature"])
@pytest.mark.parametrize("value", BAD_SCHEMES)
def test_a_metadata_uri_with_a_scheme_a_browser_could_run_is_refused(mode: str, member: str, value: str) -> None:
    d = doc()
    d["ietf-mud:mud"][member] = value
    assert problems(d, mode) == [("invalid-uri-scheme", f"/ietf-mud:mud/{member}")]


def test_documentation_may_be_http_or_https_and_the_signature_only_https() -> None:
    d = doc()
    d["ietf-mud:mud"]["documentation"] = "http://docs.example.com/sensor"
    d["ietf-mud:mud"]["mud-signature"] = "https://things.example.com/sensor-1.p7s"
    meta = parse(dump(d), mode="strict").meta
    assert meta.documentation == "http://docs.example.com/sensor"
    d["ietf-mud:mud"]["mud-signature"] = "http://things.example.com/sensor-1.p7s"
    assert problems(d) == [("invalid-uri-scheme", "/ietf-mud:mud/mud-signature")]


@pytest.mark.parametrize("key", ["model", "controller"])
@pytest.mark.parametrize("value", BAD_SCHEMES)
def test_a_model_or_controller_peer_with_a_dangerous_scheme_is_refused(key: str, value: str) -> None:
    d = doc()
    first_ace(d)["matches"] = {"ietf-mud:mud": {key: value}}
    found = problems(d)
    assert [code for code, _ in found] == ["invalid-uri-scheme"]
    assert found[0][1].endswith("/matches/ietf-mud:mud/" + key)


@pytest.mark.parametrize(
    ("kind", "value"),
    [("controller", "urn:ietf:params:mud:dns"), ("controller", "https://controller.nist.local"),
     ("controller", "bacnet"), ("controller", "remote-host"), ("model", "https://toothbrush.nist.local/super1")],
)  # fmt: skip
def test_the_peer_uris_real_files_use_are_accepted(kind: str, value: str) -> None:
    assert check_peer_uri(kind, value) == value


@pytest.mark.parametrize(
    ("kind", "value", "code"),
    [("model", "urn:ietf:params:mud:dns", "invalid-uri-scheme"), ("model", "bacnet", "invalid-uri"),
     ("controller", "http://controller.example", "invalid-uri-scheme"), ("model", "https:///no-host", "invalid-uri"),
     ("controller", "bac net", "invalid-uri"), ("controller", "x\u0000y", "invalid-uri")],
)  # fmt: skip
def test_peer_uris_outside_what_rfc_8520_means_are_refused(kind: str, value: str, code: str) -> None:
    with pytest.raises(ValueProblem) as info:
        check_peer_uri(kind, value)
    assert info.value.code == code


def test_the_message_says_which_schemes_are_allowed() -> None:
    with pytest.raises(ValueProblem, match="a documentation is a https: or http: URI, not javascript:"):
        check_uri_scheme("javascript:alert(1)", ("https", "http"), "documentation")


@pytest.mark.parametrize("member", ["mfg-name", "model-name", "systeminfo", "firmware-rev", "software-rev"])
@pytest.mark.parametrize("char", ["\x00", "\x1b", "\n", "\t", "\x7f", "\x85"])
def test_a_control_character_in_a_metadata_string_is_refused(member: str, char: str) -> None:
    d = doc()
    d["ietf-mud:mud"][member] = f"Acme{char}Corp"
    assert problems(d) == [("control-character", f"/ietf-mud:mud/{member}")]


@pytest.mark.parametrize("char", ["\x00", "\n", "\x9f"])
def test_a_control_character_in_an_ace_name_is_refused(char: str) -> None:
    d = doc()
    first_ace(d)["name"] = f"ace{char}1"
    assert [code for code, _ in problems(d)] == ["control-character"]


def test_printable_unicode_stays_welcome() -> None:
    d = doc()
    d["ietf-mud:mud"]["systeminfo"] = "Caméra 📷\u00a0intérieure"
    assert parse(dump(d), mode="strict").meta.systeminfo == "Caméra 📷\u00a0intérieure"
