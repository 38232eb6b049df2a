"""Small builders for MUD documents in tests (plain dicts; no fixtures files of our own)."""

from __future__ import annotations

import copy
import json
from typing import Any

from profiles.mud import MudValidationError, parse

BASE: dict[str, Any] = {
    "ietf-mud:mud": {
        "mud-version": 1,
        "mud-url": "https://things.example.com/sensor-1",
        "last-update": "2024-05-01T12:00:00+00:00",
        "is-supported": True,
        "mfg-name": "Example",
        "model-name": "sensor-1",
        "from-device-policy": {"access-lists": {"access-list": [{"name": "fr"}]}},
        "to-device-policy": {"access-lists": {"access-list": [{"name": "to"}]}},
    },
    "ietf-access-control-list:acls": {
        "acl": [
            {
                "name": "fr",
                "type": "ipv4-acl-type",
                "aces": {
                    "ace": [
                        {
                            "name": "cl0-frdev",
                            "matches": {
                                "ipv4": {"ietf-acldns:dst-dnsname": "cloud.example.com", "protocol": 6},
                                "tcp": {
                                    "ietf-mud:direction-initiated": "from-device",
                                    "destination-port": {"operator": "eq", "port": 443},
                                },
                            },
                            "actions": {"forwarding": "accept"},
                        }
                    ]
                },
            },
            {
                "name": "to",
                "type": "ipv4-acl-type",
                "aces": {
                    "ace": [
                        {
                            "name": "cl0-todev",
                            "matches": {
                                "ipv4": {"ietf-acldns:src-dnsname": "cloud.example.com", "protocol": 6},
                                "tcp": {
                                    "ietf-mud:direction-initiated": "from-device",
                                    "source-port": {"operator": "eq", "port": 443},
                                },
                            },
                            "actions": {"forwarding": "accept"},
                        }
                    ]
                },
            },
        ]
    },
}


def doc() -> dict[str, Any]:
    return copy.deepcopy(BASE)


def first_ace(d: dict[str, Any]) -> dict[str, Any]:
    ace: dict[str, Any] = d["ietf-access-control-list:acls"]["acl"][0]["aces"]["ace"][0]
    return ace


def dump(d: Any) -> bytes:
    return json.dumps(d).encode()


def codes(d: Any, mode: str = "strict") -> list[str]:
    """The problem codes that parsing `d` raises (fails the test if it parses)."""
    try:
        parse(d if isinstance(d, bytes | str) else dump(d), mode=mode)  # type: ignore[arg-type]
    except MudValidationError as exc:
        return exc.codes
    raise AssertionError("expected a MudValidationError")


def warning_codes(d: Any, mode: str = "import") -> list[str]:
    return [w.code for w in parse(d if isinstance(d, bytes | str) else dump(d), mode=mode).warnings]  # type: ignore[arg-type]
