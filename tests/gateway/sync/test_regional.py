"""mudhub-sync --region, as its command against a live mudhub on loopback and a static mirror
of the publish directory: the gateway's region's variants, verified for their own paths and
written at the plain paths, the global file wherever its region has none, and catch-up when a
variant changes, appears or is withdrawn."""

from __future__ import annotations

import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.delivery import openssl_cms_verify, published_profile
from tests.gateway.sync.test_client import mirror, pinned, served_files, site, state, sync  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def inline_tasks(settings: Any) -> None:
    settings.CELERY_TASK_ALWAYS_EAGER = True


def published_variant(model: str, region: str, *peers: str, firmware: str = "latest") -> Any:
    """A regional variant of `model` (region slug) through the real publish path, as
    published_profile does for a global file."""
    from django.conf import settings

    from profiles import mud
    from profiles.models import ConsensusProfile, DeviceModel
    from profiles.regions import variant_scope
    from profiles.services.publish import consensus_publish, signature_url

    device_model = DeviceModel.objects.get(slug=model.lower().replace(" ", "-"))
    scope = f"{firmware}@{region}"
    assert variant_scope(firmware, region.replace("-", " ")) == scope
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
        mfg_name=device_model.manufacturer.name,
        model_name=device_model.name,
        firmware_rev=None if firmware == "latest" else firmware,
    )
    current = ConsensusProfile.objects.filter(device_model=device_model, scope=scope, is_current=True).first()
    if current is not None:
        ConsensusProfile.objects.filter(pk=current.pk).update(is_current=False)
    profile = ConsensusProfile(
        device_model=device_model,
        scope=scope,
        version=(ConsensusProfile.objects.filter(device_model=device_model, scope=scope).count() + 1),
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


def expected_for(region: str | None) -> dict[str, bytes]:
    """What a gateway of `region` (a slug) should hold, in the plain layout: each model's
    file from that region's variant where there is one, else the global file."""
    from profiles.models import ConsensusProfile
    from profiles.regions import split_scope
    from profiles.services.publish import published_path

    chosen: dict[str, Any] = {}
    for p in ConsensusProfile.objects.filter(is_current=True).select_related("device_model__manufacturer"):
        base, slug = split_scope(p.scope)
        if slug is not None and slug != region:
            continue
        mfg, model = p.device_model.manufacturer.slug, p.device_model.slug
        path = published_path(manufacturer_slug=mfg, model_slug=model, scope=base).removeprefix("mud/")
        if slug is not None or path not in chosen:
            chosen[path] = p
    out = {}
    for path, p in chosen.items():
        out[path] = bytes(p.mud_bytes)
        out[path.removesuffix(".json") + ".p7s"] = bytes(p.signature)
    return dict(sorted(out.items()))


def catalogue() -> None:
    published_profile("Cam 1", "api.acme.example")
    published_profile("Cam 1", "fw.acme.example", scope="1.0")
    published_variant("Cam 1", "western-europe", "api.eu.acme.example")
    published_variant("Cam 1", "northern-america", "api.us.acme.example")
    published_variant("Cam 1", "western-europe", "fw.eu.acme.example", firmware="1.0")
    published_profile("Plug", "plug.acme.example", manufacturer="Brand")


def run(*args: str) -> subprocess.CompletedProcess[str]:
    done = sync(*args)
    assert done.returncode == 0, done.stderr
    return done


def test_a_gateway_gets_its_regions_variants_at_the_plain_paths(live_server: Any, pinned: Path, tmp_path: Path) -> None:  # noqa: F811
    from profiles.models import DeviceModel
    from profiles.services.publish import consensus_withdraw

    catalogue()
    europe, plain = tmp_path / "eu", tmp_path / "plain"
    run("--server", live_server.url, "--cert", str(pinned), "--dest", str(europe), "--region", "DE")
    held = served_files(europe)
    assert held == expected_for("western-europe")
    assert set(held) == {"acme/cam-1.json", "acme/cam-1.p7s", "acme/cam-1/1.0.json", "acme/cam-1/1.0.p7s",
                         "brand/plug.json", "brand/plug.p7s"}  # fmt: skip
    assert b"api.eu.acme.example" in held["acme/cam-1.json"] and b"fw.eu.acme" in held["acme/cam-1/1.0.json"]
    # The variant and its signature verify as the MUD manager will check them, at the plain path.
    assert openssl_cms_verify(europe / "acme/cam-1.p7s", europe / "acme/cam-1.json", pinned).returncode == 0
    assert state(europe)["region"] == "western-europe"
    # Without --region: the global files only, as before regional variants existed.
    run("--server", live_server.url, "--cert", str(pinned), "--dest", str(plain))
    assert served_files(plain) == expected_for(None)
    assert b"api.eu.acme" not in served_files(plain)["acme/cam-1.json"]

    # Catch-up: a new variant version, a new global version (the variant stays), a variant for
    # another region, and a new variant for Plug in ours.
    published_variant("Cam 1", "western-europe", "api.eu.acme.example", "cdn.eu.acme.example")
    published_profile("Cam 1", "api.acme.example", "cdn.acme.example")
    published_variant("Plug", "northern-america", "plug.us.acme.example")
    published_variant("Plug", "western-europe", "plug.eu.acme.example")
    again = run("--server", live_server.url, "--cert", str(pinned), "--dest", str(europe), "--region", "de")
    assert served_files(europe) == expected_for("western-europe")
    assert b"cdn.eu.acme" in served_files(europe)["acme/cam-1.json"]
    assert b"plug.eu.acme" in served_files(europe)["brand/plug.json"]
    assert "feed request(s)" in again.stdout
    run("--server", live_server.url, "--cert", str(pinned), "--dest", str(plain))
    assert served_files(plain) == expected_for(None)

    # The variant withdrawn (its region's evidence gone): the global file takes its place.
    cam = DeviceModel.objects.get(slug="cam-1")
    consensus_withdraw(device_model=cam, scope="latest@western-europe")
    run("--server", live_server.url, "--cert", str(pinned), "--dest", str(europe), "--region", "western-europe")
    assert served_files(europe) == expected_for("western-europe")
    assert b"cdn.acme.example" in served_files(europe)["acme/cam-1.json"]
    assert b"api.eu.acme" not in served_files(europe)["acme/cam-1.json"]
    # The whole model withdrawn: gone from the gateway.
    for scope in ("latest", "1.0", "1.0@western-europe", "latest@northern-america"):
        consensus_withdraw(device_model=cam, scope=scope)
    run("--server", live_server.url, "--cert", str(pinned), "--dest", str(europe), "--region", "DE")
    assert served_files(europe) == expected_for("western-europe")
    assert not any(path.startswith("acme/") for path in served_files(europe))


def test_another_region_and_a_change_of_region(live_server: Any, pinned: Path, tmp_path: Path) -> None:  # noqa: F811
    catalogue()
    dest = tmp_path / "mud"
    run("--server", live_server.url, "--cert", str(pinned), "--dest", str(dest), "--region", "US")
    assert served_files(dest) == expected_for("northern-america")
    assert b"api.us.acme" in served_files(dest)["acme/cam-1.json"]
    # No 1.0 variant in Northern America: its global file.
    assert b"fw.acme.example" in served_files(dest)["acme/cam-1/1.0.json"]
    # A region without any variant: the global files.
    run("--server", live_server.url, "--cert", str(pinned), "--dest", str(tmp_path / "jp"), "--region", "JP")
    assert served_files(tmp_path / "jp") == expected_for(None)
    # The same directory moved to another region: it starts over from the export.
    moved = run("--server", live_server.url, "--cert", str(pinned), "--dest", str(dest), "--region", "FR")
    assert served_files(dest) == expected_for("western-europe")
    assert "bootstrapped" in moved.stderr


@pytest.mark.parametrize("region", ["ZZ", "atlantis", "D"])
def test_an_unknown_region_is_a_usage_error_and_nothing_written(
    live_server: Any,
    pinned: Path,  # noqa: F811
    tmp_path: Path,
    region: str,
) -> None:
    catalogue()
    done = sync("--server", live_server.url, "--cert", str(pinned), "--dest", str(tmp_path / "mud"), "--region", region)
    assert done.returncode == 2
    assert "unknown_region" in done.stderr and repr(region) in done.stderr
    assert served_files(tmp_path / "mud") == {}


def test_a_mirror_serves_a_region_through_the_signed_index(site: Path, mirror, pinned: Path, tmp_path: Path) -> None:  # noqa: F811
    from profiles.models import DeviceModel
    from profiles.services.publish import consensus_withdraw

    folder, url = mirror
    catalogue()
    shutil.copytree(site, folder, dirs_exist_ok=True)
    dest = tmp_path / "mud"
    run("--mirror", url, "--cert", str(pinned), "--dest", str(dest), "--region", "DE")
    assert served_files(dest) == expected_for("western-europe")

    consensus_withdraw(device_model=DeviceModel.objects.get(slug="cam-1"), scope="latest@western-europe")
    shutil.rmtree(folder)
    shutil.copytree(site, folder)
    run("--mirror", url, "--cert", str(pinned), "--dest", str(dest), "--region", "DE")
    assert served_files(dest) == expected_for("western-europe")
    assert b"api.eu.acme" not in served_files(dest)["acme/cam-1.json"]

    # A mirror that swaps another region's variant in for ours is refused by the index's sha256.
    published_variant("Cam 1", "western-europe", "api.eu.acme.example", "new.eu.acme.example")
    shutil.rmtree(folder)
    shutil.copytree(site, folder)
    swapped = folder / "mud/acme/cam-1@western-europe.json"
    swapped.write_bytes((folder / "mud/acme/cam-1@northern-america.json").read_bytes())
    before = served_files(dest)
    done = sync("--mirror", url, "--cert", str(pinned), "--dest", str(dest), "--region", "DE")
    assert done.returncode == 3, done.stderr
    assert served_files(dest) == before


def test_the_region_option_is_documented() -> None:
    done = subprocess.run([sys.executable, "-m", "gateway.sync", "--help"], capture_output=True, text=True, timeout=60)
    assert "--region" in done.stdout
