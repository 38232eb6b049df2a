"""The reputation ledger and the nightly trust job (CONSENSUS.md, "Contributors").

`ledger_add` is the one way points enter the ledger: it applies the caps, stores the capped
event and moves the contributor's running score. `reputation_nightly` accepts submissions,
judges votes, then rebuilds every score from the ledger and re-evaluates every level;
`reputation_replay` rebuilds the scores alone (`manage.py recompute_reputation`). Both
stream: contributors in pages ordered by id, each page's ledger through a cursor, so
memory does not grow with the number of contributors or events.

The arithmetic lives in `profiles.trust` (pure); this module reads and writes.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import groupby
from operator import itemgetter
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone

from profiles.models import LATEST, UNKNOWN_FIRMWARE, ConsensusFlow, ConsensusProfile, Contributor, Submission, Vote
from profiles.models import ReputationEvent as Ledger
from profiles.trust import (
    DEFAULT_TRUST_PARAMS,
    Event,
    Request,
    Score,
    Standing,
    advance,
    apply_caps,
    evaluate_level,
    fold,
    same_score,
    submission_accepted,
    utc_day_bounds,
    vote_verdict,
)

PARAMS = DEFAULT_TRUST_PARAMS
# Contributors per page (and per transaction holding their row locks), ledger rows per
# cursor fetch, rows per UPDATE statement, submissions or votes judged per page.
PAGE = 2000
EVENT_FETCH = 10000
WRITE_BATCH = 500
JUDGE_PAGE = 500

_CONTRIBUTOR_FIELDS = (
    "id",
    "created_at",
    "trust_level",
    "reputation_r",
    "reputation_s",
    "strikes",
    "suspended_at",
    "tl3_granted",
    "reputation_as_of",
)


def _now(now: datetime | None) -> datetime:
    now = now or timezone.now()
    if timezone.is_naive(now):
        raise ValueError("now must be timezone-aware")
    return now


# --- The ledger -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """One event a cause asks for, before the caps (see `ledger_add`)."""

    contributor_id: int
    kind: str
    cause: str
    delta_r: float = 0.0
    delta_s: float = 0.0
    strike: bool = False
    device_model_id: int | None = None


def ledger_add(
    *,
    contributor_id: int,
    kind: str,
    cause: str,
    delta_r: float = 0.0,
    delta_s: float = 0.0,
    strike: bool = False,
    device_model_id: int | None = None,
    at: datetime | None = None,
) -> Ledger | None:
    """Add one event to a contributor's ledger, once per (contributor, kind, cause).

    Returns the stored event, or None when that cause was already recorded. The r gain is
    capped here (+10 per UTC day; 5 earning flow confirmations per model and day), so the
    ledger holds the capped value and replaying it needs no caps. The contributor's running
    score is decayed to the later of its time and `at`, and the second strike suspends the
    account. The contributor row is locked for the duration, so concurrent additions for
    one contributor see each other's caps; joins the caller's transaction if there is one.
    """
    entry = LedgerEntry(contributor_id, kind, cause, delta_r, delta_s, strike, device_model_id)
    try:
        return ledger_add_many([entry], at=at)[0]
    except IntegrityError:
        # Only reachable where row locks are no-ops and a writer slipped in between.
        return None


def ledger_add_many(entries: Sequence[LedgerEntry], *, at: datetime | None = None) -> list[Ledger | None]:
    """`ledger_add` for each entry in order, all at `at`, in a fixed number of queries.

    The result is the same as adding the entries one by one (the caps count what the earlier
    entries gained); a publish that credits hundreds of supporters at once costs five
    statements instead of several per supporter. The contributors' rows are locked in id
    order for the duration. Returns the stored event per entry, None for a cause already
    recorded (earlier, or by an earlier entry of the same call).
    """
    at = _now(at)
    for entry in entries:
        if entry.kind not in Ledger.Kind.values:
            raise ValueError(f"unknown reputation event kind {entry.kind!r}")
        for name, value in (("delta_r", entry.delta_r), ("delta_s", entry.delta_s)):
            if not (math.isfinite(value) and value >= 0.0):
                raise ValueError(f"{name} must be a finite number >= 0, not {value!r}")
    if not entries:
        return []
    ids = sorted({entry.contributor_id for entry in entries})
    with transaction.atomic():
        people = {p.pk: p for p in Contributor.objects.select_for_update().filter(pk__in=ids).order_by("pk")}
        missing = set(ids) - people.keys()
        if missing:
            raise Contributor.DoesNotExist(f"no contributor {sorted(missing)}")
        recorded = set(
            Ledger.objects.filter(contributor_id__in=ids, cause__in={e.cause for e in entries}).values_list(
                "contributor_id", "kind", "cause"
            )
        )
        fresh: dict[int, list[tuple[int, LedgerEntry]]] = {}  # per contributor, in order: (position, entry)
        for position, entry in enumerate(entries):
            key = (entry.contributor_id, entry.kind, entry.cause)
            if key not in recorded:
                recorded.add(key)
                fresh.setdefault(entry.contributor_id, []).append((position, entry))
        start, end = utc_day_bounds(at)
        day = Ledger.objects.filter(contributor_id__in=fresh, created_at__gte=start, created_at__lt=end)
        gained = dict(
            day.order_by().values("contributor_id").annotate(r=Sum("delta_r")).values_list("contributor_id", "r")
        )
        today = start.date()
        confirmed: dict[int, Counter[tuple[date, int | None]]] = {}
        earning = day.filter(kind=Ledger.Kind.FLOW_CONFIRMED, delta_r__gt=0)
        for contributor_id, model_id in earning.values_list("contributor_id", "device_model_id"):
            confirmed.setdefault(contributor_id, Counter())[(today, model_id)] += 1
        out: list[Ledger | None] = [None] * len(entries)
        events: dict[int, list[Event]] = {}
        for contributor_id, items in fresh.items():
            requests = [
                Request(at=at, delta_r=e.delta_r, delta_s=e.delta_s, strike=e.strike,
                        flow_confirmation=e.kind == Ledger.Kind.FLOW_CONFIRMED, model=e.device_model_id)
                for _, e in items
            ]  # fmt: skip
            made = apply_caps(
                requests,
                PARAMS,
                gained={today: gained.get(contributor_id) or 0.0},
                confirmations=confirmed.get(contributor_id),
            )
            events[contributor_id] = made
            for (position, entry), event in zip(items, made, strict=True):
                out[position] = Ledger(
                    contributor_id=contributor_id,
                    kind=entry.kind,
                    cause=entry.cause,
                    delta_r=event.delta_r,
                    delta_s=event.delta_s,
                    strike=event.strike,
                    device_model_id=entry.device_model_id,
                    created_at=at,
                )
        with transaction.atomic():
            Ledger.objects.bulk_create([event for event in out if event is not None])
        moved = []
        for contributor_id, made in events.items():
            person = people[contributor_id]
            before = _stored_score(person.reputation_r, person.reputation_s, person.strikes, person.reputation_as_of)
            after = advance(before, made, max(at, before.as_of or at), PARAMS)
            person.reputation_r, person.reputation_s, person.strikes = after.r, after.s, after.strikes
            person.reputation_as_of = after.as_of
            person.suspended_at = person.suspended_at or after.suspended_at
            moved.append(person)
        Contributor.objects.bulk_update(
            moved,
            ["reputation_r", "reputation_s", "strikes", "reputation_as_of", "suspended_at"],
            batch_size=WRITE_BATCH,
        )
    return out


def _stored_score(r: float, s: float, strikes: int, as_of: datetime | None) -> Score:
    # suspended_at stays out: the stored one may be a moderator's, which strikes never undo.
    return Score(r=r, s=s, strikes=strikes, as_of=as_of)


# --- Judging submissions and votes --------------------------------------------------------


def _current_profiles(device_model_ids: set[int]) -> dict[tuple[int, str], int]:
    rows = ConsensusProfile.objects.filter(device_model_id__in=device_model_ids, is_current=True)
    return {(model, scope): pk for pk, model, scope in rows.values_list("pk", "device_model_id", "scope")}


def _profile_for(profiles: dict[tuple[int, str], int], device_model_id: int, firmware: str) -> int | None:
    """The consensus a contribution is judged against: its firmware's, else the model's latest."""
    if firmware and firmware != UNKNOWN_FIRMWARE and (device_model_id, firmware) in profiles:
        return profiles[(device_model_id, firmware)]
    return profiles.get((device_model_id, LATEST))


def _states(profile_ids: set[int], flow_ids: set[int]) -> dict[tuple[int, int], str]:
    rows = ConsensusFlow.objects.filter(profile_id__in=profile_ids, flow_id__in=flow_ids)
    return {(profile, flow): state for profile, flow, state in rows.values_list("profile_id", "flow_id", "state")}


def _keyset_pages(queryset: Any, fields: tuple[str, ...], size: int) -> Iterator[list[tuple[Any, ...]]]:
    """Rows of `queryset` in pages by primary key (the first field), each page a fresh query."""
    last = 0
    while True:
        page = list(queryset.filter(pk__gt=last).order_by("pk").values_list(*fields)[:size])
        if not page:
            return
        yield page
        last = page[-1][0]


def submissions_accept(*, now: datetime | None = None) -> int:
    """Accept every active submission at least 72 h old whose own flows are >= 80% ALLOWED or
    CANDIDATE in the current consensus of its firmware (else of `latest`): accepted_at is set
    and the contributor gains r +0.25. A submission not yet there is looked at again the next
    night; rejected or superseded ones never are. Returns how many were accepted."""
    now = _now(now)
    due = Submission.objects.filter(
        status=Submission.Status.ACTIVE,
        accepted_at__isnull=True,
        created_at__lte=now - timedelta(hours=PARAMS.acceptance_age_hours),
    )
    fields = ("pk", "contributor_id", "device_model_id", "firmware__version", "flow_ids")
    accepted = 0
    for page in _keyset_pages(due, fields, JUDGE_PAGE):
        profiles = _current_profiles({row[2] for row in page})
        chosen = {row[0]: _profile_for(profiles, row[2], row[3]) for row in page}
        states = _states({p for p in chosen.values() if p is not None}, {f for row in page for f in row[4]})
        for pk, contributor_id, device_model_id, _firmware, flow_ids in page:
            profile = chosen[pk]
            if profile is None or not submission_accepted((states.get((profile, f)) for f in flow_ids), PARAMS):
                continue
            with transaction.atomic():
                fresh = Submission.objects.filter(pk=pk, status=Submission.Status.ACTIVE, accepted_at__isnull=True)
                if fresh.update(accepted_at=now):
                    accepted += 1
                    ledger_add(
                        contributor_id=contributor_id,
                        kind=Ledger.Kind.SUBMISSION_ACCEPTED,
                        cause=f"submission:{pk}",
                        delta_r=PARAMS.submission_accepted_r,
                        device_model_id=device_model_id,
                        at=now,
                    )
    return accepted


def votes_judge(*, now: datetime | None = None) -> dict[str, int]:
    """Judge every standing vote last changed at least 7 days ago against its flow's state in
    the current consensus of its firmware (else `latest`): agree r +0.1, disagree s +0.1,
    CANDIDATE or DISCREPANCY neither (see `profiles.trust.vote_verdict`). Each vote is judged
    once (judged_at). Returns {"judged", "agreed", "disagreed"}."""
    now = _now(now)
    due = Vote.objects.filter(
        voided_at__isnull=True,
        judged_at__isnull=True,
        updated_at__lte=now - timedelta(days=PARAMS.vote_judge_age_days),
    )
    fields = ("pk", "voter_id", "device_model_id", "firmware", "flow_id", "value")
    counts = {"judged": 0, "agreed": 0, "disagreed": 0}
    for page in _keyset_pages(due, fields, JUDGE_PAGE):
        profiles = _current_profiles({row[2] for row in page})
        chosen = {row[0]: _profile_for(profiles, row[2], row[3]) for row in page}
        states = _states({p for p in chosen.values() if p is not None}, {row[4] for row in page})
        for pk, voter_id, device_model_id, _firmware, flow_id, value in page:
            profile = chosen[pk]
            verdict = vote_verdict(value, None if profile is None else states.get((profile, flow_id)))
            with transaction.atomic():
                if not Vote.objects.filter(pk=pk, judged_at__isnull=True, voided_at__isnull=True).update(judged_at=now):
                    continue
                counts["judged"] += 1
                if verdict is None:
                    continue
                counts["agreed" if verdict == "agree" else "disagreed"] += 1
                ledger_add(
                    contributor_id=voter_id,
                    kind=Ledger.Kind.VOTE_AGREED if verdict == "agree" else Ledger.Kind.VOTE_DISAGREED,
                    cause=f"vote:{pk}",
                    delta_r=PARAMS.vote_agreed_r if verdict == "agree" else 0.0,
                    delta_s=PARAMS.vote_disagreed_s if verdict == "disagree" else 0.0,
                    device_model_id=device_model_id,
                    at=now,
                )
    return counts


# --- Streaming every contributor -----------------------------------------------------------


def _for_each_page(handle: Callable[[list[tuple[Any, ...]]], None]) -> None:
    """Call `handle` on every page of contributor rows, ordered by id, each page in its own
    transaction with its rows locked: a `ledger_add` for one of them waits until the page is
    written instead of being overwritten by it."""
    last = 0
    while True:
        with transaction.atomic():
            rows = Contributor.objects.select_for_update().filter(pk__gt=last).order_by("pk")
            page = list(rows.values_list(*_CONTRIBUTOR_FIELDS)[:PAGE])
            if not page:
                return
            handle(page)
        last = page[-1][0]


def _ledger_scores(first: int, last: int, now: datetime) -> dict[int, Score]:
    """The fold of each ledger in contributor ids [first, last], read through one cursor."""
    rows = (
        Ledger.objects.filter(contributor_id__gte=first, contributor_id__lte=last, created_at__lte=now)
        .order_by("contributor_id", "created_at", "id")
        .values_list("contributor_id", "created_at", "delta_r", "delta_s", "strike")
        .iterator(chunk_size=EVENT_FETCH)
    )
    return {
        contributor_id: fold((Event(at, dr, ds, strike) for _, at, dr, ds, strike in events), now, PARAMS)
        for contributor_id, events in groupby(rows, key=itemgetter(0))
    }


def _submission_counts(first: int, last: int) -> dict[int, tuple[int, int, int, int]]:
    """(valid, rejected, accepted, accepted models) per contributor in ids [first, last].

    Valid is every submission not rejected (active or superseded); accepted counts those
    accepted and not rejected since."""
    rejected = Q(status=Submission.Status.REJECTED)
    accepted = Q(accepted_at__isnull=False) & ~rejected
    rows = (
        Submission.objects.filter(contributor_id__gte=first, contributor_id__lte=last)
        .order_by()
        .values("contributor_id")
        .annotate(
            valid=Count("id", filter=~rejected),
            rejected=Count("id", filter=rejected),
            accepted=Count("id", filter=accepted),
            models=Count("device_model_id", filter=accepted, distinct=True),
        )
        .values_list("contributor_id", "valid", "rejected", "accepted", "models")
    )
    return {row[0]: row[1:] for row in rows}


def _replayed(row: tuple[Any, ...], scores: dict[int, Score], now: datetime) -> tuple[Score, bool]:
    """The ledger's score for one contributor row, and whether the stored one differs."""
    pk, _created, _level, r, s, strikes, suspended_at, _granted, as_of = row
    score = scores.get(pk) or fold([], now, PARAMS)
    stored = _stored_score(r, s, strikes, as_of)
    if as_of is None or as_of <= now:
        stored = advance(stored, [], now, PARAMS)
    differs = not same_score(stored, score) or (score.suspended_at is not None and suspended_at is None)
    return score, differs


