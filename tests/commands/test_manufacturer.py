"""manage.py manufacturer: an operator adds and removes members; each change is recorded."""

import pytest
from django.core.management import CommandError

from profiles.models import ManufacturerDecision, ManufacturerMember
from tests.commands.test_commands import run
from tests.factories import ContributorFactory

pytestmark = pytest.mark.django_db


def test_it_adds_and_removes_members_and_records_it():
    ContributorFactory(user__username="alice")
    ContributorFactory(user__username="bob")
    out = run("manufacturer", "acme", "--create", "Acme", "--add-member", "alice", "--add-member", "bob")
    assert "members: alice, bob" in out
    assert set(ManufacturerMember.objects.values_list("contributor__user__username", flat=True)) == {"alice", "bob"}
    assert "members: bob" in run("manufacturer", "acme", "--remove-member", "alice")
    kinds = list(ManufacturerDecision.objects.order_by("id").values_list("kind", "subject", "as_moderator", "actor"))
    assert kinds == [
        ("member_add", "member alice", True, None),
        ("member_add", "member bob", True, None),
        ("member_remove", "member alice", True, None),
    ]


def test_it_refuses_what_it_cannot_do():
    with pytest.raises(CommandError, match="no manufacturer"):
        run("manufacturer", "ghost")
    run("manufacturer", "acme", "--create", "Acme")
    with pytest.raises(CommandError, match="no account is named 'nobody'"):
        run("manufacturer", "acme", "--add-member", "nobody")
    ContributorFactory(user__username="carol")
    with pytest.raises(CommandError, match="not a member"):
        run("manufacturer", "acme", "--remove-member", "carol")
    assert not ManufacturerMember.objects.exists()
