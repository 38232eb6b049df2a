"""Builders the manufacturer tests share: MUD files made by the codec, members, uploads."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tests.helpers import flow

DOMAIN = "acme.test"
API = flow(f"api.{DOMAIN}")
NTP = flow(f"ntp.{DOMAIN}", 123, protocol=17)
METRICS = flow(f"metrics.{DOMAIN}")
FIRMWARE_SERVER = flow(f"firmware.{DOMAIN}")


def mud_file(*flows: dict[str, Any], model: str = "Cam 1", signature_url: str | None = None) -> bytes:
    """A strict RFC 8520 file for the native `flows`, as the manufacturer would publish it."""
    from profiles import mud
    from profiles.services.native_flows import flows_from_native

    parsed, problems = flows_from_native(list(flows))
    assert not problems, problems
    meta = mud.MudMeta(
        mud_url=f"https://{DOMAIN}/mud/{model.lower().replace(' ', '-')}.json",
        last_update=datetime(2026, 11, 1, tzinfo=UTC),
        cache_validity=48,
        systeminfo=f"Acme {model}",
        mfg_name="Acme",
        model_name=model,
        mud_signature=signature_url,
    )
    return mud.emit(meta, parsed)


def flow_keys(content: bytes) -> set[str]:
    from profiles import mud

    return {f.key for f in mud.parse(content, mode="strict").flows}


def native_keys(*flows: dict[str, Any]) -> set[str]:
    from profiles.services.native_flows import flows_from_native

    parsed, problems = flows_from_native(list(flows))
    assert not problems, problems
    return {f.key for f in parsed}


def member_of(auth_api: Any, slug: str, **contributor: Any) -> Any:
    """A logged-in client whose account is a member of the manufacturer `slug`."""
    from profiles.models import Manufacturer, ManufacturerMember

    client = auth_api(**contributor)
    ManufacturerMember.objects.create(manufacturer=Manufacturer.objects.get(slug=slug), contributor=client.contributor)
    return client


def upload(
    client: Any, slug: str, model_id: int, content: bytes, signature: bytes, firmware: tuple[str, ...] = ()
) -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    data: dict[str, Any] = {
        "device_model": model_id,
        "mud": SimpleUploadedFile("cam.json", content, content_type="application/mud+json"),
        "signature": SimpleUploadedFile("cam.p7s", signature, content_type="application/pkcs7-signature"),
    }
    if firmware:
        data["firmware"] = list(firmware)
    return client.post(f"/api/v1/manufacturers/{slug}/profiles/", data, format="multipart")
