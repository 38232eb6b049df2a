"""Document-level dialects of real MUD files: which ones import reads, and which it refuses.

The dialects inside ACLs (ethernet-acl-type, hex ethertypes, the gateway controller, eth
matches in ipv4 ACLs) are handled where they occur, in parse.py and matches.py, each with
its warning code; see errors.CODES.
"""

from __future__ import annotations

from typing import Any

from .collector import Abort, Collector, pointer

ACCESS_LISTS = "ietf-access-control-list:access-lists"
ACLS = "ietf-access-control-list:acls"

# Member names that only the pre-RFC drafts (draft-ietf-opsawg-mud before -20, and the
# matching ACL drafts) use. osMUD's MUDFILE.NEST keys its ACLs by acl-name/acl-type and puts
# ports inside the L3 container; reading that would mean guessing which draft revision's
# semantics were meant, so it is refused with a message that says what it is.
PRE_RFC_MEMBERS = frozenset(
    {
        "acl-name",
        "acl-type",
        "access-list-entries",
        "rule-name",
        "ipv4-acl",
        "ipv6-acl",
        "ietf-mud:mud-acl",
        "source-port-range",
        "destination-port-range",
        "source-port-range-or-operator",
        "destination-port-range-or-operator",
    }
)
_PRE_RFC_MESSAGE = (
    "pre-RFC draft syntax ({member}): this file follows a MUD draft, not RFC 8520/RFC 8519; "
    "convert it (name/type, aces/ace, ipv4/tcp containers) before importing it"
)


def reject_pre_rfc(root: dict[str, Any], col: Collector) -> None:
    """Raise Abort with one problem per pre-RFC member found in the policies and ACLs."""
    found: list[tuple[str, str]] = []

    def look(node: object, path: str) -> None:
        if isinstance(node, dict):
            found.extend((pointer(path, key), key) for key in PRE_RFC_MEMBERS.intersection(node))

    def items(node: object, *keys: str) -> list[tuple[object, str]]:
        """The entries of the list at node/keys..., with their paths (the draft spellings included)."""
        out: list[tuple[object, str]] = []
        for outer in keys[:-1]:
            if isinstance(node, dict) and isinstance(node.get(outer), dict):
                lst = node[outer].get(keys[-1])
                if isinstance(lst, list):
                    out.extend((item, f"/{outer}/{keys[-1]}/{i}") for i, item in enumerate(lst))
        return out

    mud = root.get("ietf-mud:mud")
    if isinstance(mud, dict):
        for policy in ("from-device-policy", "to-device-policy"):
            for entry, sub in items(mud.get(policy), "access-lists", "access-list"):
                look(entry, f"/ietf-mud:mud/{policy}{sub}")
    for top in (ACLS, ACCESS_LISTS):
        for acl, acl_sub in items(root, top, "acl"):
            acl_path = pointer("", top) + acl_sub[len(top) + 1 :]
            look(acl, acl_path)
            for ace, ace_sub in items(acl, "aces", "access-list-entries", "ace"):
                look(ace, acl_path + ace_sub)
                if isinstance(ace, dict):
                    look(ace.get("matches"), acl_path + ace_sub + "/matches")
                    if isinstance(ace.get("matches"), dict):
                        for l3 in ("ipv4", "ipv6", "ipv4-acl", "ipv6-acl"):
                            look(ace["matches"].get(l3), f"{acl_path}{ace_sub}/matches/{l3}")
    if found:
        for path, member in found[:50]:
            col.error("pre-rfc-draft", path, _PRE_RFC_MESSAGE.format(member=member))
        raise Abort()


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
