"""The change feed as gateways read it: ordered entries after a cursor, or 'gone' past retention."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Max

from profiles.models import Change, FeedHorizon


class FeedGone(Exception):
    """The entries after `since` were pruned: the gateway must bootstrap from the export."""

    def __init__(self, since: int, horizon: int) -> None:
        super().__init__(f"the feed no longer holds the entries after {since}")
        self.since = since
        self.horizon = horizon


@dataclass(frozen=True)
class FeedPage:
    since: int
    next: int  # the cursor to resume from: the last entry's seq (or `since` when there is none)
    more: bool
    entries: list[Change]


def feed_horizon() -> int:
    """The highest seq pruned from the feed; 0 if nothing ever was."""
    return FeedHorizon.objects.aggregate(seq=Max("pruned_through"))["seq"] or 0


def changes_page(*, since: int, limit: int) -> FeedPage:
    horizon = feed_horizon()
    if since < horizon:
        raise FeedGone(since, horizon)
    rows = list(
        Change.objects.filter(seq__gt=since)
        .select_related("device_model__manufacturer", "profile", "merged_into__manufacturer")
        .order_by("seq")[: limit + 1]
    )
    more = len(rows) > limit
    rows = rows[:limit]
    return FeedPage(since=since, next=rows[-1].seq if rows else since, more=more, entries=rows)
