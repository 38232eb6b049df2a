"""mudhub-collect is installable with pip from the repository, and needs no Django."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.gateway.collect.traffic import DEVICE_MAC, T0, Traffic
from tests.support import ROOT

SERVER_SIDE = ("django", "rest_framework", "celery", "knox", "psycopg", "redis")


def test_pip_installs_the_mudhub_collect_console_script_and_it_runs(tmp_path: Path) -> None:
    source = tmp_path / "source"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(
        ".venv", ".git", "var", "__pycache__", "build", "*.egg-info", ".*_cache", ".hypothesis",
    ))  # fmt: skip
    site = tmp_path / "site"
    installed = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation", "--target",
         str(site), str(source)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert installed.returncode == 0, installed.stderr
    assert (site / "gateway" / "collect" / "observe.py").is_file() and (site / "profiles" / "mud" / "emit.py").is_file()
    assert not (site / "profiles" / "models").exists() and not (site / "tests").exists()

    traffic = Traffic()
    traffic.tcp(T0, "192.0.2.10", 443)
    capture = traffic.write_pcap(tmp_path / "c.pcap")
    env = {**os.environ, "PYTHONPATH": str(site)}
    done = subprocess.run(
        [str(site / "bin" / "mudhub-collect"), str(capture), "--device-mac", DEVICE_MAC, "--flows", "out.json"],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert '"dst_port": 443' in (tmp_path / "out.json").read_text()


def test_the_collector_imports_no_server_side_package() -> None:
    probe = (
        "import sys, gateway.collect, gateway.collect.cli\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {SERVER_SIDE!r}))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
