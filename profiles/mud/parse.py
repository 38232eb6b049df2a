"""Bytes in, a MudDocument out (or one MudValidationError that lists every problem)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from . import checks, dialects, replies
from .collector import MODES, Abort, Collector, Mode, pointer
from .errors import MudValidationError, Problem
from .flows import Flow
from .json_load import load
from .limits import DEFAULT_LIMITS, Limits
from .matches import AceReader
from .meta import MUD, MudMeta, parse_meta

ACLS = "ietf-access-control-list:acls"
ACL_PREFIX = "ietf-access-control-list:"
ACL_TYPES = frozenset(
    {
        "ipv4-acl-type",
        "ipv6-acl-type",
        "eth-acl-type",
        "mixed-eth-ipv4-acl-type",
        "mixed-eth-ipv6-acl-type",
        "mixed-eth-ipv4-ipv6-acl-type",
    }
)
_ACE_KEYS = frozenset({"name", "matches", "actions"})
_ACCEPT = ("accept", ACL_PREFIX + "accept")
FORWARDING = frozenset({"accept", "drop", "reject"})
LOGGING = frozenset({"log-syslog", "log-none"})


@dataclass(frozen=True, slots=True)
class MudDocument:
    meta: MudMeta
    flows: frozenset[Flow]
    warnings: tuple[Problem, ...] = ()
    ace_count: int = 0

    @property
    def sorted_flows(self) -> list[Flow]:
        return sorted(self.flows, key=lambda f: f.key)


@dataclass(slots=True)
class _Acl:
    name: str
    type: str
    path: str
    aces: list[tuple[str, dict[str, Any], str]]  # (name, ace object, path)


def parse(
    data: bytes | str,
    *,
    mode: Mode = "import",
    limits: Limits = DEFAULT_LIMITS,
    now: datetime | None = None,
) -> MudDocument:
    """Parse a MUD file. `strict` follows RFC 8520/8519; `import` also reads the dialects of real files."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
    col = Collector(mode, limits)
    document: MudDocument | None = None
    try:
        if now is None:
            now = datetime.now(UTC)
        elif now.tzinfo is None:
            now = now.replace(tzinfo=UTC)
        document = _parse(data, col, now)
    except Abort:
        pass
    except MudValidationError:
        raise
    except Exception as exc:  # pragma: no cover - the safety net the property tests look for
        col.error("internal-error", "", f"{type(exc).__name__}: {exc}")
    if col.errors or document is None:
        if not col.errors:  # pragma: no cover
            col.error("internal-error", "", "parse stopped without a reason")
        raise MudValidationError(col.errors)
    return document


def _parse(data: bytes | str, col: Collector, now: datetime) -> MudDocument:
    root = load(data, col)
    if not isinstance(root, dict):
        raise col.fatal("not-an-object", "", "the top level of a MUD file is a JSON object")
    if MUD not in root:
        col.error("missing-mud-container", "", f'no top-level "{MUD}" member')
    acls_key = dialects.acls_member(root, col)
    for key in root:
        if key not in (MUD, acls_key, dialects.ACCESS_LISTS, ACLS):
            col.unknown(pointer("", key), "the top level", key)
    meta, policies = parse_meta(root[MUD], pointer("", MUD), col) if MUD in root else (MudMeta(), {})
    acls = _read_acls(root.get(acls_key) if acls_key else None, pointer("", acls_key or ACLS), col)
    ace_count = sum(len(acl.aces) for acl in acls.values())

    flows: dict[Flow, str] = {}
    used: set[str] = set()
    for direction, refs in policies.items():
        for name, ref_path in refs:
            acl = acls.get(name)
            if acl is None:
                col.error("dangling-acl-name", ref_path, f"no ACL is named {name!r}")
                continue
            used.add(name)
            _read_aces(acl, direction, col, flows)
    for acl in acls.values():
        if acl.name not in used:
            col.warn("unused-acl", pointer(acl.path, "name"), f"no policy uses ACL {acl.name!r}; it makes no flow")
            # Still checked: strict must refuse what yanglint refuses, used or not.
            _read_aces(acl, "from-device", col, {}, quality=False)
    if col.pre_rfc:
        # The other problems of a draft-syntax file are consequences of it: say only what it is.
        col.errors[:] = col.pre_rfc
    if col.errors:
        raise Abort()
    if not col.strict:
        flows, paired = replies.pair_replies(flows)
        col.warnings.extend(paired)
    col.warnings.extend(checks.meta_warnings(meta, now))
    return MudDocument(meta=meta, flows=frozenset(flows), warnings=tuple(col.warnings), ace_count=ace_count)


