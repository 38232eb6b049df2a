"""Operator tool: lift a login lockout (profiles/services/logins.py) before it expires."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from profiles.api.throttles import network_of
from profiles.services.logins import login_lockout_lift


class Command(BaseCommand):
    help = "Lift the login lockout of a username and/or a client network, and forget their failed logins."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", default="")
        parser.add_argument("--network", default="", help="an address or prefix; its /24 (IPv4) or /48 (IPv6)")

    def handle(self, *args: Any, **options: Any) -> None:
        username, address = options["username"], options["network"]
        if not username and not address:
            raise CommandError("name --username, --network, or both")
        network = ""
        if address:
            network = network_of(address.split("/")[0])
            if network == "unknown":
                raise CommandError(f"--network {address!r} is not an IP address or prefix")
        lifted = login_lockout_lift(username=username, network=network, by="manage.py login_unlock")
        for scope, value in (("username", username), ("network", network)):
            if value:
                state = "lifted" if scope in lifted else "was not locked (its failure count is cleared)"
                self.stdout.write(f"{scope} {value}: {state}")
