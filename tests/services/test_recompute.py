"""The recompute pipeline: deterministic bytes, versions only on change, dirty marks and the sweep."""

import json
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from profiles import mud
from profiles.models import Change, ConsensusFlow, ConsensusProfile, DeviceModel, Submission
from profiles.services.recompute import consensus_recompute
from profiles.tasks import sweep_dirty_models
from tests.helpers import flow, payload, settle

pytestmark = pytest.mark.django_db

CLOUD = [flow("api.acme.example"), flow("ntp.acme.example", 123, protocol=17)]


@pytest.fixture
def model(auth_api, submit):
    for _ in range(3):
        submit(auth_api(trust_level=3), payload(*CLOUD, firmware="1.0"))
    device_model = DeviceModel.objects.get()
    settle(device_model.pk)
    return device_model


def current(device_model, scope="latest"):
    return ConsensusProfile.objects.get(device_model=device_model, scope=scope, is_current=True)


def test_recomputing_unchanged_inputs_gives_the_same_bytes_and_no_new_version(model):
    before = current(model)
    changes = Change.objects.count()
    outcome = consensus_recompute(device_model_id=model.pk, as_of=timezone.now() + timedelta(days=5))
    assert outcome.published == []
    after = current(model)
    assert after.pk == before.pk
    assert bytes(after.mud_bytes) == bytes(before.mud_bytes)
    assert Change.objects.count() == changes


def test_manage_py_recompute_all_reproduces_the_served_bytes(model):
    served = {p.scope: bytes(p.mud_bytes) for p in ConsensusProfile.objects.filter(is_current=True)}
    call_command("recompute", "--all", "--as-of", (timezone.now() + timedelta(days=6)).isoformat())
    again = {p.scope: bytes(p.mud_bytes) for p in ConsensusProfile.objects.filter(is_current=True)}
    assert again == served


def test_a_change_of_served_flows_publishes_exactly_one_new_version(model, auth_api):
    before = current(model)
    for _ in range(3):
        # Posted without running the inline recompute: `settle` computes later in time than
        # the fixture did, and an inline run at the real "now" would step back before it.
        response = auth_api(trust_level=3).post(
            "/api/v1/submissions/", payload(*CLOUD, flow("ota.acme.example"), firmware="1.0"), format="json"
        )
        assert response.status_code == 201
    settle(model.pk, days=8)
    after = current(model)
    assert after.version == before.version + 1
    assert ConsensusProfile.objects.filter(device_model=model, scope="latest", is_current=True).count() == 1
    added = mud.diff(mud.parse(bytes(before.mud_bytes)), mud.parse(bytes(after.mud_bytes))).added
    assert [f.peer for f in added] == ["ota.acme.example"]


def test_served_bytes_hold_exactly_the_allowed_flows(model):
    for profile in ConsensusProfile.objects.filter(is_current=True):
        served = mud.parse(bytes(profile.mud_bytes), mode="strict").flows
        allowed = set(
            ConsensusFlow.objects.filter(profile=profile, state="allowed").values_list("flow__key", flat=True)
        )
        assert {f.key for f in served} == allowed
        assert profile.allowed_count == len(allowed)


def test_a_submission_marks_its_model_dirty_until_a_recompute(auth_api):
    client = auth_api()
    # No on-commit hooks run here (the test transaction never commits): like a lost message.
    client.post("/api/v1/submissions/", payload(*CLOUD), format="json")
    device_model = DeviceModel.objects.get()
    assert device_model.dirty_since is not None
    assert device_model.inputs_generation == 1
    consensus_recompute(device_model_id=device_model.pk)
    device_model.refresh_from_db()
    assert device_model.dirty_since is None


def test_the_sweep_recomputes_what_no_message_reached(auth_api, settings):
    settings.MUDHUB_RECOMPUTE_DEBOUNCE_SECONDS = 0
    auth_api().post("/api/v1/submissions/", payload(*CLOUD), format="json")
    device_model = DeviceModel.objects.get()
    assert not ConsensusProfile.objects.filter(device_model=device_model).exists()
    swept = sweep_dirty_models()
    assert swept == [device_model.pk]
    assert ConsensusProfile.objects.filter(device_model=device_model, is_current=True).exists()
    assert sweep_dirty_models() == []


def test_a_change_that_lands_during_a_recompute_keeps_the_model_dirty(model, auth_api):
    """The clear is conditional on the generation the run read; a bump in between survives."""
    from profiles.services import recompute

    real = recompute.consensus_inputs_get

    def read_then_a_submission_lands(*, device_model):
        inputs = real(device_model=device_model)
        auth_api().post("/api/v1/submissions/", payload(flow("late.acme.example"), firmware="1.0"), format="json")
        return inputs

    recompute.consensus_inputs_get = read_then_a_submission_lands
    try:
        consensus_recompute(device_model_id=model.pk)
    finally:
        recompute.consensus_inputs_get = real
    model.refresh_from_db()
    assert model.dirty_since is not None
    consensus_recompute(device_model_id=model.pk)
    model.refresh_from_db()
    assert model.dirty_since is None


