"""The `ietf-mud:mud` container: the metadata of a MUD file and its two policies."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime

from .collector import PRE_RFC_MEMBERS, Collector, pointer
from .values import (
    DOCUMENTATION_SCHEMES,
    SIGNATURE_SCHEMES,
    ValueProblem,
    check_https_url,
    check_uri_scheme,
    parse_date,
)

MUD = "ietf-mud:mud"
POLICIES: dict[str, str] = {"from-device-policy": "from-device", "to-device-policy": "to-device"}
_OPTIONAL_STRINGS = ("systeminfo", "mfg-name", "model-name", "firmware-rev", "software-rev")
_KNOWN = frozenset(
    {
        "mud-version",
        "mud-url",
        "last-update",
        "mud-signature",
        "cache-validity",
        "is-supported",
        "documentation",
        "extensions",
        *_OPTIONAL_STRINGS,
        *POLICIES,
    }
)


@dataclass(frozen=True, slots=True)
class MudMeta:
    """Everything in a MUD file but its flows. None means the member was absent.

    `mud_url` is None only for imported files that had none (or an empty one); emit then
    writes PLACEHOLDER_MUD_URL, because the YANG module makes the leaf mandatory.
    """

    mud_url: str | None = None
    last_update: datetime = field(default_factory=lambda: datetime(1970, 1, 1, tzinfo=UTC))
    is_supported: bool = True
    mud_version: int = 1
    mud_signature: str | None = None
    cache_validity: int | None = None
    systeminfo: str | None = None
    mfg_name: str | None = None
    model_name: str | None = None
    firmware_rev: str | None = None
    software_rev: str | None = None
    documentation: str | None = None
    extensions: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            out[f.name] = value.isoformat() if isinstance(value, datetime) else value
        return out


def _misspelt(key: str) -> str | None:
    """The RFC 8520 leaf that an unprefixed unknown member is a near-spelling of, if any."""
    if ":" in key or key in PRE_RFC_MEMBERS:
        return None
    close = difflib.get_close_matches(key.lower().replace("_", "-"), sorted(_KNOWN), n=1, cutoff=0.85)
    return close[0] if close else None


# A `.invalid` host (RFC 2606) can never resolve, so a placeholder is never mistaken for a real URL.
PLACEHOLDER_MUD_URL = "https://mud-url-missing.invalid/mud.json"


def parse_meta(value: object, path: str, col: Collector) -> tuple[MudMeta, dict[str, list[tuple[str, str]]]]:
    """The metadata, and per direction the (ACL name, JSON path) pairs its policy lists."""
    policies: dict[str, list[tuple[str, str]]] = {"from-device": [], "to-device": []}
    mud = col.obj(value, path)
    if mud is None:
        return MudMeta(), policies
    values: dict[str, object] = {}

    def member(name: str) -> str:
        return pointer(path, name)

    for key in mud:
        if key in _KNOWN:
            continue
        typo = _misspelt(key)
        if typo is None:
            col.unknown(member(key), "ietf-mud:mud", key)
        else:
            # Import drops unknown members with a warning (extensions such as thing-dnsname or
            # NIST's reporter), but a misspelt RFC 8520 leaf ("mud-versoin") is a mistake, not
            # an extension: dropping it would read the file as saying less than it meant.
            col.error("unknown-member", member(key), f"ietf-mud:mud has no member {key!r}; did you mean {typo!r}?")

    version = mud.get("mud-version")
    if version is None:
        col.error("missing-member", member("mud-version"), "mud-version is mandatory")
    elif col.integer(version, member("mud-version"), 0, 255) is not None and version != 1:
        col.error("unsupported-mud-version", member("mud-version"), f"mud-version {version} is not 1 (RFC 8520)")

    url = mud.get("mud-url")
    if url is None or url == "":
        # DAQ's default.json has no mud-url and two Deepness-Lab files have "": the rest of
        # these files is usable, and mudhub issues its own MUD URL for every model anyway.
        col.dialect("dialect-missing-mud-url", member("mud-url"), "mud-url is mandatory")
    elif (text := col.string(url, member("mud-url"))) is not None:
        try:
            text, dns_host = check_https_url(text)
            if not dns_host:
                # MUDgee writes made-up URLs like https://amazon_echo.com/...: a URI, but no
                # TLS certificate can name that host, so strict refuses it.
                col.dialect("dialect-mud-url-host", member("mud-url"), f"the host of {text!r} is not a DNS name")
            values["mud_url"] = text
        except ValueProblem as exc:
            col.error(exc.code, member("mud-url"), str(exc))

    update = mud.get("last-update")
    if update is None:
        col.error("missing-member", member("last-update"), "last-update is mandatory")
    elif (text := col.string(update, member("last-update"))) is not None:
        try:
            stamp, has_offset = parse_date(text)
            if not has_offset:
                # Two Deepness-Lab files; the generator ran with UTC clocks.
                col.dialect("dialect-last-update-offset", member("last-update"), f"{text!r} has no UTC offset")
            values["last_update"] = stamp
        except ValueProblem as exc:
            col.error(exc.code, member("last-update"), str(exc))

    supported = mud.get("is-supported")
    if supported is None:
        col.error("missing-member", member("is-supported"), "is-supported is mandatory")
    elif type(supported) is not bool:
        col.error("wrong-type", member("is-supported"), "is-supported must be the JSON literal true or false")
    else:
        values["is_supported"] = supported

    if "cache-validity" in mud:
        validity = col.integer(mud["cache-validity"], member("cache-validity"), 1, 168)
        if validity is not None:
            values["cache_validity"] = validity

    for name, schemes in (("mud-signature", SIGNATURE_SCHEMES), ("documentation", DOCUMENTATION_SCHEMES)):
        if name in mud and (text := col.string(mud[name], member(name))) is not None:
            if text == "":
                col.warn("empty-value", member(name), f"empty {name} dropped")
                continue
            try:
                values[name.replace("-", "_")] = check_uri_scheme(text, schemes, name)
            except ValueProblem as exc:
                col.error(exc.code, member(name), str(exc))

    for name in _OPTIONAL_STRINGS:
        if name in mud and (text := col.string(mud[name], member(name))) is not None:
            if text == "":
                col.warn("empty-value", member(name), f"empty {name} dropped")
            else:
                values[name.replace("-", "_")] = text

    if "extensions" in mud and (items := col.array(mud["extensions"], member("extensions"))) is not None:
        extensions: list[str] = []
        for i, item in enumerate(items):
            item_path = pointer(member("extensions"), i)
            if (text := col.string(item, item_path)) is not None:
                if not 1 <= len(text) <= 40:
                    col.error("out-of-range", item_path, "an extension name has 1..40 characters")
                elif text not in extensions:
                    extensions.append(text)
        values["extensions"] = tuple(extensions)

    for policy, direction in POLICIES.items():
        if policy in mud:
            policies[direction] = _policy(mud[policy], member(policy), col)
    return MudMeta(**values), policies  # type: ignore[arg-type]


def _policy(value: object, path: str, col: Collector) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    policy = col.obj(value, path)
    if policy is None:
        return out
    for key in policy:
        if key != "access-lists":
            col.unknown(pointer(path, key), "a policy", key)
    if "access-lists" not in policy:
        return out
    path = pointer(path, "access-lists")
    lists = col.obj(policy["access-lists"], path)
    if lists is None:
        return out
    for key in lists:
        if key != "access-list":
            col.unknown(pointer(path, key), "access-lists", key)
    if "access-list" not in lists:
        return out
    path = pointer(path, "access-list")
    entries = col.array(lists["access-list"], path)
    if entries is None:
        return out
    seen: set[str] = set()
    for i, entry in enumerate(entries):
        entry_path = pointer(path, i)
        item = col.obj(entry, entry_path)
        if item is None:
            continue
        for key in item:
            if key != "name":
                col.unknown(pointer(entry_path, key), "an access-list entry", key)
        if "name" not in item:
            col.error("missing-member", pointer(entry_path, "name"), "an access-list entry needs a name")
            continue
        name = col.string(item["name"], pointer(entry_path, "name"))
        if name is None:
            continue
        if name in seen:
            col.error("duplicate-name", pointer(entry_path, "name"), f"ACL {name!r} is listed twice")
            continue
        seen.add(name)
        out.append((name, pointer(entry_path, "name")))
    return out
