"""Running the collector on synthetic traffic."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gateway.collect import Collection, collect
from tests.gateway.collect.traffic import DEVICE_MAC, Traffic


def collected(traffic: Traffic, tmp_path: Path, *, pcapng: bool = False, **options: Any) -> Collection:
    name = "capture.pcapng" if pcapng else "capture.pcap"
    path = traffic.write_pcapng(tmp_path / name) if pcapng else traffic.write_pcap(tmp_path / name)
    if "device_ips" not in options:
        options.setdefault("device_mac", DEVICE_MAC)
    return collect([str(path)], **options)


def keys(collection: Collection) -> set[str]:
    return {stat.flow.key for stat in collection.flows}


def codes(collection: Collection) -> list[str]:
    return [note.code for note in collection.notes]


def stat(collection: Collection, key: str) -> Any:
    return next(s for s in collection.flows if s.flow.key == key)
