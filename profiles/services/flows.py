"""Canonical flows in the database: one row per distinct Flow, shared by every submission."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict
from typing import Any

from django.utils import timezone

from profiles.consensus.risk import registrable_domain
from profiles.models import Flow as FlowRow
from profiles.models import PeerDomain
from profiles.mud.flows import FLOW_FIELDS, Flow, PortMatch

_PORTS = ("src_port", "dst_port")

# A key names one flow forever, so the dataclass built from it can be kept by key. (Not by
# row id: a rolled-back insert may hand the same id to another flow.) Bounded: a process
# that has read more distinct flows than this starts afresh (a few hundred bytes each).
_BY_KEY: dict[str, Flow] = {}
_BY_KEY_MAX = 200_000


def flow_spec(flow: Flow) -> dict[str, Any]:
    """The JSON form of a Flow stored beside its key; only the fields that are set."""
    spec = {
        name: asdict(v) if isinstance(v, PortMatch) else v
        for name in FLOW_FIELDS
        if (v := getattr(flow, name)) not in (None, (), "")
    }
    if flow.extra:
        spec["extra"] = [list(pair) for pair in flow.extra]
    return spec


def flow_from_spec(spec: dict[str, Any]) -> Flow:
    fields = dict(spec)
    for name in _PORTS:
        if fields.get(name) is not None:
            fields[name] = PortMatch(**fields[name])
    if "extra" in fields:
        fields["extra"] = tuple(tuple(pair) for pair in fields["extra"])
    return Flow(**fields)


def flows_ensure(flows: Iterable[Flow]) -> dict[Flow, int]:
    """The row id of each flow, inserting those never seen before (safe under concurrency)."""
    by_key = {flow.key: flow for flow in flows}
    if not by_key:
        return {}
    found = dict(FlowRow.objects.filter(key__in=by_key).values_list("key", "id"))
    missing = [FlowRow(key=key, spec=flow_spec(flow)) for key, flow in by_key.items() if key not in found]
    if missing:
        FlowRow.objects.bulk_create(missing, ignore_conflicts=True)
        found.update(FlowRow.objects.filter(key__in=[row.key for row in missing]).values_list("key", "id"))
        _domains_seen([by_key[row.key] for row in missing])
    return {flow: found[key] for key, flow in by_key.items()}


def _domains_seen(flows: list[Flow]) -> None:
    names = {registrable_domain(flow.peer) for flow in flows if flow.peer_kind == "dnsname"}
    if names:
        now = timezone.now()
        PeerDomain.objects.bulk_create(
            [PeerDomain(name=n, first_seen=now) for n in sorted(names)], ignore_conflicts=True
        )


def flows_by_id(ids: Iterable[int]) -> dict[int, Flow]:
    """The flows with these row ids. Flows this process has built before are found by key;
    only the others' JSON specs are read and decoded."""
    wanted = set(ids)
    out: dict[int, Flow] = {}
    missing: dict[str, int] = {}
    for row_id, key in FlowRow.objects.filter(id__in=wanted).values_list("id", "key"):
        flow = _BY_KEY.get(key)
        if flow is None:
            missing[key] = row_id
        else:
            out[row_id] = flow
    if missing:
        if len(_BY_KEY) + len(missing) > _BY_KEY_MAX:
            _BY_KEY.clear()
        for row_id, key, spec in FlowRow.objects.filter(id__in=missing.values()).values_list("id", "key", "spec"):
            out[row_id] = _BY_KEY[key] = flow_from_spec(spec)
    return out
