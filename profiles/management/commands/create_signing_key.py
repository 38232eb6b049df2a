"""Create the aggregator's signing key and certificate, or the next one for a key rotation."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from profiles.services.rotation import signing_key_promote
from profiles.services.signing_keys import key_files, signing_key_create


class Command(BaseCommand):
    help = (
        "Create the aggregator's signing key (MUDHUB_SIGNING_KEY) and self-signed certificate "
        "(MUDHUB_SIGNING_CERT). --next prepares the next key of a rotation (its certificate, "
        "MUDHUB_SIGNING_NEXT_CERT, is announced in the signed index); --promote makes it the signing key."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--common-name", default="mudhub aggregator")
        parser.add_argument("--next", action="store_true", help="create the next key, announced before it signs")
        parser.add_argument("--promote", action="store_true", help="the announced next key becomes the signing key")
        parser.add_argument("--if-missing", action="store_true", help="do nothing when the key exists already")
        parser.add_argument("--force", action="store_true", help="replace an existing key (gateways must re-pin)")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["promote"]:
            try:
                identity, resigned = signing_key_promote()
            except FileNotFoundError as exc:
                raise CommandError(str(exc)) from None
            self.stdout.write(f"signing key promoted: {identity.fingerprint}; {resigned} file(s) signed again")
            return
        files = key_files(next_key=options["next"])
        if options["if_missing"] and files.key.exists() and files.certificate.exists():
            self.stdout.write(f"signing key present: {files.key}")
            return
        try:
            identity = signing_key_create(files=files, common_name=options["common_name"], force=options["force"])
        except FileExistsError as exc:
            raise CommandError(f"{exc}; pass --force to replace it (every gateway must pin the new one)") from None
        self.stdout.write(f"key: {files.key}\ncertificate: {files.certificate}\nsha256: {identity.fingerprint}")
