"""`python -m gateway.collect`: the outputs, the summary, the exit status."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from gateway.collect.submit import collector_id
from profiles.mud import parse
from profiles.services.native_flows import flows_from_native
from tests.gateway.collect.helpers import collected
from tests.gateway.collect.traffic import BROADCAST, DEVICE_MAC, OTHER_MAC, T0, Traffic
from tests.support import ROOT, require_validate_mud


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "gateway.collect", *args], capture_output=True, text=True, env=env, cwd=cwd or ROOT,
        timeout=120,
    )  # fmt: skip


def _traffic() -> Traffic:
    traffic = Traffic()
    traffic.dhcp(T0)
    traffic.dns(T0 + 1, "api.example.com", [("A", "api.example.com", "192.0.2.10", 300)])
    traffic.tcp(T0 + 2, "192.0.2.10", 443)
    traffic.tcp(T0 + 3, "203.0.113.5", 8883)
    traffic.multicast(T0 + 4, "239.255.255.250", 1900, "01:00:5e:7f:ff:fa")
    traffic.multicast(T0 + 5, "255.255.255.255", 9999, BROADCAST)
    traffic.arp(T0 + 6, "192.168.1.1")
    return traffic


def test_flows_and_mud_outputs_hold_exactly_the_collected_flows(tmp_path: Path) -> None:
    validate = require_validate_mud()
    traffic = _traffic()
    capture = traffic.write_pcap(tmp_path / "c.pcap")
    done = run(str(capture), "--device-mac", DEVICE_MAC, "--flows", str(tmp_path / "flows.json"),
               "--mud", str(tmp_path / "mud.json"), "--manufacturer", "TP-Link", "--model", "HS110")  # fmt: skip
    assert done.returncode == 0, done.stderr
    expected = collected(traffic, tmp_path).flow_set
    flows, problems = flows_from_native(json.loads((tmp_path / "flows.json").read_text()))
    assert problems == [] and flows == expected
    document = parse((tmp_path / "mud.json").read_bytes(), mode="strict")
    assert document.flows == expected
    assert (document.meta.mfg_name, document.meta.model_name) == ("TP-Link", "HS110")
    checked = subprocess.run([sys.executable, str(validate), str(tmp_path / "mud.json")], capture_output=True)
    assert checked.returncode == 0, checked.stderr
    # The summary: every flow with its tallies, and the warnings.
    assert f"flows ({len(expected)}):" in done.stderr
    assert "ip-literal: TCP 8883 to 203.0.113.5" in done.stderr
    assert done.stdout == ""


def test_a_truncated_capture_exits_2_with_the_summary_of_what_was_read_and_writes_nothing(tmp_path: Path) -> None:
    capture = _traffic().write_pcap(tmp_path / "c.pcap")
    cut = tmp_path / "cut.pcap"
    cut.write_bytes(capture.read_bytes()[:-10])
    done = run(str(cut), "--device-mac", DEVICE_MAC, "--flows", str(tmp_path / "flows.json"))
    assert done.returncode == 2
    assert "error: " in done.stderr and "truncated capture" in done.stderr
    assert "what was read before the error:" in done.stderr and "dnsname=api.example.com" in done.stderr
    assert not (tmp_path / "flows.json").exists()
    kept = run(str(cut), "--device-mac", DEVICE_MAC, "--flows", str(tmp_path / "flows.json"), "--partial")
    assert kept.returncode == 2 and json.loads((tmp_path / "flows.json").read_text())


def test_no_packet_of_the_device_writes_nothing_and_says_why(tmp_path: Path) -> None:
    capture = _traffic().write_pcap(tmp_path / "c.pcap")
    done = run(str(capture), "--device-mac", OTHER_MAC, "--mud", str(tmp_path / "mud.json"))
    assert done.returncode == 2
    assert "no-device-packets" in done.stderr and "nothing written" in done.stderr
    assert not (tmp_path / "mud.json").exists()


def test_the_progress_bar_goes_to_stderr_when_asked(tmp_path: Path) -> None:
    capture = _traffic().write_pcap(tmp_path / "c.pcap")
    done = run(str(capture), "--device-mac", DEVICE_MAC, "--progress")
    assert done.returncode == 0
    assert "reading: 100%" in done.stderr
    quiet = run(str(capture), "--device-mac", DEVICE_MAC)
    assert "reading" not in quiet.stderr  # not a terminal, not asked


def test_usage_errors_exit_2_with_the_reason(tmp_path: Path) -> None:
    capture = _traffic().write_pcap(tmp_path / "c.pcap")
    assert "--device-mac or --device-ip" in run(str(capture)).stderr
    done = run(str(capture), "--device-mac", DEVICE_MAC, "--submit", "http://127.0.0.1:9/")
    assert done.returncode == 2 and "--submit needs --token, --manufacturer and --model" in done.stderr
    assert "is not a MAC address" in run(str(capture), "--device-mac", "nonsense").stderr
    assert "is not a UTC offset" in run(str(capture), "--device-mac", DEVICE_MAC, "--log-utc-offset", "1h").stderr
    assert run(str(capture), "--device-mac", DEVICE_MAC, "--log-utc-offset=-05:30").returncode == 0


def test_the_collector_id_is_made_once_and_kept_in_the_state_file(tmp_path: Path) -> None:
    state = tmp_path / "state" / "collect.json"
    first = collector_id(state)
    assert first.startswith("collect-") and collector_id(state) == first
    assert json.loads(state.read_text()) == {"collector": first}
    assert collector_id(tmp_path / "other.json") != first
