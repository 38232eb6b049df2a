"""Who backs a flow: the contributors whose active submissions of a model contain it."""

from __future__ import annotations

from collections import defaultdict

from profiles.models import Submission


def supporters_by_flow(device_model_id: int) -> dict[int, set[int]]:
    """flow id -> contributor ids, for one model (one pass over its active submissions)."""
    out: dict[int, set[int]] = defaultdict(set)
    rows = Submission.objects.filter(device_model_id=device_model_id, status=Submission.Status.ACTIVE)
    for contributor_id, flow_ids in rows.values_list("contributor_id", "flow_ids").iterator(chunk_size=2000):
        for flow_id in flow_ids:
            out[flow_id].add(contributor_id)
    return out


def flow_supporters(device_model_id: int, flow_id: int) -> set[int]:
    rows = Submission.objects.filter(device_model_id=device_model_id, status=Submission.Status.ACTIVE)
    return {c for c, ids in rows.values_list("contributor_id", "flow_ids").iterator(chunk_size=2000) if flow_id in ids}