def _write(objects: list[Contributor], fields: list[str]) -> None:
    """UPDATE the `fields` of each contributor, one prepared statement for the page.

    Not `bulk_update`: its CASE WHEN expressions are built and compiled in Python, about
    10 ms a row here (2,000 rows: 18 s), where executemany (pipelined on psycopg 3) takes
    well under 1 ms a row."""
    if not objects:
        return
    meta = Contributor._meta
    columns = [meta.get_field(name) for name in fields]
    ops = connection.ops
    assignments = ", ".join(f"{ops.quote_name(field.column)} = %s" for field in columns)
    sql = f"UPDATE {ops.quote_name(meta.db_table)} SET {assignments} WHERE {ops.quote_name(meta.pk.column)} = %s"
    rows = [
        [field.get_db_prep_save(getattr(o, field.attname), connection) for field in columns] + [o.pk] for o in objects
    ]
    with connection.cursor() as cursor:
        for start in range(0, len(rows), WRITE_BATCH):
            cursor.executemany(sql, rows[start : start + WRITE_BATCH])


def reputation_replay(*, now: datetime | None = None, dry_run: bool = False) -> int:
    """Rebuild every contributor's score from the ledger alone, as of `now`; returns how many
    stored scores differed (beyond float rounding) and, unless `dry_run`, rewrites those."""
    now = _now(now)
    changed = 0

    def handle(page: list[tuple[Any, ...]]) -> None:
        nonlocal changed
        scores = _ledger_scores(page[0][0], page[-1][0], now)
        fixes = []
        for row in page:
            score, differs = _replayed(row, scores, now)
            if differs:
                changed += 1
                fixes.append(_contributor(row[0], score, row[6], now))
        if not dry_run:
            _write(fixes, ["reputation_r", "reputation_s", "strikes", "suspended_at", "reputation_as_of"])

    _for_each_page(handle)
    return changed


