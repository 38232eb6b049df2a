"""Operator tool: merge a duplicate device model into another (profiles/services/curation.py);
recorded as a moderation decision."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from profiles.errors import DomainError
from profiles.services.curation import device_model_merge

from ._curation import device_model_named, moderator_named


class Command(BaseCommand):
    help = "Merge a duplicate device model into another: its inputs and name move, its files are withdrawn."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("source", help="the duplicate: its id, or manufacturer/model (slugs)")
        parser.add_argument("target", help="the model it duplicates")
        parser.add_argument("--reason", required=True, help="why: recorded in the public moderation decisions")
        parser.add_argument("--moderator", default="", help="the moderator's username the decision names")

    def handle(self, *args: Any, **options: Any) -> None:
        source, target = device_model_named(options["source"]), device_model_named(options["target"])
        try:
            outcome = device_model_merge(
                moderator=moderator_named(options["moderator"]), source=source, target=target, reason=options["reason"]
            )
        except DomainError as error:
            details = "; ".join(f"{p['code']} at {p['path'] or '/'}: {p['message']}" for p in error.problems)
            raise CommandError(f"{error.code}: {error.message} {details}".strip()) from None
        moved = ", ".join(f"{n} {kind}" for kind, n in outcome.moved.items())
        self.stdout.write(
            f"{source.manufacturer.slug}/{source.slug} merged into {target.manufacturer.slug}/{target.slug} "
            f"(decision {outcome.decision.pk}; moved {moved}; files removed: {', '.join(outcome.removed) or 'none'})"
        )