def _read_acls(value: object, path: str, col: Collector) -> dict[str, _Acl]:
    acls: dict[str, _Acl] = {}
    if value is None:
        return acls
    container = col.obj(value, path)
    if container is None:
        return acls
    for key in container:
        if key != "acl":
            col.unknown(pointer(path, key), "acls", key)
    path = pointer(path, "acl")
    items = col.array(container.get("acl", []), path)
    if items is None:
        return acls
    if len(items) > col.limits.max_acls:
        raise col.fatal("too-many-acls", path, f"{len(items)} ACLs, more than the limit of {col.limits.max_acls}")
    total = sum(_ace_count(a) for a in items)
    if total > col.limits.max_aces:
        raise col.fatal("too-many-aces", path, f"{total} ACEs, more than the limit of {col.limits.max_aces}")
    for i, item in enumerate(items):
        acl_path = pointer(path, i)
        acl = col.obj(item, acl_path)
        if acl is None:
            continue
        name = _name(acl, acl_path, col, "ACL")
        acl_type = _acl_type(acl.get("type"), pointer(acl_path, "type"), col)
        for key in acl:
            if key not in ("name", "type", "aces"):
                col.unknown(pointer(acl_path, key), "an ACL", key)
        aces = _ace_list(acl.get("aces"), pointer(acl_path, "aces"), col)
        if name is None or acl_type is None:
            continue
        if name in acls:
            col.error("duplicate-name", pointer(acl_path, "name"), f"two ACLs are named {name!r}")
            continue
        acls[name] = _Acl(name, acl_type, acl_path, aces)
    return acls


def _ace_count(item: object) -> int:
    if isinstance(item, dict) and isinstance(item.get("aces"), dict) and type(item["aces"].get("ace")) is list:
        return len(item["aces"]["ace"])
    return 0


def _name(obj: dict[str, Any], path: str, col: Collector, what: str) -> str | None:
    name = obj.get("name")
    if type(name) is str and 1 <= len(name) <= col.limits.max_name_length and name.isascii() and name.isprintable():
        return name
    if "name" not in obj:
        col.error("missing-member", pointer(path, "name"), f"an {what} needs a name")
        return None
    name = col.string(obj["name"], pointer(path, "name"))
    if name is not None and not 1 <= len(name) <= col.limits.max_name_length:
        col.error(
            "name-length", pointer(path, "name"), f"an {what} name has 1..{col.limits.max_name_length} characters"
        )
        return None
    return name


def _acl_type(value: object, path: str, col: Collector) -> str | None:
    if value is None:
        col.error("missing-member", path, "an ACL needs a type")
        return None
    text = col.string(value, path)
    if text is None:
        return None
    bare = text.removeprefix(ACL_PREFIX)
    if bare == "ethernet-acl-type":
        # MUDgee's spelling; RFC 8519 names the identity eth-acl-type.
        col.dialect("dialect-ethernet-acl-type", path, "ethernet-acl-type is not an RFC 8519 identity")
        return "eth-acl-type"
    if bare not in ACL_TYPES:
        col.error("invalid-identity", path, f"{text!r} is not an RFC 8519 ACL type")
        return None
    return bare


