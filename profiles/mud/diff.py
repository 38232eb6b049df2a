"""What changed between two MUD documents, by flows and metadata; names and order do not count."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime

from .flows import Flow
from .parse import MudDocument


@dataclass(frozen=True, slots=True)
class MudDiff:
    added: tuple[Flow, ...] = ()
    removed: tuple[Flow, ...] = ()
    meta_changes: dict[str, tuple[object, object]] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.meta_changes)

    def as_dict(self) -> dict[str, object]:
        return {
            "added": [f.key for f in self.added],
            "removed": [f.key for f in self.removed],
            "meta_changes": {
                name: [_jsonable(old), _jsonable(new)] for name, (old, new) in sorted(self.meta_changes.items())
            },
        }


def _jsonable(value: object) -> object:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def diff(a: MudDocument, b: MudDocument) -> MudDiff:
    """Flows in b but not a (added), in a but not b (removed), and each metadata field that differs."""
    changes: dict[str, tuple[object, object]] = {}
    for f in fields(a.meta):
        old, new = getattr(a.meta, f.name), getattr(b.meta, f.name)
        if old != new:
            changes[f.name] = (old, new)
    return MudDiff(
        added=tuple(sorted(b.flows - a.flows, key=lambda f: f.key)),
        removed=tuple(sorted(a.flows - b.flows, key=lambda f: f.key)),
        meta_changes=changes,
    )