def test_superseded_submissions_no_longer_count(model, auth_api, submit):
    client = auth_api(trust_level=3)
    submit(client, payload(*CLOUD, flow("gone.acme.example"), firmware="1.0"))
    submit(client, payload(*CLOUD, firmware="1.0"))
    assert Submission.objects.filter(status="superseded").count() == 1
    consensus_recompute(device_model_id=model.pk)
    keys = set(ConsensusFlow.objects.filter(profile__is_current=True).values_list("flow__key", flat=True))
    assert not any("gone.acme.example" in key for key in keys)


def test_supporters_of_a_newly_allowed_flow_gain_reputation_once(model):
    from profiles.models import ReputationEvent

    allowed = ConsensusFlow.objects.filter(profile__is_current=True, profile__scope="latest", state="allowed")
    flows = set(allowed.values_list("flow_id", flat=True))
    assert flows
    events = ReputationEvent.objects.filter(kind="flow_confirmed")
    supporters = set(Submission.objects.values_list("contributor_id", flat=True))
    assert {(e.contributor_id, e.cause) for e in events} >= {
        (c, f"flow:{model.pk}:{f}") for c in supporters for f in flows
    }
    assert all(e.delta_r == 1.0 for e in events)
    count = events.count()
    consensus_recompute(device_model_id=model.pk, as_of=timezone.now() + timedelta(days=9))
    assert ReputationEvent.objects.filter(kind="flow_confirmed").count() == count


def test_an_unchanged_recompute_rewrites_no_decision_and_new_evidence_rewrites_only_its_rows(model, auth_api):
    def rows():
        return dict(ConsensusFlow.objects.filter(profile=current(model)).values_list("flow__key", "pk")), dict(
            ConsensusFlow.objects.filter(profile=current(model)).values_list("flow__key", "support")
        )

    version = current(model).version
    before_ids, before_support = rows()
    consensus_recompute(device_model_id=model.pk, as_of=current(model).as_of + timedelta(minutes=5))
    assert rows()[0] == before_ids  # not one row deleted and written again

    # One more supporter of the NTP flow only: the served flows stay, that row's support grows.
    # (Posted without `submit`, whose inline recompute would run at the clock's time, before
    # the settled model's last run.)
    response = auth_api(trust_level=3).post("/api/v1/submissions/", payload(CLOUD[1], firmware="1.0"), format="json")
    assert response.status_code == 201
    consensus_recompute(device_model_id=model.pk, as_of=current(model).as_of + timedelta(minutes=10))
    assert current(model).version == version
    after_ids, after_support = rows()
    ntp = next(key for key in after_ids if "ntp.acme.example" in key)
    api = next(key for key in after_ids if "api.acme.example" in key)
    assert after_support[ntp] > before_support[ntp]
    assert after_ids[ntp] != before_ids[ntp]
    assert after_ids[api] == before_ids[api] and after_support[api] == before_support[api]
    stored = ConsensusFlow.objects.get(pk=after_ids[ntp])
    assert stored.provenance["A"] == round(stored.support * 1000)
    assert len(stored.provenance["submission_ids"]) == 4


def test_stored_decision_rows_hold_exactly_what_the_engine_decided(model, auth_api):
    """The rows are written with COPY on PostgreSQL and bulk_create elsewhere: every column
    and the provenance JSON read back equal to the engine's result, floats bit for bit."""
    from datetime import datetime

    from profiles.consensus import reproduce
    from profiles.consensus.provenance import evidence_digest, provenance_row
    from profiles.models import ConsensusFlow
    from profiles.services import recompute

    for index in range(3):  # more supporters with other windows: non-round floats
        client = auth_api(trust_level=2)
        body = payload(*CLOUD, flow(f"extra{index}.acme.example"), firmware="1.0")
        body["observation"] = {"start": "2026-01-01T00:00:00+00:00", "end": f"2026-01-0{index + 2}T07:13:00+00:00"}
        assert client.post("/api/v1/submissions/", body, format="json").status_code == 201
    kept = {}
    original = recompute.engine.compute_scopes

    def keep(inputs):
        results = original(inputs)
        kept.update({r.firmware: r for r in results})
        return results

    recompute.engine.compute_scopes = keep
    try:
        consensus_recompute(device_model_id=model.pk, as_of=current(model).as_of + timedelta(hours=1, seconds=0.123457))
    finally:
        recompute.engine.compute_scopes = original
    for scope, result in kept.items():
        stored = {
            r.flow.key: r for r in ConsensusFlow.objects.filter(profile=current(model, scope)).select_related("flow")
        }
        assert stored.keys() == {row.key for row in result.decisions}
        for row in result.decisions:
            got = stored[row.key]
            assert got.provenance == json.loads(json.dumps(provenance_row(row)))
            assert reproduce(got.provenance).matches
            assert (got.state, got.rule, got.risk_class) == (row.state.lower(), row.rule, row.risk_class)
            assert (got.support, got.opposition, got.exposure, got.groups) == (
                row.support, row.opposition, row.exposure, row.groups
            )  # fmt: skip
            assert (got.lower_bound, got.wilson) == (row.lb, row.wilson)
            assert got.condition_since == row.condition_since
            assert got.evidence_digest == evidence_digest(row)
    assert any(not float(r.lower_bound * 1000).is_integer() for r in ConsensusFlow.objects.all())
    assert isinstance(ConsensusFlow.objects.exclude(condition_since=None).first().condition_since, datetime)