def _ace_list(value: object, path: str, col: Collector) -> list[tuple[str, dict[str, Any], str]]:
    out: list[tuple[str, dict[str, Any], str]] = []
    if value is None:
        return out
    aces = col.obj(value, path)
    if aces is None:
        return out
    for key in aces:
        if key != "ace":
            col.unknown(pointer(path, key), "aces", key)
    path = pointer(path, "ace")
    items = col.array(aces.get("ace", []), path)
    seen: set[str] = set()
    max_length = col.limits.max_name_length
    ace: dict[str, Any] | None
    for i, item in enumerate(items or ()):
        ace_path = f"{path}/{i}"
        if type(item) is dict:
            ace = item
        elif (ace := col.obj(item, ace_path)) is None:
            continue
        name = ace.get("name")
        # The common case of _name, inline: one call fewer per ACE.
        if not (type(name) is str and 1 <= len(name) <= max_length and name.isascii() and name.isprintable()):
            name = _name(ace, ace_path, col, "ACE")
            if name is None:
                continue
        if name in seen:
            col.error("duplicate-name", pointer(ace_path, "name"), f"two ACEs of this ACL are named {name!r}")
            continue
        seen.add(name)
        out.append((name, ace, ace_path))
    return out


def _read_aces(acl: _Acl, direction: str, col: Collector, flows: dict[Flow, str], *, quality: bool = True) -> None:
    reader = AceReader(col, direction, acl.type, acl.path)
    # AceReader.flow, unrolled: the quick reader first, the general one if it declines.
    quick = reader.quick if reader.simple_family is not None else None
    read = reader.read
    first_path = flows.setdefault
    for _, ace, path in acl.aces:
        if not _ACE_KEYS.issuperset(ace):
            for key in ace:
                if key not in _ACE_KEYS:
                    col.unknown(pointer(path, key), "an ACE", key)
        actions = ace.get("actions")
        if type(actions) is dict and len(actions) == 1 and actions.get("forwarding") in _ACCEPT:
            accept = True
        else:
            accept = _actions(actions, path + "/actions", col)
        matches = ace.get("matches")
        if type(matches) is not dict:
            if "matches" in ace:
                matches = col.obj(matches, path + "/matches")
                if matches is None:
                    continue
            else:
                matches = {}
        if quick is None or (flow := quick(matches)) is None:
            flow = read(matches, path + "/matches")
        if flow is None or not accept:
            continue
        known = len(flows)
        first = first_path(flow, path)
        if len(flows) == known:
            col.warn("duplicate-flow", path, f"permits the same flow as {first}")
            continue
        if quality and (warnings := checks.flow_warnings(flow, path)):
            col.warnings.extend(warnings)


def _actions(value: object, path: str, col: Collector) -> bool:
    """Whether the ACE accepts; problems with the actions are recorded."""
    if value is None:
        col.error("missing-member", path, "an ACE needs actions with a forwarding action")
        return False
    actions = col.obj(value, path)
    if actions is None:
        return False
    for key in actions:
        if key not in ("forwarding", "logging"):
            col.unknown(pointer(path, key), "actions", key)
    if "logging" in actions and (log := col.string(actions["logging"], pointer(path, "logging"))) is not None:
        if log.removeprefix(ACL_PREFIX) not in LOGGING:
            col.error("invalid-identity", pointer(path, "logging"), f"{log!r} is not log-syslog or log-none")
        elif log.removeprefix(ACL_PREFIX) != "log-none":
            col.warn("logging-ignored", pointer(path, "logging"), "flows do not keep the logging action")
    if "forwarding" not in actions:
        col.error("missing-member", pointer(path, "forwarding"), "forwarding is mandatory")
        return False
    text = col.string(actions["forwarding"], pointer(path, "forwarding"))
    if text is None:
        return False
    action = text.removeprefix(ACL_PREFIX)
    if action not in FORWARDING:
        col.error("invalid-identity", pointer(path, "forwarding"), f"{text!r} is not accept, drop or reject")
        return False
    if action != "accept":
        col.warn("ace-not-accept", pointer(path, "forwarding"), f"a {action} ACE makes no flow (MUD is an allow-list)")
        return False
    return True
