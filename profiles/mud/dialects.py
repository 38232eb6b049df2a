"""Document-level dialects of real MUD files: which ones import reads, and which it refuses.

The dialects inside ACLs (ethernet-acl-type, hex ethertypes, the gateway controller, eth
matches in ipv4 ACLs, ranges with operators, addresses without /length) are handled where
they occur, in parse.py, meta.py, json_load.py and matches.py, each with its code; see
errors.CODES. The pre-RFC draft members are recognised where unknown members are looked
for (collector.PRE_RFC_MEMBERS) and reported alone, since everything else follows from them.
"""

from __future__ import annotations

from typing import Any

from .collector import Abort, Collector, pointer

ACCESS_LISTS = "ietf-access-control-list:access-lists"
ACLS = "ietf-access-control-list:acls"


def acls_member(root: dict[str, Any], col: Collector) -> str | None:
    """Which top-level member holds the ACLs (None if neither)."""
    if ACLS in root and ACCESS_LISTS in root:
        col.error("duplicate-acls", pointer("", ACCESS_LISTS), f"both {ACLS} and {ACCESS_LISTS} are present")
        raise Abort()
    if ACCESS_LISTS in root:
        # MUDgee and the drafts name the container access-lists; the content is RFC 8519.
        col.dialect("dialect-access-lists", pointer("", ACCESS_LISTS), f"{ACCESS_LISTS} instead of {ACLS}")
        return ACCESS_LISTS
    if ACLS in root:
        return ACLS
    return None
