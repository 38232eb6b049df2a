"""Submissions: read what a contributor sent, keep it, and mark the model for a recompute."""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from profiles import mud
from profiles.errors import DomainError, problem, problems_from
from profiles.models import Contributor, DeviceModel, ModerationDecision, Submission
from profiles.models import Flow as FlowRow
from profiles.mud.flows import Flow
from profiles.regions import is_country
from profiles.services.catalog import device_model_resolve, firmware_resolve, manufacturer_resolve
from profiles.services.flows import flows_ensure
from profiles.services.groups import merge_collector
from profiles.services.moderation import decision_record, frozen_flow_ids
from profiles.services.native_flows import native_flows_read
from profiles.services.recompute import device_model_mark_dirty

# A clock a little fast on the collector is not an error; a day in the future is.
_FUTURE_SLACK = timedelta(minutes=10)
# The burst freeze (CONSENSUS.md, "Anti-abuse defaults").
BURST_GROUPS = 5
BURST_WINDOW = timedelta(hours=24)
YOUNG_ACCOUNT = timedelta(days=30)


@dataclass(frozen=True)
class SubmissionContent:
    """The validated content of a submission: its flows and what the MUD file said of itself."""

    format: str
    flows: frozenset[Flow]
    warnings: list[dict[str, str]]
    meta: dict[str, Any]
    ace_count: int


def submission_content_read(payload: dict[str, Any]) -> tuple[SubmissionContent | None, list[dict[str, str]]]:
    """Parse the `mud` or `flows` member; return the content or every problem found in it."""
    has_mud, has_flows = "mud" in payload, "flows" in payload
    if has_mud == has_flows:
        return None, [problem("content_required", "/", "send exactly one of 'mud' (a MUD file) or 'flows'")]
    if has_flows:
        flows, warnings, problems = native_flows_read(payload["flows"])
        if problems:
            return None, problems
        return SubmissionContent("flows", flows, warnings, {}, len(flows)), []
    document = payload["mud"]
    # A double-encoded file (a JSON string holding the MUD JSON) is handed over as the
    # string; the codec recognises and unwraps it with a warning.
    data = document if isinstance(document, str) else json.dumps(document, ensure_ascii=False)
    try:
        parsed = mud.parse(data.encode("utf-8"), mode="import")
    except mud.MudValidationError as exc:
        return None, problems_from(exc.problems, "/mud")
    if not parsed.flows:
        return None, [problem("no_flows", "/mud", "the MUD file permits no flow: there is nothing to merge")]
    meta = {
        "mud_url": parsed.meta.mud_url,
        "mfg_name": parsed.meta.mfg_name,
        "model_name": parsed.meta.model_name,
        "firmware_rev": parsed.meta.firmware_rev,
        "software_rev": parsed.meta.software_rev,
        "systeminfo": parsed.meta.systeminfo,
        "last_update": parsed.meta.last_update.isoformat(),
    }
    return SubmissionContent(
        "mud", parsed.flows, problems_from(list(parsed.warnings), "/mud"), meta, parsed.ace_count
    ), []


def collector_hash(collector: str) -> str:
    """Collector tokens are kept only as keyed hashes: equal tokens stay comparable."""
    key = hashlib.sha256(("mudhub-collector:" + settings.SECRET_KEY).encode()).digest()
    return hmac.new(key, collector.encode("utf-8"), hashlib.sha256).hexdigest()


def _observation(observation: dict[str, Any] | None, now: datetime) -> tuple[datetime | None, datetime, list[dict]]:
    observation = observation or {}
    start, end = observation.get("start"), observation.get("end") or now
    problems = []
    if end > now + _FUTURE_SLACK:
        problems.append(problem("in_future", "/observation/end", "the observation ends in the future"))
    if start is not None and start > end:
        problems.append(problem("window_reversed", "/observation/start", "the observation starts after it ends"))
    country = observation.get("country") or ""
    if country and not is_country(country):
        problems.append(problem("unknown_country", "/observation/country", "not an ISO 3166-1 alpha-2 country code"))
    return start, end, problems


