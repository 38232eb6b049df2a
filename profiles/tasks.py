"""Celery tasks: each takes ids, re-reads what it needs, and calls one service."""

from __future__ import annotations

import contextlib
import socket
from datetime import timedelta

from celery import Task, shared_task
from django.utils import timezone

from profiles.models import WorkerHeartbeat


@shared_task(name="profiles.tasks.worker_heartbeat", bind=True)
def worker_heartbeat(self: Task) -> str:
    """Record that a worker reached the broker and the database; /api/v1/status/ shows it."""
    hostname = self.request.hostname or socket.gethostname()
    WorkerHeartbeat.objects.update_or_create(hostname=hostname, defaults={"seen_at": timezone.now()})
    return hostname


@shared_task(name="profiles.tasks.recompute_model", acks_late=True)
def recompute_model(device_model_id: int) -> dict[str, object]:
    """Recompute one model's consensus; idempotent, so a duplicate delivery is harmless."""
    from profiles.models import DeviceModel
    from profiles.services.recompute import consensus_recompute, recompute_started

    recompute_started(device_model_id=device_model_id)
    # Several changes committed together queue several runs; the first one clears the mark
    # and the rest have nothing new to read. (manage.py recompute always recomputes.)
    if not DeviceModel.objects.filter(pk=device_model_id, dirty_since__isnull=False).exists():
        return {"model": device_model_id, "skipped": "not dirty"}
    outcome = consensus_recompute(device_model_id=device_model_id)
    return {"model": outcome.device_model_id, "versions": outcome.scopes, "published": outcome.published}


@shared_task(name="profiles.tasks.sweep_dirty_models")
def sweep_dirty_models() -> list[int]:
    """Recompute every model still dirty after the debounce window: the safety net for
    recomputes whose message was lost or never sent (broker down)."""
    from django.conf import settings

    from profiles.services.recompute import consensus_recompute, dirty_models

    grace = timedelta(seconds=settings.MUDHUB_RECOMPUTE_DEBOUNCE_SECONDS * 2)
    done = []
    for device_model_id in dirty_models(older_than=grace):
        consensus_recompute(device_model_id=device_model_id)
        done.append(device_model_id)
    return done


@shared_task(name="profiles.tasks.recompute_due_models")
def recompute_due_models() -> list[int]:
    """Recompute every model whose consensus time alone may have changed by now (a hold
    expired, a domain matured, support decayed past a threshold), as the engine said."""
    from django.conf import settings

    from profiles.services.recompute import consensus_recompute, due_models

    done = []
    for device_model_id in due_models(now=timezone.now(), limit=settings.MUDHUB_TIME_RECOMPUTE_BATCH):
        consensus_recompute(device_model_id=device_model_id)
        done.append(device_model_id)
    return done


@shared_task(name="profiles.tasks.sweep_stale_models")
def sweep_stale_models() -> int:
    """The slow safety net: models not computed for MUDHUB_TIME_SWEEP_DAYS become due."""
    from django.conf import settings

    from profiles.services.recompute import stale_models_mark_due

    return stale_models_mark_due(
        older_than=timedelta(days=settings.MUDHUB_TIME_SWEEP_DAYS), limit=settings.MUDHUB_TIME_RECOMPUTE_BATCH
    )


@shared_task(name="profiles.tasks.nightly_trust")
def nightly_trust() -> dict[str, int]:
    """The nightly trust job: independence merges from behaviour, then acceptance of 72-hour
    old submissions, vote judging, decay, and trust-level promotion and demotion."""
    from profiles.services.groups import merges_detect
    from profiles.services.reputation import reputation_nightly

    merged = merges_detect()
    counts = dict(reputation_nightly())
    counts["group_merges"] = merged
    return counts


@shared_task(name="profiles.tasks.expired_tokens_delete")
def expired_tokens_delete() -> int:
    """Delete every expired API token (authentication refuses them already)."""
    from profiles.api.authentication import expired_tokens_delete as delete

    return delete()


@shared_task(name="profiles.tasks.credit_flow_transitions")
def credit_flow_transitions(model_id: int, credits: list[list[object]], at: str) -> int:
    """Credit the supporters of flows that became ALLOWED or REJECTED (idempotent per cause);
    each credit names its outcome (see recompute.flow_transitions_credit)."""
    from datetime import datetime

    from profiles.services.recompute import flow_transitions_credit

    rows = [
        (int(flow_id), outcome if isinstance(outcome, bool) else str(outcome), [int(c) for c in people])  # type: ignore[misc]
        for flow_id, outcome, people in credits
    ]
    return flow_transitions_credit(model_id=model_id, credits=rows, at=datetime.fromisoformat(at))


@shared_task(name="profiles.tasks.mirror_manufacturer_profiles")
def mirror_manufacturer_profiles() -> int:
    """Queue a re-fetch of every mirrored manufacturer profile whose cache-validity has passed."""
    from profiles.services.mirroring import mirrored_profiles_due

    due = mirrored_profiles_due()
    for profile_id in due:
        mirror_manufacturer_profile.delay(profile_id)
    return len(due)


@shared_task(name="profiles.tasks.mirror_manufacturer_profile")
def mirror_manufacturer_profile(profile_id: int) -> int:
    """Fetch one mirrored profile again; the id of the profile in force afterwards."""
    from profiles.services.mirroring import mirrored_profile_refresh

    return mirrored_profile_refresh(profile_id=profile_id).pk


@shared_task(name="profiles.tasks.publish_index")
def publish_index() -> int:
    """Sign and publish a new index of every served file (queued after publishes)."""
    from django.core.cache import cache

    from profiles.services.index import index_publish

    with contextlib.suppress(Exception):  # publishes from now on queue a rebuild of their own
        cache.delete("publish-index-queued")
    return index_publish().version


@shared_task(name="profiles.tasks.index_refresh")
def index_refresh() -> int | None:
    """Sign the index again before it expires, or when the feed moved past it."""
    from profiles.services.index import index_refresh as refresh

    index = refresh()
    return index.version if index is not None else None


@shared_task(name="profiles.tasks.changes_prune")
def changes_prune() -> int:
    """Drop change-feed entries older than MUDHUB_CHANGES_RETENTION_DAYS."""
    from profiles.services.changes import changes_prune as prune

    return prune()
