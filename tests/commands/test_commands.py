"""Management commands: the operator tool, the demo data, recompute."""

from collections import Counter
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from profiles.models import ConsensusFlow, ConsensusProfile, Contributor, DeviceModel, ModerationDecision, Submission

pytestmark = pytest.mark.django_db


def run(*args, **env):
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_contributor_sets_trust_level_and_moderator(monkeypatch):
    monkeypatch.setenv("MUDHUB_PASSWORD", "a-long-unusual-passphrase-42")
    assert "TL2" in run("contributor", "ops", "--create", "--trust-level", "2")
    assert "moderator=yes" in run("contributor", "ops", "--moderator")
    person = Contributor.objects.get(user__username="ops")
    assert (person.trust_level, person.is_moderator) == (2, True)
    assert person.user.check_password("a-long-unusual-passphrase-42")


def test_contributor_refuses_what_it_cannot_do(monkeypatch):
    with pytest.raises(CommandError, match="no account"):
        run("contributor", "ghost", "--trust-level", "1")
    monkeypatch.delenv("MUDHUB_PASSWORD", raising=False)
    with pytest.raises(CommandError, match="MUDHUB_PASSWORD"):
        run("contributor", "ghost", "--create")
    monkeypatch.setenv("MUDHUB_PASSWORD", "123")
    with pytest.raises(CommandError, match="MUDHUB_PASSWORD"):
        run("contributor", "ghost", "--create")


def test_seed_demo_builds_a_community_with_every_kind_of_state_and_is_idempotent():
    run("seed_demo")
    submissions = Submission.objects.count()
    assert submissions > 20
    assert set(Contributor.objects.values_list("trust_level", flat=True)) == {0, 1, 2, 3}
    states = Counter(
        ConsensusFlow.objects.filter(profile__is_current=True, profile__scope="latest").values_list("state", flat=True)
    )
    assert states["allowed"] >= 10 and states["candidate"] and states["out"]
    # Every demo device has a served consensus, and the demo does not look like a burst of
    # fresh accounts (which would freeze its flows for a moderator).
    assert set(DeviceModel.objects.values_list("has_consensus", flat=True)) == {True}
    assert not ModerationDecision.objects.exists()
    # Its gateways are in three UN M49 sub-regions: every model has a regional variant of each
    # of its scopes per sub-region, beside the global file.
    scopes = set(ConsensusProfile.objects.filter(is_current=True).values_list("device_model__slug", "scope"))
    for slug, scope in {s for s in scopes if "@" not in s[1]}:
        for region in ("western-europe", "northern-america", "eastern-asia"):
            assert (slug, f"{scope}@{region}") in scopes
    versions = ConsensusProfile.objects.count()
    assert "nothing to do" in run("seed_demo")
    assert Submission.objects.count() == submissions
    assert ConsensusProfile.objects.count() == versions


def test_recompute_names_one_model_or_all():
    run("seed_demo")
    model = ConsensusProfile.objects.first().device_model
    out = run("recompute", f"{model.manufacturer.slug}/{model.slug}")
    assert f"model {model.pk}:" in out
    assert "0 new version(s)" in run("recompute", "--all")
    with pytest.raises(CommandError):
        run("recompute")
    with pytest.raises(CommandError):
        run("recompute", "nobody/nothing")