def _contributor(pk: int, score: Score, suspended_at: datetime | None, now: datetime, **more: Any) -> Contributor:
    return Contributor(
        pk=pk,
        reputation_r=score.r,
        reputation_s=score.s,
        strikes=score.strikes,
        suspended_at=suspended_at or score.suspended_at,
        reputation_as_of=now,
        **more,
    )


def reputation_nightly(*, now: datetime | None = None) -> dict[str, int]:
    """The nightly trust job (a Celery beat task calls this): accept submissions, judge votes,
    then for every contributor rebuild the score from the ledger as of `now` and promote or
    demote by the level table. Returns the counts of what it did."""
    now = _now(now)
    counts = {"accepted": submissions_accept(now=now), **votes_judge(now=now)}
    counts.update(contributors=0, promoted=0, demoted=0, repaired=0, suspended=0)

    def handle(page: list[tuple[Any, ...]]) -> None:
        scores = _ledger_scores(page[0][0], page[-1][0], now)
        submissions = _submission_counts(page[0][0], page[-1][0])
        updates = []
        for row in page:
            pk, created_at, level, _r, _s, _strikes, suspended_at, granted, _as_of = row
            score, differs = _replayed(row, scores, now)
            suspended = suspended_at or score.suspended_at
            valid, rejected, accepted, models = submissions.get(pk, (0, 0, 0, 0))
            standing = Standing(
                level=level,
                age_days=max(0.0, (now - created_at).total_seconds() / 86400.0),
                valid_submissions=valid,
                rejected_submissions=rejected,
                accepted_submissions=accepted,
                accepted_models=models,
                reputation=score.reputation(PARAMS),
                strikes=score.strikes,
                tl3_granted=granted,
                suspended=suspended is not None,
            )
            new_level = evaluate_level(standing, PARAMS)
            counts["contributors"] += 1
            counts["promoted"] += new_level > level
            counts["demoted"] += new_level < level
            counts["repaired"] += differs
            counts["suspended"] += suspended is not None and suspended_at is None
            updates.append(_contributor(pk, score, suspended_at, now, trust_level=new_level))
        _write(updates, ["reputation_r", "reputation_s", "strikes", "suspended_at", "reputation_as_of", "trust_level"])

    _for_each_page(handle)
    return counts
