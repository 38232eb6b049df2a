"""Step 8: the input digest, sha256 over one canonical serialisation of every input.

The document is JSON with sorted keys and no whitespace; datetimes as integer
microseconds since the Unix epoch; floats as Python's shortest repr; every list in id
order (see `prepare`). Flows are listed once, by key, in key order; everything else names
a flow by its position in that list. The observations' flow sets enter as the sha256 of
the (observations x flows) membership matrix, rows in submission-id order, each row
bit-packed (numpy.packbits, big-endian bit order): this keeps the document small on
popular models while binding every flow of every observation. The digest also binds the
bundled public-suffix list's version, because the risk classes depend on it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from datetime import UTC, datetime, timedelta
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import numpy as np

from .prepare import Prepared

DIGEST_FORMAT = "mudhub-consensus-input/1"

try:
    PSL_VERSION = version("publicsuffixlist")
except PackageNotFoundError:  # pragma: no cover - only when run from a source tree
    PSL_VERSION = "unknown"


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def canonical_time(value: datetime) -> str:
    """The readable canonical spelling, for stored rows."""
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def epoch_micros(value: datetime) -> int:
    return (value - _EPOCH) // _MICROSECOND


def _jsonable(value: Any) -> Any:
    if isinstance(value, frozenset | set):
        return sorted(_jsonable(v) for v in value)
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return value


def _params_document(prepared: Prepared) -> dict[str, Any]:
    fields: dict[str, Any] = dataclasses.asdict(prepared.inp.params)
    return {name: _jsonable(value) for name, value in fields.items()}


def _membership_hash(prepared: Prepared) -> str:
    return hashlib.sha256(np.packbits(prepared.membership, axis=1).tobytes()).hexdigest()


def _scope(firmware: frozenset[str] | None) -> list[str] | None:
    return None if firmware is None else sorted(firmware)


def _scope_document(prepared: Prepared) -> dict[str, Any]:
    """The members of the document read from `prepared.inp` (the scope and what it shares)."""
    inp = prepared.inp
    ctx = inp.context
    return {
        "format": DIGEST_FORMAT,
        "psl": PSL_VERSION,
        "params": _params_document(prepared),
        "model": inp.model_id,
        "firmware": inp.firmware,
        "region": inp.region,
        "as_of": epoch_micros(inp.as_of),
        "context": {
            "manufacturer_domains": sorted(ctx.manufacturer_domains),
            "domain_first_seen": sorted((d, epoch_micros(t)) for d, t in ctx.domain_first_seen.items()),
            "firmware_order": list(ctx.firmware_order),
        },
        "condition_since": sorted((k, epoch_micros(t)) for k, t in inp.condition_since.items()),
        "previous_states": sorted(inp.previous_states.items()),
    }


def _inputs_document(prepared: Prepared) -> dict[str, Any]:
    """The members read from the prepared records alone, which every scope of a model shares
    (`compute_scopes` prepares once; `dataclasses.replace(prepared, inp=...)` keeps them)."""
    return {
        "flows": list(prepared.keys),
        "contributors": [
            [c.id, int(c.trust_level), float(c.reputation), c.group, bool(c.suspended), bool(c.is_moderator)]
            for c in prepared.contributors.values()
        ],
        "observations": [
            [
                o.submission_id,
                o.contributor_id,
                o.known_firmware,
                epoch_micros(o.last_seen),
                float(o.window_hours),
                o.region,
            ]
            for o in prepared.observations
        ],
        "observation_flows": _membership_hash(prepared),
        "votes": [[v.id, v.contributor_id, v.flow_key, v.value, v.firmware] for v in prepared.votes],
        "moderator_decisions": [[d.id, d.kind, d.flow_key, d.firmware] for d in prepared.decisions],
        "manufacturer_profiles": [
            [
                p.id,
                np.asarray(cols).tolist(),
                _scope(p.firmware),
                epoch_micros(p.issued_at),
                p.signature_valid,
                p.certificate_pinned,
                p.withdrawn,
                p.superseded,
            ]
            for p, cols in zip(prepared.profiles, prepared.profile_columns, strict=True)
        ],
        "manufacturer_statements": [
            [s.id, col, s.verdict, _scope(s.firmware), s.valid]
            for s, col in zip(prepared.statements, prepared.statement_columns, strict=True)
        ],
    }


def canonical_document(prepared: Prepared) -> dict[str, Any]:
    return {**_scope_document(prepared), **_inputs_document(prepared)}


def _encode(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)


def canonical_bytes(prepared: Prepared) -> bytes:
    """`_encode(canonical_document(prepared))`, built member by member: a JSON object with
    sorted keys and no whitespace is its members' encodings joined in key order, so the
    encoding of the members every scope shares (a thousand observations and contributors on
    a popular model) is made once per `prepare` and kept in `prepared.shared`."""
    parts = prepared.shared.get("digest-parts")
    if parts is None:
        parts = prepared.shared["digest-parts"] = {k: _encode(v) for k, v in _inputs_document(prepared).items()}
    members = {**{k: _encode(v) for k, v in _scope_document(prepared).items()}, **parts}
    return ("{" + ",".join(f"{_encode(k)}:{members[k]}" for k in sorted(members)) + "}").encode("ascii")


def digest(prepared: Prepared) -> str:
    return hashlib.sha256(canonical_bytes(prepared)).hexdigest()
