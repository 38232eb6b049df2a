from __future__ import annotations

import json
from pathlib import Path

import pytest

from profiles.mud import parse
from profiles.mud.__main__ import main
from tests.support import DATASET, MUD_EXAMPLES, require_shared

from .helpers import doc, dump, first_ace


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    a, b, bad = tmp_path / "a.json", tmp_path / "b.json", tmp_path / "bad.json"
    a.write_bytes(dump(doc()))
    changed = doc()
    first_ace(changed)["matches"]["tcp"]["destination-port"]["port"] = 8443
    b.write_bytes(dump(changed))
    bad.write_bytes(b'{"ietf-mud:mud": 1}')
    return {"a": a, "b": b, "bad": bad}


def test_check_exits_0_when_every_file_parses(files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(files["a"]), str(files["b"])]) == 0
    assert capsys.readouterr().out.count("OK ") == 2


def test_check_exits_1_when_any_file_fails(files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(files["a"]), str(files["bad"])]) == 1
    assert "error wrong-type /ietf-mud:mud" in capsys.readouterr().out


def test_check_json_lists_problems_with_codes_and_paths(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", "--json", str(files["bad"]), str(files["a"])]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report[0]["ok"] is False and report[0]["errors"][0]["path"] == "/ietf-mud:mud"
    assert report[1]["ok"] is True and report[1]["flows"] == 2


def test_check_strict_refuses_dialects(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    require_shared()
    path = DATASET / "iot-onboarding-mudfiles/unsw/HueBulbMud.json"
    assert main(["check", str(path)]) == 0
    assert main(["check", "--strict", str(path)]) == 1
    assert "dialect-access-lists" in capsys.readouterr().out


def test_check_reports_an_unreadable_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(tmp_path / "missing.json")]) == 1
    assert "unreadable" in capsys.readouterr().out


def test_normalize_writes_the_canonical_form(files: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    assert main(["normalize", str(files["a"]), "-o", str(out)]) == 0
    assert parse(out.read_bytes(), mode="strict").flows == parse(files["a"].read_bytes()).flows


def test_normalize_to_stdout_and_as_json(files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    require_shared()
    assert main(["normalize", str(MUD_EXAMPLES / "valid-minimal.json")]) == 0
    assert json.loads(capsys.readouterr().out)["ietf-mud:mud"]["mud-version"] == 1
    assert main(["normalize", "--json", str(files["a"])]) == 0
    assert json.loads(capsys.readouterr().out)["mud"]["ietf-access-control-list:acls"]
    assert main(["normalize", str(files["bad"])]) == 1


def test_diff_exits_0_when_equal_and_1_when_not(files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["diff", str(files["a"]), str(files["a"])]) == 0
    assert main(["diff", str(files["a"]), str(files["b"])]) == 1
    out = capsys.readouterr().out
    assert "+ from-device ipv4 dnsname=cloud.example.com proto=6 dport=eq8443" in out
    assert "- from-device ipv4 dnsname=cloud.example.com proto=6 dport=eq443" in out
    assert main(["diff", "--json", str(files["b"]), str(files["a"])]) == 1
    assert len(json.loads(capsys.readouterr().out)["added"]) == 1
