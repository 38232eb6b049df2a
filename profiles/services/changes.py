"""Keeping the change feed bounded: entries older than the retention are pruned, and the
horizon is recorded so that a gateway asking for them is told to bootstrap instead."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from profiles.models import Change, FeedHorizon


@transaction.atomic
def changes_prune(*, now: datetime | None = None, retention: timedelta | None = None) -> int:
    """Delete the feed entries older than the retention; returns how many went."""
    now = now or timezone.now()
    retention = retention if retention is not None else timedelta(days=settings.MUDHUB_CHANGES_RETENTION_DAYS)
    old = Change.objects.filter(created_at__lt=now - retention)
    through = old.aggregate(seq=Max("seq"))["seq"]
    if through is None:
        return 0
    # The horizon first: a reader that sees the entries gone also sees why.
    FeedHorizon.objects.create(pruned_through=through)
    deleted, _ = Change.objects.filter(seq__lte=through).delete()
    return deleted
