"""mudhub-sync installs with pip from the repository, as a console script, without Django."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.support import ROOT


def test_pip_installs_the_mudhub_sync_console_script(tmp_path: Path) -> None:
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
    assert (site / "gateway" / "sync" / "client.py").is_file()
    assert (site / "profiles" / "signing" / "verify.py").is_file()
    assert not (site / "profiles" / "services").exists()
    env = {**os.environ, "PYTHONPATH": str(site)}
    done = subprocess.run(
        [str(site / "bin" / "mudhub-sync"), "--help"], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert "--mirror" in done.stdout
    usage = subprocess.run(
        [str(site / "bin" / "mudhub-sync"), "--server", "http://127.0.0.1:9", "--cert", str(tmp_path / "none.pem"),
         "--dest", str(tmp_path / "d")],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60,
    )  # fmt: skip
    assert usage.returncode == 2 and "no pinned certificate" in usage.stderr
