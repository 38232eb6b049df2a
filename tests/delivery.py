"""Builders the delivery tests share: a published model, the openssl and validate-mud checks."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

from tests.helpers import flow, payload, settle
from tests.support import require, require_validate_mud

CLOUD = [flow("api.acme.example"), flow("api.acme.example", direction="to-device")]


def publish_model(auth_api: Any, submit: Any, *flows: dict, model: str = "Cam 1", firmware: str = "1.0") -> Any:
    """A model whose flows three TL3 members saw on one firmware, settled past the holds;
    returns its current `latest` profile."""
    from profiles.models import ConsensusProfile, DeviceModel

    flows = flows or (*CLOUD, flow("ntp.acme.example", 123, protocol=17))
    for _ in range(3):
        response = submit(auth_api(trust_level=3), payload(*flows, model=model, firmware=firmware))
        assert response.status_code == 201, response.content
    device_model = DeviceModel.objects.get(slug=model.lower().replace(" ", "-"))
    settle(device_model.pk)
    return ConsensusProfile.objects.get(device_model=device_model, scope="latest", is_current=True)


def openssl_cms_verify(signature: Path, content: Path, ca: Path) -> subprocess.CompletedProcess[bytes]:
    """The check RFC 8520 managers run (osMUD, MUD Maker): detached, binary, DER."""
    require(shutil.which("openssl") is not None, "the openssl CLI is not installed")
    return subprocess.run(
        ["openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", str(signature), "-content", str(content),
         "-CAfile", str(ca), "-purpose", "any", "-out", "/dev/null"],
        capture_output=True,
        check=False,
        timeout=60,
    )  # fmt: skip


def validate_mud(*files: Path) -> subprocess.CompletedProcess[str]:
    tool = require_validate_mud()
    return subprocess.run([str(tool), *map(str, files)], capture_output=True, text=True, check=False, timeout=300)
