"""Every public MUD file of ../shared/datasets/mud-real imports, and normalises to valid RFC 8520."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from profiles.mud import MudValidationError, emit, parse
from tests.support import DATASET, require_shared, require_validate_mud

# SOURCES.md names MUDFILE.NEST as pre-RFC draft syntax. It also calls osmud's
# test/lightbulb2000.json "the RFC 8520 example", but that file is draft syntax too
# (acl-type, access-list-entries, rule-name, ipv6-acl with *-port-range-or-operator), and
# validate-mud refuses it; import rejects both with the pre-RFC message.
PRE_RFC = {"osmud-examples/example/MUDFILE.NEST", "osmud-examples/test/lightbulb2000.json"}

# (ACEs in the file, flows) counted by hand for a few files. Where they differ the note says why.
PINNED = {
    # 19 + 15 + 4 ACEs in three ACLs, every one a different flow
    "iot-onboarding-mudfiles/unsw/HueBulbMud.json": (38, 38),
    # 29 + 26 ipv4 ACEs and 2 eth ACEs (ethernet-acl-type, hex ethertypes)
    "iot-onboarding-mudfiles/unsw/amazonEchoMud.json": (57, 57),
    # one ACE per ACL, four ACLs (RFC-style MUD Maker output)
    "mudmaker-examples/cloud-service.json": (4, 4),
    # 16 + 14 ACEs; 8 pairs differ only in DNS-name case (dc.cOnnECt.SmartThINgS.coM) and collapse
    "deepness-lab-iot-mud-locations/smartthings_hub_merged_uk/smartthings_hub_merged_ukMud.json": (30, 22),
    # 4 ACEs, one names *.ot.io.mi.com: a wildcard, skipped on import
    "deepness-lab-iot-mud-locations/mi_bolb_hk/mi_bolb_hkMud_test.json": (4, 3),
    # 65 ACEs, one puts the IPv4 address 192.168.1.1 in destination-ipv6-network: skipped
    "iot-onboarding-mudfiles/unsw/augustdoorbellcamMud.json": (65, 64),
    # the double-encoded file: 18 ACEs
    "deepness-lab-iot-mud-locations/ch_imilab_xiaomi_camera/camera_home_2021-04-03_025606.json": (18, 18),
    # DAQ's default.json: metadata only, no mud-url, no policies
    "faucetsdn-daq-mud-files/default.json": (0, 0),
}


def _files() -> list[Path]:
    if not DATASET.is_dir():
        return []
    return sorted(p for p in DATASET.rglob("*") if p.is_file() and p.name != "SOURCES.md")


def _name(path: Path) -> str:
    return path.relative_to(DATASET).as_posix()


def test_the_dataset_is_there_and_complete() -> None:
    require_shared()
    names = {_name(p) for p in _files()}
    assert len(names) == 155
    assert names >= PRE_RFC
    assert set(PINNED) <= names


def test_every_real_file_imports_except_the_pre_rfc_ones() -> None:
    require_shared()
    failures = {}
    for path in _files():
        try:
            parse(path.read_bytes())
        except MudValidationError as exc:
            failures[_name(path)] = exc
    assert set(failures) == PRE_RFC
    for exc in failures.values():
        assert set(exc.codes) == {"pre-rfc-draft"}
        assert "pre-RFC draft syntax" in exc.problems[0].message


@pytest.mark.parametrize(("name", "counts"), sorted(PINNED.items()))
def test_flow_counts_match_the_aces_the_file_declares(name: str, counts: tuple[int, int]) -> None:
    require_shared()
    document = parse((DATASET / name).read_bytes())
    assert (document.ace_count, len(document.flows)) == counts


def test_normalised_real_files_round_trip_and_pass_validate_mud(tmp_path: Path) -> None:
    require_shared()
    validate = require_validate_mud()
    written = []
    for i, path in enumerate(_files()):
        if _name(path) in PRE_RFC:
            continue
        document = parse(path.read_bytes())
        out = emit(document.meta, document.flows)
        assert out == emit(document.meta, sorted(document.flows, key=lambda f: f.key, reverse=True))
        again = parse(out)
        assert again.flows == document.flows, _name(path)
        assert emit(again.meta, again.flows) == out
        target = tmp_path / f"{i:03d}.json"
        target.write_bytes(out)
        written.append(str(target))
    # One validate-mud run for all files keeps this test fast.
    result = subprocess.run([sys.executable, str(validate), *written], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.count("OK ") == len(written) == 153


def test_strict_accepts_the_normalised_files_whose_mud_url_is_a_dns_name() -> None:
    require_shared()
    for path in _files():
        if _name(path) in PRE_RFC:
            continue
        document = parse(path.read_bytes())
        out = emit(document.meta, document.flows)
        try:
            parse(out, mode="strict")
        except MudValidationError as exc:
            # MUDgee's made-up URLs (https://amazon_echo.com/...) are kept as they are.
            assert exc.codes == ["dialect-mud-url-host"], (_name(path), exc.problems)
