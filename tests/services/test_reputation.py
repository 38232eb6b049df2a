"""The reputation ledger, the nightly trust job and its replay, on the database."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from itertools import count

import pytest
import time_machine
from django.core.management import CommandError, call_command

from profiles.models import (
    ConsensusFlow,
    ConsensusProfile,
    Contributor,
    DeviceModel,
    FirmwareVersion,
    Flow,
    Manufacturer,
    ReputationEvent,
    Submission,
    Vote,
)
from profiles.services import reputation as service
from profiles.services.reputation import (
    ledger_add,
    reputation_nightly,
    reputation_replay,
    submissions_accept,
    votes_judge,
)
from tests.factories import ContributorFactory

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
Kind = ReputationEvent.Kind
_serial = count()


# --- builders ------------------------------------------------------------------------------


def person(*, days_old: float = 0, at: datetime = T0, **fields) -> Contributor:
    contributor = ContributorFactory(**fields)
    Contributor.objects.filter(pk=contributor.pk).update(created_at=at - timedelta(days=days_old))
    contributor.refresh_from_db()
    return contributor


def device_model(name: str = "Cam") -> DeviceModel:
    n = next(_serial)
    maker = Manufacturer.objects.create(name=f"Acme {n}", slug=f"acme-{n}")
    return DeviceModel.objects.create(manufacturer=maker, name=name, slug=f"{name.lower()}-{n}")


def firmware(model: DeviceModel, version: str = "1.0") -> FirmwareVersion:
    return FirmwareVersion.objects.get_or_create(device_model=model, version=version, defaults={"first_seen": T0})[0]


def flows(n: int) -> list[Flow]:
    return [Flow.objects.create(key=f"flow-{next(_serial)}", spec={}) for _ in range(n)]


def submission(who: Contributor, model: DeviceModel, reported: list[Flow], *, at: datetime, version="1.0", **fields):
    made = Submission.objects.create(
        contributor=who,
        device_model=model,
        firmware=firmware(model, version),
        format="flows",
        raw=b"{}",
        sha256=f"{next(_serial):064d}",
        observed_end=at,
        flow_ids=sorted(f.pk for f in reported),
        flow_count=len(reported),
        **fields,
    )
    Submission.objects.filter(pk=made.pk).update(created_at=at)
    made.refresh_from_db()
    return made


def consensus(model: DeviceModel, states: dict[Flow, str], *, scope: str = "latest") -> ConsensusProfile:
    profile = ConsensusProfile.objects.create(
        device_model=model,
        scope=scope,
        version=1,
        input_digest="d",
        params_version="p",
        as_of=T0,
        mud_bytes=b"",
        etag="e",
        computed_at=T0,
    )
    for flow, state in states.items():
        ConsensusFlow.objects.create(
            profile=profile,
            flow=flow,
            state=state,
            risk_class="T",
            rule="test",
            support=0,
            opposition=0,
            groups=0,
            exposure=0,
            lower_bound=0,
            wilson=0,
            provenance={},
        )
    return profile


def vote(voter: Contributor, model: DeviceModel, flow: Flow, value: int, *, at: datetime, firmware: str = "") -> Vote:
    made = Vote.objects.create(voter=voter, device_model=model, flow=flow, value=value, firmware=firmware)
    Vote.objects.filter(pk=made.pk).update(created_at=at, updated_at=at)
    return made


def events_of(who: Contributor) -> list[ReputationEvent]:
    return list(ReputationEvent.objects.filter(contributor=who).order_by("created_at", "id"))


# --- the ledger ----------------------------------------------------------------------------


def test_an_event_is_recorded_once_per_cause():
    who = person()
    first = ledger_add(contributor_id=who.pk, kind=Kind.VOTE_AGREED, cause="vote:1", delta_r=0.1, at=T0)
    again = ledger_add(contributor_id=who.pk, kind=Kind.VOTE_AGREED, cause="vote:1", delta_r=0.1, at=T0)
    assert first is not None and again is None
    who.refresh_from_db()
    assert len(events_of(who)) == 1
    assert who.reputation_r == pytest.approx(0.1)
    assert who.reputation_as_of == T0


def test_unknown_kinds_and_negative_points_are_refused():
    who = person()
    with pytest.raises(ValueError):
        ledger_add(contributor_id=who.pk, kind="bribe", cause="x:1", delta_r=1)
    with pytest.raises(ValueError):
        ledger_add(contributor_id=who.pk, kind=Kind.FLOW_REJECTED, cause="x:1", delta_s=-2)


def test_gains_are_capped_at_ten_r_per_utc_day_and_the_ledger_stores_the_capped_value():
    who = person()
    model_ids = [device_model().pk for _ in range(3)]
    for i in range(14):
        ledger_add(
            contributor_id=who.pk,
            kind=Kind.FLOW_CONFIRMED,
            cause=f"flow:{model_ids[i % 3]}:{i}",
            delta_r=1.0,
            device_model_id=model_ids[i % 3],
            at=T0 + timedelta(minutes=i),
        )
    ledger_add(contributor_id=who.pk, kind=Kind.FLOW_REJECTED, cause="flow:x", delta_s=2.0, at=T0)
    gains = [e.delta_r for e in events_of(who) if e.kind == Kind.FLOW_CONFIRMED]
    assert sum(gains) == pytest.approx(10.0)
    assert gains[10:] == [0.0] * 4
    # The next UTC day starts afresh; losses are never capped.
    ledger_add(
        contributor_id=who.pk,
        kind=Kind.SUBMISSION_ACCEPTED,
        cause="submission:1",
        delta_r=0.25,
        at=T0 + timedelta(hours=12),
    )
    assert events_of(who)[-1].delta_r == 0.25
    assert sum(e.delta_s for e in events_of(who)) == 2.0


def test_at_most_five_flow_confirmations_per_model_per_day_earn_points():
    who = person()
    cam, plug = device_model(), device_model()
    for i in range(7):
        ledger_add(
            contributor_id=who.pk,
            kind=Kind.FLOW_CONFIRMED,
            cause=f"flow:{cam.pk}:{i}",
            delta_r=1.0,
            device_model_id=cam.pk,
            at=T0,
        )
    ledger_add(
        contributor_id=who.pk, kind=Kind.FLOW_CONFIRMED, cause="flow:plug", delta_r=1.0, device_model_id=plug.pk, at=T0
    )
    assert [e.delta_r for e in events_of(who)] == [1.0] * 5 + [0.0, 0.0, 1.0]


def test_the_second_strike_suspends_the_account_for_good():
    who = person()
    ledger_add(contributor_id=who.pk, kind=Kind.MALICIOUS, cause="decision:1", delta_s=10, strike=True, at=T0)
    who.refresh_from_db()
    assert (who.strikes, who.suspended_at) == (1, None)
    later = T0 + timedelta(days=400)
    ledger_add(contributor_id=who.pk, kind=Kind.MALICIOUS, cause="decision:2", delta_s=10, strike=True, at=later)
    who.refresh_from_db()
    assert (who.strikes, who.suspended_at) == (2, later)
    reputation_nightly(now=later + timedelta(days=3650))
    who.refresh_from_db()
    assert (who.strikes, who.suspended_at, who.trust_level) == (2, later, 0)


def test_a_moderators_suspension_is_never_undone_by_the_replay():
    who = person(suspended_at=T0)
    assert reputation_replay(now=T0 + timedelta(days=1)) == 0
    who.refresh_from_db()
    assert who.suspended_at == T0


# --- decay across months -------------------------------------------------------------------


def test_points_decay_five_percent_every_thirty_days_across_simulated_months():
    who = person()
    with time_machine.travel(T0, tick=False):
        ledger_add(contributor_id=who.pk, kind=Kind.FLOW_CONFIRMED, cause="flow:1", delta_r=10.0)
        ledger_add(contributor_id=who.pk, kind=Kind.FLOW_REJECTED, cause="flow:2", delta_s=4.0)
    for month in range(1, 13):
        with time_machine.travel(T0 + timedelta(days=30 * month), tick=False):
            reputation_nightly()
            who.refresh_from_db()
            assert who.reputation_r == pytest.approx(10 * 0.95**month, rel=1e-9)
            assert who.reputation_s == pytest.approx(4 * 0.95**month, rel=1e-9)
    # Decay pulls R towards 0.5 and never across it.
    assert 0.5 < who.reputation < 11 / 16


def test_an_event_added_later_decays_the_running_score_first():
    who = person()
    ledger_add(contributor_id=who.pk, kind=Kind.FLOW_CONFIRMED, cause="flow:1", delta_r=2.0, at=T0)
    ledger_add(contributor_id=who.pk, kind=Kind.FLOW_CONFIRMED, cause="flow:2", delta_r=1.0, at=T0 + timedelta(days=60))
    who.refresh_from_db()
    assert who.reputation_r == pytest.approx(2 * 0.95**2 + 1)


def test_ledger_replay_gives_identical_scores_after_random_events_and_nightly_runs(monkeypatch):
    monkeypatch.setattr(service, "PAGE", 4)  # several pages even with a few contributors
    rng = random.Random(5)
    people = [person(days_old=rng.uniform(0, 200)) for _ in range(11)]
    models = [device_model() for _ in range(3)]
    kinds = [
        (Kind.FLOW_CONFIRMED, 1.0, 0.0, False),
        (Kind.SUBMISSION_ACCEPTED, 0.25, 0.0, False),
        (Kind.FLOW_REJECTED, 0.0, 2.0, False),
        (Kind.MANUFACTURER_REJECTED, 0.0, 1.0, False),
        (Kind.VOTE_AGREED, 0.1, 0.0, False),
        (Kind.VOTE_DISAGREED, 0.0, 0.1, False),
        (Kind.MALICIOUS, 0.0, 10.0, True),
    ]
    at = T0
    for night in range(40):
        for i in range(rng.randrange(0, 25)):
            kind, dr, ds, strike = rng.choices(kinds, weights=[30, 20, 5, 3, 10, 5, 1])[0]
            ledger_add(
                contributor_id=rng.choice(people).pk,
                kind=kind,
                cause=f"n{night}:{i}",
                delta_r=dr,
                delta_s=ds,
                strike=strike,
                device_model_id=rng.choice(models).pk,
                # Now and then an event arrives dated before the last nightly run.
                at=at - timedelta(hours=rng.uniform(0, 30)) + timedelta(hours=rng.uniform(0, 20)),
            )
        at += timedelta(days=rng.uniform(0.5, 9))
        if rng.random() < 0.5:
            reputation_nightly(now=at)
    end = at + timedelta(days=1)
    stored = {c.pk: (c.reputation_r, c.reputation_s, c.strikes) for c in Contributor.objects.all()}
    call_command("recompute_reputation", "--check", "--as-of", end.isoformat())
    assert reputation_replay(now=end) == 0
    counts = reputation_nightly(now=end)
    assert counts["repaired"] == 0 and counts["contributors"] == 11
    for c in Contributor.objects.all():
        r, s, strikes = stored[c.pk]
        assert c.strikes == strikes
        assert c.reputation_r <= r + 1e-9 and c.reputation_s <= s + 1e-9  # only decayed since


def test_recompute_reputation_check_fails_on_a_tampered_score_and_the_replay_repairs_it():
    honest, tampered = person(), person()
    for who in (honest, tampered):
        ledger_add(contributor_id=who.pk, kind=Kind.FLOW_CONFIRMED, cause="flow:1", delta_r=3.0, at=T0)
    Contributor.objects.filter(pk=tampered.pk).update(reputation_r=50.0)
    later = (T0 + timedelta(days=10)).isoformat()
    with pytest.raises(CommandError) as failure:
        call_command("recompute_reputation", "--check", "--as-of", later)
    assert failure.value.returncode == 1
    assert Contributor.objects.get(pk=tampered.pk).reputation_r == 50.0  # --check wrote nothing
    call_command("recompute_reputation", "--as-of", later)
    tampered.refresh_from_db()
    assert tampered.reputation_r == pytest.approx(3 * 0.95 ** (10 / 30))
    call_command("recompute_reputation", "--check", "--as-of", later)


# --- submissions accepted after 72 h -------------------------------------------------------


def test_a_submission_is_accepted_72_hours_on_when_80_percent_of_its_flows_are_allowed_or_candidate():
    who = person()
    model = device_model()
    fs = flows(5)
    consensus(model, {fs[0]: "allowed", fs[1]: "allowed", fs[2]: "candidate", fs[3]: "allowed", fs[4]: "rejected"})
    good = submission(who, model, fs, at=T0)
    poor = submission(who, model, [fs[0], fs[4]], at=T0)
    young = submission(who, model, fs[:4], at=T0 + timedelta(hours=1))
    refused = submission(who, model, fs[:4], at=T0, status=Submission.Status.REJECTED)
    assert submissions_accept(now=T0 + timedelta(hours=71, minutes=59)) == 0
    now = T0 + timedelta(hours=72)
    assert submissions_accept(now=now) == 1
    assert Submission.objects.get(pk=good.pk).accepted_at == now
    assert Submission.objects.get(pk=poor.pk).accepted_at is None
    assert Submission.objects.get(pk=young.pk).accepted_at is None
    assert Submission.objects.get(pk=refused.pk).accepted_at is None
    [event] = events_of(who)
    assert (event.kind, event.cause, event.delta_r) == (Kind.SUBMISSION_ACCEPTED, f"submission:{good.pk}", 0.25)
    assert submissions_accept(now=now + timedelta(hours=1)) == 1  # the young one, now 72 h old
    assert submissions_accept(now=now + timedelta(days=9)) == 0


def test_a_precise_but_incomplete_submission_is_accepted_and_never_penalised():
    model = device_model()
    everything = flows(20)
    consensus(model, dict.fromkeys(everything, "allowed"))
    observer = person()
    submission(observer, model, everything[:2], at=T0)  # saw 2 of 20 flows, both true
    reputation_nightly(now=T0 + timedelta(days=4))
    observer.refresh_from_db()
    assert [e.kind for e in events_of(observer)] == [Kind.SUBMISSION_ACCEPTED]
    assert observer.reputation_s == 0.0 and observer.reputation > 0.5


def test_acceptance_uses_the_firmware_consensus_when_there_is_one():
    who = person()
    model = device_model()
    fs = flows(2)
    consensus(model, dict.fromkeys(fs, "out"))
    consensus(model, dict.fromkeys(fs, "allowed"), scope="2.0")
    on_two = submission(who, model, fs, at=T0, version="2.0")
    on_one = submission(who, model, fs, at=T0, version="1.0")  # no 1.0 consensus: judged on latest
    assert submissions_accept(now=T0 + timedelta(days=3)) == 1
    assert Submission.objects.get(pk=on_two.pk).accepted_at is not None
    assert Submission.objects.get(pk=on_one.pk).accepted_at is None


# --- votes judged after 7 days -------------------------------------------------------------


def test_votes_are_judged_once_seven_days_later_against_the_flow_state():
    model = device_model()
    allowed, candidate, rejected, unknown = flows(4)
    consensus(model, {allowed: "allowed", candidate: "candidate", rejected: "rejected"})
    voter = person()
    up_right = vote(voter, model, allowed, 1, at=T0)
    up_wrong = vote(voter, model, rejected, 1, at=T0)
    down_right = vote(voter, model, unknown, -1, at=T0)  # left out of the consensus
    undecided = vote(voter, model, candidate, 1, at=T0)
    fresh = vote(person(), model, allowed, 1, at=T0 + timedelta(days=2))
    now = T0 + timedelta(days=7)
    assert votes_judge(now=now) == {"judged": 4, "agreed": 2, "disagreed": 1}
    kinds = {e.cause: (e.kind, e.delta_r, e.delta_s) for e in events_of(voter)}
    assert kinds == {
        f"vote:{up_right.pk}": (Kind.VOTE_AGREED, 0.1, 0.0),
        f"vote:{down_right.pk}": (Kind.VOTE_AGREED, 0.1, 0.0),
        f"vote:{up_wrong.pk}": (Kind.VOTE_DISAGREED, 0.0, 0.1),
    }
    assert Vote.objects.get(pk=undecided.pk).judged_at == now
    assert Vote.objects.get(pk=fresh.pk).judged_at is None
    assert votes_judge(now=now + timedelta(hours=1)) == {"judged": 0, "agreed": 0, "disagreed": 0}


def test_voided_votes_are_never_judged():
    model = device_model()
    [flow] = flows(1)
    consensus(model, {flow: "allowed"})
    ring = vote(person(), model, flow, 1, at=T0)
    Vote.objects.filter(pk=ring.pk).update(voided_at=T0, void_reason="serial votes")
    assert votes_judge(now=T0 + timedelta(days=30))["judged"] == 0


# --- trust levels --------------------------------------------------------------------------


def accepted_record(who: Contributor, *, accepted: int, models: int, at: datetime) -> None:
    spread = [device_model() for _ in range(models)]
    for i in range(accepted):
        submission(who, spread[i % models], [], at=at, accepted_at=at)


def set_reputation(who: Contributor, *, r: float, s: float, at: datetime, tag: str) -> None:
    ledger_add(contributor_id=who.pk, kind=Kind.FLOW_CONFIRMED, cause=f"{tag}:r", delta_r=r, at=at)
    ledger_add(contributor_id=who.pk, kind=Kind.FLOW_REJECTED, cause=f"{tag}:s", delta_s=s, at=at)


def level_after_night(who: Contributor, now: datetime) -> int:
    reputation_nightly(now=now)
    who.refresh_from_db()
    return who.trust_level


def test_a_newcomer_climbs_to_tl1_then_tl2_by_the_table():
    now = T0 + timedelta(days=31)
    who = person(days_old=2, at=T0)
    accepted_record(who, accepted=3, models=1, at=T0 - timedelta(days=2))
    assert level_after_night(who, T0) == 0  # two days old
    assert level_after_night(who, T0 + timedelta(days=1)) == 1
    accepted_record(who, accepted=7, models=3, at=now - timedelta(days=1))
    set_reputation(who, r=3.0, s=0.0, at=now, tag="a")  # R = 0.8
    assert level_after_night(who, now) == 2


def test_a_rejected_submission_bars_tl1():
    who = person(days_old=10)
    accepted_record(who, accepted=4, models=1, at=T0)
    submission(who, device_model(), [], at=T0, status=Submission.Status.REJECTED)
    assert level_after_night(who, T0) == 0


def test_a_member_is_demoted_only_below_ninety_percent_of_the_reputation_bar():
    who = person(days_old=40)
    accepted_record(who, accepted=10, models=3, at=T0)
    set_reputation(who, r=3.0, s=1.1, at=T0, tag="a")  # R = 4 / 6.1 = 0.656: below 0.70
    assert level_after_night(who, T0) == 1  # not promoted
    Contributor.objects.filter(pk=who.pk).update(trust_level=2)
    assert level_after_night(who, T0) == 2  # but a member keeps TL2 above 0.63
    ledger_add(contributor_id=who.pk, kind=Kind.FLOW_REJECTED, cause="b:s", delta_s=0.3, at=T0)  # R = 0.625
    assert level_after_night(who, T0) == 1
    assert level_after_night(who, T0) == 1  # and needs the full bar to climb back


def test_a_member_keeps_tl2_with_nine_accepted_submissions_not_eight():
    who = person(days_old=40, trust_level=2)
    accepted_record(who, accepted=9, models=3, at=T0)
    set_reputation(who, r=3.0, s=0.0, at=T0, tag="a")
    assert level_after_night(who, T0) == 2
    Submission.objects.filter(pk=Submission.objects.filter(contributor=who).first().pk).update(accepted_at=None)
    assert level_after_night(who, T0) == 1


def test_tl3_needs_a_moderators_grant():
    who = person(days_old=100)
    accepted_record(who, accepted=50, models=3, at=T0)
    set_reputation(who, r=10.0, s=0.0, at=T0, tag="a")  # R = 11 / 12
    assert level_after_night(who, T0) == 2
    Contributor.objects.filter(pk=who.pk).update(tl3_granted=True)
    assert level_after_night(who, T0) == 3
    Contributor.objects.filter(pk=who.pk).update(tl3_granted=False)
    assert level_after_night(who, T0) == 2


def test_the_nightly_job_reports_what_it_did(monkeypatch):
    monkeypatch.setattr(service, "PAGE", 2)
    model = device_model()
    fs = flows(2)
    consensus(model, dict.fromkeys(fs, "allowed"))
    people = [person(days_old=5) for _ in range(5)]
    for who in people[:3]:
        for _ in range(3):
            submission(who, model, fs, at=T0 - timedelta(days=4))
    vote(people[4], model, fs[0], 1, at=T0 - timedelta(days=8))
    counts = reputation_nightly(now=T0)
    assert counts == {
        "accepted": 9,
        "judged": 1,
        "agreed": 1,
        "disagreed": 0,
        "contributors": 5,
        "promoted": 3,
        "demoted": 0,
        "repaired": 0,
        "suspended": 0,
    }
    assert all(c.reputation_as_of == T0 for c in Contributor.objects.all())


# --- many events at once ---------------------------------------------------------------------


def test_ledger_add_many_equals_adding_one_by_one():
    """A random mix of kinds, repeated causes, two models and contributors already near their
    caps: the batch stores the same capped events and moves every score exactly as one call
    per entry does."""
    from profiles.services.reputation import LedgerEntry, ledger_add_many

    rng = random.Random(11)
    models = [device_model().pk, device_model().pk]
    kinds = [
        (Kind.FLOW_CONFIRMED, 1.0, 0.0, False),
        (Kind.FLOW_CONFIRMED, 1.0, 0.0, False),
        (Kind.SUBMISSION_ACCEPTED, 0.25, 0.0, False),
        (Kind.FLOW_REJECTED, 0.0, 2.0, False),
        (Kind.VOTE_AGREED, 0.1, 0.0, False),
        (Kind.MALICIOUS, 0.0, 10.0, True),
    ]
    history = []  # earlier today and yesterday, per contributor slot
    for slot in range(8):
        for i in range(rng.randrange(0, 9)):
            kind, dr, ds, strike = rng.choice(kinds)
            history.append((slot, kind, f"old:{i}", dr, ds, strike, rng.choice(models), rng.uniform(0, 30)))
    plan = []
    for _ in range(120):
        kind, dr, ds, strike = rng.choice(kinds)
        plan.append((rng.randrange(8), kind, f"flow:{rng.randrange(12)}", dr, ds, strike, rng.choice(models)))
    at = T0 + timedelta(hours=6)
    teams = []
    for _ in range(2):  # the same people twice: one team credited one by one, the other at once
        team = [person(days_old=100) for _ in range(8)]
        for slot, kind, cause, dr, ds, strike, model, hours_ago in history:
            ledger_add(contributor_id=team[slot].pk, kind=kind, cause=cause, delta_r=dr, delta_s=ds,
                       strike=strike, device_model_id=model, at=at - timedelta(hours=hours_ago))  # fmt: skip
        teams.append(team)
    one_by_one = [
        ledger_add(
            contributor_id=teams[0][slot].pk,
            kind=kind,
            cause=cause,
            delta_r=dr,
            delta_s=ds,
            strike=strike,
            device_model_id=model,
            at=at,
        )
        for slot, kind, cause, dr, ds, strike, model in plan
    ]
    entries = [LedgerEntry(teams[1][slot].pk, *rest) for slot, *rest in plan]
    at_once = ledger_add_many(entries, at=at)
    assert [e is None for e in one_by_one] == [e is None for e in at_once]
    assert sum(e is None for e in at_once) > 10  # repeated causes were refused
    for first, second in zip(one_by_one, at_once, strict=True):
        if first is not None:
            assert (first.kind, first.cause, first.delta_r, first.delta_s, first.strike) == (
                second.kind, second.cause, second.delta_r, second.delta_s, second.strike
            )  # fmt: skip
    assert any(e is not None and e.kind == Kind.FLOW_CONFIRMED and e.delta_r == 0.0 for e in at_once)  # a cap bit
    for a, b in zip(teams[0], teams[1], strict=True):
        a.refresh_from_db()
        b.refresh_from_db()
        assert (a.reputation_r, a.reputation_s, a.strikes, a.reputation_as_of) == (
            b.reputation_r, b.reputation_s, b.strikes, b.reputation_as_of
        )  # fmt: skip
        assert (a.suspended_at is None) == (b.suspended_at is None)
        assert (
            ReputationEvent.objects.filter(contributor=a).count()
            == ReputationEvent.objects.filter(contributor=b).count()
        )
    assert ledger_add_many([], at=at) == []
