"""Operator tool: show a manufacturer's members, domains and certificates; add or remove members."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from profiles.errors import DomainError
from profiles.models import Manufacturer, name_slug
from profiles.selectors import manufacturers as select
from profiles.services.catalog import manufacturer_resolve
from profiles.services.manufacturers import member_add, member_remove


class Command(BaseCommand):
    help = "Show a manufacturer; --add-member / --remove-member USER change who acts for it (recorded)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug")
        parser.add_argument("--add-member", action="append", default=[], metavar="USER")
        parser.add_argument("--remove-member", action="append", default=[], metavar="USER")
        parser.add_argument("--create", metavar="NAME", help="create the manufacturer with this name if it is missing")

    def handle(self, *args: Any, **options: Any) -> None:
        manufacturer = Manufacturer.objects.filter(slug=options["slug"]).first()
        if manufacturer is None and options["create"]:
            if name_slug(options["create"]) != options["slug"]:
                raise CommandError(f"the name {options['create']!r} does not make the slug {options['slug']!r}")
            manufacturer = manufacturer_resolve(name=options["create"])
        if manufacturer is None:
            raise CommandError(f"no manufacturer {options['slug']!r} (use --create NAME)")
        try:
            for username in options["add_member"]:
                member_add(actor=None, manufacturer=manufacturer, username=username, by_operator=True)
            for username in options["remove_member"]:
                member_remove(actor=None, manufacturer=manufacturer, username=username, by_operator=True)
        except DomainError as error:
            detail = "; ".join(p["message"] for p in error.problems) or error.message
            raise CommandError(detail) from None
        members = [m.contributor.user.get_username() for m in select.members_list(manufacturer=manufacturer)]
        certificates = [c for c in select.certificates_list(manufacturer=manufacturer) if c.revoked_at is None]
        self.stdout.write(f"{manufacturer.slug}: {manufacturer.name}")
        self.stdout.write(f"members: {', '.join(members) or '-'}")
        self.stdout.write(f"verified domains: {', '.join(select.verified_domains(manufacturer=manufacturer)) or '-'}")
        self.stdout.write(f"pinned certificates: {', '.join(c.subject for c in certificates) or '-'}")
