"""Hard limits on what `parse` reads: every input path of mudhub is bounded."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Limits:
    max_bytes: int = 1024 * 1024
    # A MUD file needs 10 levels; 32 leaves room for extensions and stops stack games.
    max_depth: int = 32
    max_acls: int = 2000
    max_aces: int = 2000
    # RFC 8519 types ACL and ACE names as string 1..64.
    max_name_length: int = 64
    max_string_length: int = 1024


DEFAULT_LIMITS = Limits()
