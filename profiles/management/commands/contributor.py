"""Operator tool: set a contributor's trust level or moderator flag (until reputation promotes people)."""

from __future__ import annotations

import os
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from profiles.services.accounts import contributor_for


class Command(BaseCommand):
    help = "Show or change a contributor: trust level, moderator flag; --create makes the account first."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--trust-level", type=int, choices=[0, 1, 2, 3])
        parser.add_argument("--moderator", action="store_true", help="make the account a moderator")
        parser.add_argument("--no-moderator", action="store_true", help="take the moderator role away")
        parser.add_argument(
            "--create", action="store_true", help="create the account; its password comes from MUDHUB_PASSWORD"
        )
        parser.add_argument("--email", default="")

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        users = get_user_model()
        username = options["username"]
        user = users.objects.filter(username=username).first()
        if user is None and not options["create"]:
            raise CommandError(f"no account {username!r} (use --create)")
        if user is None:
            password = os.environ.get("MUDHUB_PASSWORD", "")
            if not password:
                raise CommandError("--create needs the password in the MUDHUB_PASSWORD environment variable")
            candidate = users(username=username, email=options["email"])
            try:
                validate_password(password, user=candidate)
            except ValidationError as exc:
                raise CommandError("MUDHUB_PASSWORD: " + " ".join(exc.messages)) from None
            user = users.objects.create_user(username=username, email=options["email"], password=password)
        elif options["create"]:
            raise CommandError(f"the account {username!r} exists already")
        if options["moderator"] and options["no_moderator"]:
            raise CommandError("--moderator and --no-moderator contradict each other")
        contributor = contributor_for(user)
        if options["trust_level"] is not None:
            contributor.trust_level = options["trust_level"]
        if options["moderator"] or options["no_moderator"]:
            contributor.is_moderator = options["moderator"]
        contributor.save()
        self.stdout.write(
            f"{username}: TL{contributor.trust_level}, R={contributor.reputation:.3f}, "
            f"moderator={'yes' if contributor.is_moderator else 'no'}"
        )
