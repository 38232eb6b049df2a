"""Problems found in a MUD file: errors and warnings are the same value type.

Every problem has a stable `code` (API clients and tests match on it, so never rename one),
a JSON Pointer (RFC 6901) into the input as it was received, and a message for people.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Problem:
    code: str
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.code} at {self.path or '/'}: {self.message}"

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "path": self.path, "message": self.message}


class MudValidationError(ValueError):
    """The one exception `parse` raises: it carries every problem found, not the first."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = list(problems)
        summary = "; ".join(str(p) for p in self.problems[:5])
        more = f" (and {len(self.problems) - 5} more)" if len(self.problems) > 5 else ""
        super().__init__(f"invalid MUD file: {summary}{more}")

    @property
    def codes(self) -> list[str]:
        return [p.code for p in self.problems]


# The stable problem codes, with what each means. Errors in both modes, errors in strict mode
# only (the dialects, which import mode accepts and records as warnings), and warnings.
CODES: dict[str, str] = {
    # input
    "too-large": "the input is larger than Limits.max_bytes",
    "too-deep": "the JSON nesting is deeper than Limits.max_depth",
    "not-utf8": "the input is not UTF-8",
    "not-json": "the input is not JSON (or uses NaN/Infinity, or a number too large to read)",
    "duplicate-key": "a JSON object has the same member twice",
    "not-an-object": "the top level is not a JSON object",
    "byte-order-mark": "the input starts with a UTF-8 byte order mark, which was ignored",
    "internal-error": "the codec failed on this input; please report it",
    # document shape
    "missing-mud-container": 'there is no top-level "ietf-mud:mud" object',
    "missing-member": "a mandatory member is missing",
    "wrong-type": "a member has the wrong JSON type",
    "unknown-member": "a member that the YANG modules do not define",
    "pre-rfc-draft": "pre-RFC draft syntax (acl-name/acl-type, access-list-entries, ...)",
    "too-many-acls": "more ACLs than Limits.max_acls",
    "too-many-aces": "more ACEs than Limits.max_aces",
    "name-length": "an ACL or ACE name outside 1..Limits.max_name_length characters",
    "string-too-long": "a string longer than Limits.max_string_length",
    "invalid-string": "a string that cannot be encoded as UTF-8 (lone surrogate)",
    "control-character": "a string with a control character (U+0000-U+001F, U+007F-U+009F)",
    # values
    "unsupported-mud-version": "mud-version is not 1",
    "invalid-mud-url": "mud-url is not an absolute https URL with a host name",
    "invalid-uri": "a URI member is not a URI",
    "invalid-uri-scheme": "a URI with a scheme its member cannot mean (javascript:, data:, file:, ...)",
    "invalid-date": "a date is not RFC 3339 with a UTC offset",
    "out-of-range": "a number outside the range of its YANG type",
    "invalid-identity": "an identityref value that RFC 8519 does not define",
    "invalid-dnsname": "a DNS name that is not a host name (wildcards are never allowed)",
    "invalid-prefix": "an IP prefix that does not parse",
    "invalid-mac": "a MAC address that does not parse",
    "invalid-value": "a value that its YANG type does not allow",
    "not-empty-leaf": "a YANG empty leaf not written [null]",
    "invalid-port": "a port match with a bad operator, a port outside 0..65535 or a range with lower > upper",
    # references and consistency
    "dangling-acl-name": "a policy names an ACL that does not exist",
    "duplicate-name": "two ACLs, two ACEs of one ACL, or two policy entries share a name",
    "family-mismatch": "an ACE matches a header its ACL type does not allow (ipv6 in an ipv4 ACL, ...)",
    "protocol-mismatch": "protocol contradicts the L4 container (6 with tcp, 17 with udp, 1/58 with icmp)",
    "conflicting-l4": "more than one of tcp, udp, icmp in one ACE",
    "direction-initiated-outside-tcp": "ietf-mud:direction-initiated anywhere but under tcp",
    "ambiguous-peer": "an ACE names two peers (a DNS name and a network, or two MUD abstractions)",
    "ambiguous-family": "an ACE in a mixed ACL has no header that says which family it matches",
    "unsupported-match": "a match (interface references) that a MUD file cannot use",
    "duplicate-acls": "both acls and access-lists at the top level",
    # dialects: errors in strict mode, normalised with a warning in import mode
    "dialect-access-lists": "top-level ietf-access-control-list:access-lists instead of acls",
    "dialect-ethernet-acl-type": "ethernet-acl-type instead of eth-acl-type",
    "dialect-ethertype-string": 'ethertype written as a string such as "0x0800"',
    "dialect-double-encoded": "the JSON document is a JSON string holding the MUD JSON",
    "dialect-last-update-offset": "last-update without a UTC offset (UTC assumed)",
    "dialect-mud-url-host": "mud-url host is not a DNS host name (MUDgee writes underscores)",
    "dialect-missing-mud-url": "mud-url missing or empty",
    "dialect-empty-leaf": "a YANG empty leaf written as null, true, [] or {} instead of [null]",
    "dialect-eth-in-ip-acl": "eth matches inside an ipv4/ipv6 ACL (MUDgee); kept, ACL written as mixed type",
    "dialect-prefix-length": "an address without /length in a network match (MUDgee), read as one host",
    "dialect-port-range-operator": "a port range with an operator beside lower-port/upper-port (MUDgee)",
    "ace-skipped": "an ACE that cannot mean anything (wildcard name, wrong-family address), skipped on import",
    "dialect-unknown-member": "an unknown member outside the matches (ignored; an error in strict mode)",
    # warnings, both modes
    "gateway-controller": "the unregistered controller urn:ietf:params:mud:gateway, mapped to my-controller",
    "unregistered-controller-urn": "a controller URN under urn:ietf:params:mud: that IANA has not registered",
    "ace-not-accept": "a drop/reject ACE; MUD is an allow-list, so it makes no flow",
    "unused-acl": "an ACL that no policy uses; it makes no flow",
    "duplicate-flow": "an ACE that permits a flow already permitted",
    "host-bits-set": "a prefix with host bits set, normalised",
    "dnsname-ip-literal": "a dnsname that is an IP address, read as a /32 or /128 network",
    "empty-value": "an empty optional string, dropped",
    "logging-ignored": "the ACE logging action, which flows do not keep",
    "missing-mfg-name": "no mfg-name: crowd data cannot be keyed to a manufacturer",
    "missing-model-name": "no model-name: crowd data cannot be keyed to a device model",
    "firmware-rev-present": "firmware-rev is present (MUST NOT be when the device updates but its MUD URL does not)",
    "not-supported": "is-supported is false: the manufacturer no longer supports the device",
    "future-last-update": "last-update is in the future",
    "public-ip-literal": "a public IP address hard-coded as a peer",
    "public-resolver": "a public DNS/DoH/DoT resolver as a peer",
    "redundant-local-service": "a rule for local DNS/NTP, which MUD managers permit by default",
    "wide-rule": "a rule that permits any protocol and port to a whole class of peers",
    "tcp-reply-paired": "a to-device TCP ACE read as the reply of the file's device-initiated flow (import only)",
}
