"""Discrepancies kept in step with the consensus: one row per (model, scope, flow) that the
crowd would allow and the covering manufacturer profile omits. Rows outlive the versions,
so their ids and the manufacturer's answers stay put; a flow that stops being one is
marked cleared, and reopened (answer kept) if it comes back."""

from __future__ import annotations

from datetime import datetime

from profiles.consensus.result import ConsensusResult
from profiles.models import Discrepancy


def discrepancies_sync(
    *, device_model_id: int, scope: str, result: ConsensusResult, flow_ids: dict[str, int], at: datetime
) -> None:
    found = {flow_ids[row.key] for row in result.decisions if row.state == "DISCREPANCY"}
    profile_id = int(result.profile_id) if result.profile_id is not None else None
    rows = {row.flow_id: row for row in Discrepancy.objects.filter(device_model_id=device_model_id, scope=scope)}
    Discrepancy.objects.bulk_create(
        [
            Discrepancy(
                device_model_id=device_model_id, scope=scope, flow_id=flow_id, profile_id=profile_id, first_seen=at
            )
            for flow_id in sorted(found - rows.keys())
        ]
    )
    again = [r.pk for f, r in rows.items() if f in found and (r.cleared_at is not None or r.profile_id != profile_id)]
    if again:
        Discrepancy.objects.filter(pk__in=again).update(cleared_at=None, profile_id=profile_id)
    gone = [r.pk for f, r in rows.items() if f not in found and r.cleared_at is None]
    if gone:
        Discrepancy.objects.filter(pk__in=gone).update(cleared_at=at)