@transaction.atomic
def submission_create(
    *,
    contributor: Contributor,
    raw: bytes,
    raw_content_type: str,
    device: dict[str, Any],
    observation: dict[str, Any] | None,
    content: SubmissionContent,
    source: str = Submission.Source.CROWD,
) -> tuple[Submission, bool]:
    """Store one submission; (submission, created). The same contributor sending the same
    bytes again gets the stored one back. Everything happens in one transaction: the model
    is marked dirty with it, and the recompute is queued only once it commits."""
    digest = hashlib.sha256(raw).hexdigest()
    existing = Submission.objects.filter(contributor=contributor, sha256=digest).defer("raw").first()
    if existing is not None:
        return existing, False
    now = timezone.now()
    problems: list[dict[str, str]] = []
    manufacturer_name = device.get("manufacturer") or content.meta.get("mfg_name")
    model_name = device.get("model") or content.meta.get("model_name")
    if not manufacturer_name:
        problems.append(problem("required", "/device/manufacturer", "name the manufacturer (or send mfg-name)"))
    if not model_name:
        problems.append(problem("required", "/device/model", "name the model (or send model-name)"))
    start, end, window_problems = _observation(observation, now)
    problems += window_problems
    if problems:
        raise DomainError("invalid_input", f"{len(problems)} problem(s) in the request.", problems=problems)

    manufacturer = manufacturer_resolve(name=manufacturer_name)
    device_model = device_model_resolve(manufacturer=manufacturer, name=model_name)
    firmware = firmware_resolve(
        device_model=device_model, version=device.get("firmware") or content.meta.get("firmware_rev"), seen_at=end
    )
    flow_ids = sorted(flows_ensure(content.flows).values())
    collector = (observation or {}).get("collector")
    try:
        with transaction.atomic():
            submission = Submission.objects.create(
                contributor=contributor,
                device_model=device_model,
                firmware=firmware,
                source=source,
                format=content.format,
                raw=raw,
                raw_content_type=raw_content_type,
                sha256=digest,
                observed_start=start,
                observed_end=end,
                collector_hash=collector_hash(collector) if collector else "",
                country=((observation or {}).get("country") or "").upper(),
                flow_ids=flow_ids,
                flow_count=len(flow_ids),
                ace_count=content.ace_count,
                warnings=content.warnings,
                meta=content.meta,
            )
    except IntegrityError:
        # The same bytes from the same contributor, committed by a concurrent request.
        return Submission.objects.get(contributor=contributor, sha256=digest), False
    Submission.objects.filter(
        contributor=contributor, device_model=device_model, firmware=firmware, status=Submission.Status.ACTIVE
    ).exclude(pk=submission.pk).update(status=Submission.Status.SUPERSEDED, superseded_by=submission)
    if submission.collector_hash:
        merge_collector(contributor_id=contributor.pk, collector_hash=submission.collector_hash)
    if contributor.created_at >= now - YOUNG_ACCOUNT:
        # Only a young account's submission can add to a burst; an established one's support
        # does not count towards it, so the count it would find is the one already checked.
        burst_freeze_check(device_model=device_model, flow_ids=flow_ids, now=now)
    device_model_mark_dirty(device_model_id=device_model.pk)
    return submission, True


def burst_freeze_check(*, device_model: DeviceModel, flow_ids: list[int], now: datetime) -> list[int]:
    """Freeze, for a moderator, every flow that gained support from >= 5 groups of accounts
    younger than 30 days within 24 hours (CONSENSUS.md): the shape of a sock-puppet push."""
    recent = Submission.objects.filter(
        device_model=device_model,
        status=Submission.Status.ACTIVE,
        created_at__gte=now - BURST_WINDOW,
        contributor__created_at__gte=now - YOUNG_ACCOUNT,
    ).values_list("contributor_id", "contributor__group_key", "flow_ids")
    groups: dict[int, set[str]] = {}
    wanted = set(flow_ids)
    for contributor_id, group_key, ids in recent:
        for flow_id in wanted.intersection(ids):
            groups.setdefault(flow_id, set()).add(group_key or f"c{contributor_id}")
    burst = sorted(flow_id for flow_id, seen in groups.items() if len(seen) >= BURST_GROUPS)
    if not burst:
        return []
    frozen = frozen_flow_ids(device_model.pk)
    keys = dict(FlowRow.objects.filter(pk__in=burst).values_list("id", "key"))
    made = []
    for flow_id in burst:
        if (flow_id, "") in frozen:
            continue
        decision_record(
            moderator=None,
            kind=ModerationDecision.Kind.FREEZE,
            reason=f"burst: support from {len(groups[flow_id])} groups of accounts younger than 30 days within 24 h",
            device_model=device_model,
            flow_key=keys[flow_id],
        )
        made.append(flow_id)
    return made
