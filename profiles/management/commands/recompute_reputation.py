"""Rebuild every contributor's reputation from the ledger alone (or, with --check, only compare)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.dateparse import parse_datetime

from profiles.services.reputation import reputation_replay


class Command(BaseCommand):
    help = "Replay the reputation ledger into every contributor's score; --check only reports differences."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if any score differs")
        parser.add_argument("--as-of", help="replay as of this ISO 8601 time instead of now")

    def handle(self, *args: Any, **options: Any) -> None:
        as_of = None
        if options["as_of"]:
            as_of = parse_datetime(options["as_of"])
            if as_of is None or as_of.tzinfo is None:
                raise CommandError("--as-of needs an ISO 8601 time with a timezone")
        changed = reputation_replay(now=as_of, dry_run=options["check"])
        if options["check"]:
            if changed:
                message = f"recompute_reputation: {changed} contributor(s) differ from the ledger"
                raise CommandError(message, returncode=1)
            self.stdout.write("recompute_reputation: every score matches the ledger")
        else:
            self.stdout.write(f"recompute_reputation: {changed} contributor(s) rewritten from the ledger")
