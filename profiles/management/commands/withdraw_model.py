"""Operator tool: withdraw a device model (or one firmware scope) from what gateways get, or
serve it again (profiles/services/curation.py); recorded as a moderation decision."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from profiles.errors import DomainError
from profiles.services.curation import device_model_restore, device_model_withdraw

from ._curation import device_model_named, moderator_named


class Command(BaseCommand):
    help = "Withdraw a device model (every scope, or --scope) from gateways, or --restore it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("model", help="the model's id, or manufacturer/model (slugs)")
        parser.add_argument("--reason", required=True, help="why: recorded in the public moderation decisions")
        parser.add_argument("--scope", default=None, help="only this scope: `latest` or a firmware version")
        parser.add_argument("--moderator", default="", help="the moderator's username the decision names")
        parser.add_argument("--restore", action="store_true", help="serve it again instead")

    def handle(self, *args: Any, **options: Any) -> None:
        model = device_model_named(options["model"])
        act = device_model_restore if options["restore"] else device_model_withdraw
        try:
            outcome = act(
                moderator=moderator_named(options["moderator"]),
                device_model=model,
                reason=options["reason"],
                scope=options["scope"],
            )
        except DomainError as error:
            details = "; ".join(f"{p['code']} at {p['path'] or '/'}: {p['message']}" for p in error.problems)
            raise CommandError(f"{error.code}: {error.message} {details}".strip()) from None
        if options["restore"]:
            done = "restored: published again by its next recompute"
        else:
            done = f"withdrawn; files removed: {', '.join(outcome.removed) or 'none was served'}"
        self.stdout.write(f"{model.manufacturer.slug}/{model.slug} {done} (decision {outcome.decision.pk})")