def test_a_third_party_flow_is_served_24_hours_after_its_conditions_held_with_no_other_input(
    auth_api, submit, api, django_capture_on_commit_callbacks
):
    import time_machine

    from profiles.models import PeerDomain
    from profiles.tasks import recompute_due_models

    cdn = flow("cdn.example.net")
    key = "from-device ipv4 dnsname=cdn.example.net proto=6 dport=eq443 init=from-device"
    start = timezone.now().replace(microsecond=0)
    with time_machine.travel(start, tick=False) as clock:
        PeerDomain.objects.create(name="example.net", first_seen=start - timedelta(days=60))
        for _ in range(3):  # three TL3 members: T's conditions hold at once, its 24 h hold starts
            assert submit(auth_api(trust_level=3), payload(cdn)).status_code == 201
        device_model = DeviceModel.objects.get()

        def served() -> set[str]:
            response = api.get("/mud/acme/cam-1.json")
            return {f.key for f in mud.parse(response.content).flows} if response.status_code == 200 else set()

        def tick() -> list[int]:
            with django_capture_on_commit_callbacks(execute=True):
                return recompute_due_models.apply().get()

        assert ConsensusFlow.objects.get(profile__is_current=True, flow__key=key).state == "candidate"
        assert key not in served()
        device_model.refresh_from_db()
        assert device_model.recompute_due_at == start + timedelta(hours=24)
        clock.move_to(start + timedelta(hours=23, minutes=59))
        assert tick() == []  # not due yet: the beat runs every minute and finds nothing
        clock.move_to(start + timedelta(hours=24, minutes=1))
        assert tick() == [device_model.pk]
        assert key in served()
        device_model.refresh_from_db()
        # Next: the day support decays below the keep threshold; nothing sooner.
        assert device_model.recompute_due_at > start + timedelta(days=30)


def test_the_slow_sweep_makes_a_model_not_computed_for_days_due(model, settings):
    from profiles.tasks import recompute_due_models, sweep_stale_models

    settings.MUDHUB_TIME_SWEEP_DAYS = 7
    assert sweep_stale_models.apply().get() == 0
    ConsensusProfile.objects.filter(device_model=model).update(computed_at=timezone.now() - timedelta(days=8))
    assert sweep_stale_models.apply().get() == 1
    assert recompute_due_models.apply().get() == [model.pk]
    assert current(model).computed_at > timezone.now() - timedelta(minutes=1)


def _rows_by_flow(profile):
    """Every column of a profile's decision rows but the id and the profile, by flow key."""
    fields = [f.attname for f in ConsensusFlow._meta.concrete_fields if f.attname not in ("id", "profile_id")]
    return {
        row.pop("flow__key"): row for row in ConsensusFlow.objects.filter(profile=profile).values("flow__key", *fields)
    }


def test_latest_and_its_firmware_store_the_same_rows_whether_written_or_copied(model, auth_api):
    """`latest` resolves to firmware 1.0 with the same hold clocks: the two scopes share their
    decisions, the store sends each row once and copies it inside PostgreSQL for the other
    scope. Both must hold every column alike, and what the engine decides, after a publishing
    run, after an in-place refresh (decay rewrites nearly every row) and after a new version."""
    from profiles.consensus.provenance import reproduce

    def check() -> None:
        latest, firmware = current(model), current(model, "1.0")
        rows = _rows_by_flow(latest)
        assert rows and rows == _rows_by_flow(firmware)
        for row in rows.values():
            assert reproduce(row["provenance"]).matches
        assert latest.allowed_count == firmware.allowed_count > 0

    check()
    response = auth_api(trust_level=3).post(
        "/api/v1/submissions/", payload(*CLOUD, flow("cdn.acme.example"), firmware="1.0"), format="json"
    )
    assert response.status_code == 201
    before = dict(ConsensusFlow.objects.filter(profile=current(model)).values_list("flow__key", "evidence_digest"))
    outcome = consensus_recompute(device_model_id=model.pk, as_of=timezone.now() + timedelta(days=5))
    assert outcome.published == []  # the new flow has one observer: a candidate, nothing served changes
    after = dict(ConsensusFlow.objects.filter(profile=current(model)).values_list("flow__key", "evidence_digest"))
    assert len(after) == len(before) + 1  # the new flow is decided too
    assert [k for k in before if before[k] != after[k]]  # rows were rewritten in place
    check()
    for _ in range(2):
        response = auth_api(trust_level=3).post(
            "/api/v1/submissions/", payload(*CLOUD, flow("cdn.acme.example"), firmware="1.0"), format="json"
        )
        assert response.status_code == 201
    settle(model.pk, days=8)
    assert current(model).version > 1 and current(model, "1.0").version > 1
    check()
