"""Helpers every test module may use; no Django here, so the pure-core tests can import it.

`require()` is how a test says it needs something outside the repository: on a developer's
machine a missing thing skips the test with the reason; under CI (`CI=true`) it fails it,
so a green CI run really ran against PostgreSQL, Redis, Celery, yanglint and ../shared.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("MUDHUB_SHARED", ROOT.parent / "shared"))
DATASET = SHARED / "datasets" / "mud-real"
MUD_EXAMPLES = SHARED / "tools" / "mud-examples"
VALIDATE_MUD = SHARED / "tools" / "validate-mud"
PCAPS = SHARED / "datasets" / "pcap-iot-sentinel"


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def require(ok: bool, reason: str) -> None:
    """Skip (or, under CI, fail) the calling test unless `ok`."""
    if ok:
        return
    if in_ci():
        pytest.fail(f"CI=true and this test's requirement is missing: {reason}", pytrace=False)
    pytest.skip(reason)


def require_shared() -> Path:
    require(DATASET.is_dir(), f"the shared dataset is not at {DATASET} (set MUDHUB_SHARED)")
    return DATASET


def require_validate_mud() -> Path:
    require(VALIDATE_MUD.is_file(), f"validate-mud is not at {VALIDATE_MUD} (set MUDHUB_SHARED)")
    require(shutil.which("yanglint") is not None, "yanglint is not installed (apt-get install libyang2-tools)")
    return VALIDATE_MUD


def require_pcaps() -> list[tuple[str, str, list[Path]]]:
    """The shared device captures: (folder, the device's MAC, its pcap files) for each device."""
    require(PCAPS.is_dir(), f"the shared captures are not at {PCAPS} (set MUDHUB_SHARED)")
    devices = []
    for folder in sorted(p for p in PCAPS.iterdir() if p.is_dir()):
        mac = (folder / "device-mac.txt").read_text().strip().lower()
        devices.append((folder.name, mac, sorted(folder.glob("*.pcap"))))
    require(bool(devices), f"no device folder under {PCAPS}")
    return devices


def require_tool(name: str, package: str) -> str:
    """The path of an external program the test runs."""
    path = shutil.which(name)
    require(path is not None, f"{name} is not installed (apt-get install {package})")
    return str(path)
