"""Demo data for `make run`: idempotent, so running it again changes nothing."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from profiles.models import Contributor

DEMO_PASSWORD = "mudhub-demo-password"

# (username, trust level, moderator)
DEMO_PEOPLE = [
    ("moderator", 3, True),
    ("trusted-tess", 3, False),
    ("member-maria", 2, False),
    ("member-mike", 2, False),
    ("basic-bao", 1, False),
    ("newcomer-nia", 0, False),
]


class Command(BaseCommand):
    help = "Create demo accounts (and, as features land, demo devices and submissions). Idempotent."

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        users = get_user_model()
        created = 0
        for username, level, moderator in DEMO_PEOPLE:
            user, new = users.objects.get_or_create(username=username, defaults={"email": f"{username}@demo.invalid"})
            if new:
                user.set_password(DEMO_PASSWORD)
                user.save(update_fields=["password"])
                created += 1
            Contributor.objects.update_or_create(user=user, defaults={"trust_level": level, "is_moderator": moderator})
        self.stdout.write(f"seed_demo: {created} new demo account(s), password {DEMO_PASSWORD!r}")
