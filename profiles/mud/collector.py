"""Where parsing puts what it finds: errors, warnings, and the mode that decides which is which."""

from __future__ import annotations

import re
from typing import Literal

from .errors import Problem
from .limits import Limits

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
        "ietf-mud:same-manufacturer",
        "source-port-range",
        "destination-port-range",
        "source-port-range-or-operator",
        "destination-port-range-or-operator",
    }
)
PRE_RFC_MESSAGE = (
    "pre-RFC draft syntax ({member}): this file follows a MUD draft, not RFC 8520/RFC 8519; "
    "convert it (name/type, aces/ace, ipv4/tcp containers) before importing it"
)

_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")

Mode = Literal["strict", "import"]
MODES: tuple[str, ...] = ("strict", "import")


class Abort(Exception):
    """Stop parsing: what is left cannot be read meaningfully (the problems are collected)."""


def pointer(path: str, key: str | int) -> str:
    """Append one RFC 6901 reference token to a JSON Pointer."""
    if type(key) is str and ("~" in key or "/" in key):
        return f"{path}/{key.replace('~', '~0').replace('/', '~1')}"
    return f"{path}/{key}"


class Collector:
    __slots__ = ("errors", "limits", "mode", "pre_rfc", "warnings")

    def __init__(self, mode: Mode, limits: Limits) -> None:
        self.mode = mode
        self.limits = limits
        self.errors: list[Problem] = []
        self.warnings: list[Problem] = []
        # Members of the pre-RFC drafts, found where unknown members are looked for.
        self.pre_rfc: list[Problem] = []

    @property
    def strict(self) -> bool:
        return self.mode == "strict"

    def error(self, code: str, path: str, message: str) -> None:
        self.errors.append(Problem(code, path, message))

    def warn(self, code: str, path: str, message: str) -> None:
        self.warnings.append(Problem(code, path, message))

    def dialect(self, code: str, path: str, message: str) -> None:
        """A deviation seen in real files: refused in strict mode, normalised with a warning on import."""
        if self.strict:
            self.error(code, path, message)
        else:
            self.warn(code, path, message + " (normalised on import)")

    def unknown(self, path: str, where: str, key: str) -> None:
        if key in PRE_RFC_MEMBERS:
            self.pre_rfc.append(Problem("pre-rfc-draft", path, PRE_RFC_MESSAGE.format(member=key)))
            return
        # yanglint rejects unknown members, so strict does too; on import an unknown member
        # outside the matches only loses information that no flow carries, so it is dropped.
        if self.strict:
            self.error("unknown-member", path, f"unknown member in {where}")
        else:
            self.warn("dialect-unknown-member", path, f"unknown member in {where}, ignored on import")

    def fatal(self, code: str, path: str, message: str) -> Abort:
        self.error(code, path, message)
        return Abort()

    def string(self, value: object, path: str, *, allow_empty: bool = True) -> str | None:
        """A string leaf: the right type, not too long, encodable. None (problem recorded) if not."""
        if type(value) is not str:
            self.error("wrong-type", path, f"expected a string, got {_json_type(value)}")
            return None
        if len(value) > self.limits.max_string_length:
            self.error("string-too-long", path, f"longer than {self.limits.max_string_length} characters")
            return None
        if not value.isprintable() and _CONTROL.search(value):
            # NUL cannot be stored in PostgreSQL text, and none of them belongs in a name or URL.
            self.error("control-character", path, "contains a control character (U+0000-U+001F, U+007F-U+009F)")
            return None
        if not value.isascii():
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                self.error("invalid-string", path, "contains a lone surrogate")
                return None
        if not value and not allow_empty:
            self.error("invalid-value", path, "must not be empty")
            return None
        return value

    def integer(self, value: object, path: str, low: int, high: int) -> int | None:
        # bool is an int in Python but not a number in JSON: `true` is never a port.
        if type(value) is not int:
            self.error("wrong-type", path, f"expected an integer, got {_json_type(value)}")
            return None
        if not low <= value <= high:
            self.error("out-of-range", path, f"{value} is outside {low}..{high}")
            return None
        return value

    def obj(self, value: object, path: str) -> dict[str, object] | None:
        if not isinstance(value, dict):
            self.error("wrong-type", path, f"expected an object, got {_json_type(value)}")
            return None
        return value

    def array(self, value: object, path: str) -> list[object] | None:
        if type(value) is not list:
            self.error("wrong-type", path, f"expected an array, got {_json_type(value)}")
            return None
        return value


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return f"the number {value!r}"[:60]
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


json_type = _json_type
