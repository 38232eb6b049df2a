"""What deployed MUD managers can hold of a MUD file, and where a file goes beyond it.

osMUD (the OpenWrt MUD manager) reads a file into fixed arrays: at most 50 ACEs per ACL and
10 ACLs per file; the rest is dropped without a word. mudhub splits long ACLs when it emits
(see emit.MAX_ACES_PER_ACL), so only the ACL count can still be too much, and it reports it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

OSMUD_MAX_ACES_PER_ACL = 50
OSMUD_MAX_ACLS = 10


@dataclass(frozen=True)
class ManagerFit:
    manager: str
    fits: bool
    acls: int
    max_aces_in_an_acl: int
    problems: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "manager": self.manager,
            "fits": self.fits,
            "acls": self.acls,
            "max_aces_in_an_acl": self.max_aces_in_an_acl,
            "problems": list(self.problems),
        }


def osmud_fit(mud_bytes: bytes) -> ManagerFit:
    """Whether osMUD keeps every ACE of this (canonical, RFC 8520) MUD file."""
    document = json.loads(mud_bytes)
    acls = document.get("ietf-access-control-list:acls", {}).get("acl", [])
    sizes = [len(acl.get("aces", {}).get("ace", [])) for acl in acls]
    problems = []
    if len(acls) > OSMUD_MAX_ACLS:
        problems.append(f"{len(acls)} ACLs: osMUD keeps the first {OSMUD_MAX_ACLS} and drops the rest")
    long = [acl["name"] for acl, size in zip(acls, sizes, strict=True) if size > OSMUD_MAX_ACES_PER_ACL]
    if long:
        problems.append(f"ACLs over {OSMUD_MAX_ACES_PER_ACL} ACEs, truncated by osMUD: {', '.join(long)}")
    return ManagerFit(
        manager="osmud",
        fits=not problems,
        acls=len(acls),
        max_aces_in_an_acl=max(sizes, default=0),
        problems=tuple(problems),
    )
