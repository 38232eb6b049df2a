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


def published_profile(model: str, *peers: str, manufacturer: str = "Acme", scope: str = "latest") -> Any:
    """A consensus version of `model` serving a flow to each of `peers`, put through the real
    publish path (signature, feed entry, cache, publish directory, index) without running the
    consensus engine: what the delivery tests need in numbers, fast."""
    from datetime import UTC, datetime

    from django.conf import settings

    from profiles import mud
    from profiles.models import ConsensusProfile, FirmwareVersion
    from profiles.services.catalog import device_model_resolve, manufacturer_resolve
    from profiles.services.publish import consensus_publish, signature_url

    maker = manufacturer_resolve(name=manufacturer)
    device_model = device_model_resolve(manufacturer=maker, name=model)
    if scope != "latest":
        FirmwareVersion.objects.get_or_create(
            device_model=device_model, version=scope, defaults={"first_seen": datetime.now(UTC)}
        )
    url = device_model.mud_url_for(scope)
    flows = [
        mud.Flow(direction="from-device", family="ipv4", peer_kind="dnsname", peer=peer, protocol=6,
                 dst_port=mud.PortMatch("eq", 443, 443), initiated="from-device")
        for peer in peers
    ]  # fmt: skip
    meta = mud.MudMeta(
        mud_url=url,
        mud_signature=signature_url(url),
        last_update=datetime(2026, 11, 1, tzinfo=UTC),
        cache_validity=24,
        mfg_name=maker.name,
        model_name=device_model.name,
        firmware_rev=None if scope == "latest" else scope,
    )
    current = ConsensusProfile.objects.filter(device_model=device_model, scope=scope, is_current=True).first()
    if current is not None:
        ConsensusProfile.objects.filter(pk=current.pk).update(is_current=False)
    profile = ConsensusProfile(
        device_model=device_model,
        scope=scope,
        version=current.version + 1 if current else 1,
        input_digest="0" * 64,
        params_version="test",
        as_of=datetime.now(UTC),
        mud_bytes=mud.emit(meta, flows),
        cache_validity_hours=settings.MUDHUB_CACHE_VALIDITY_HOURS,
        allowed_count=len(flows),
        computed_at=datetime.now(UTC),
    )
    consensus_publish(profile=profile)
    return profile
