"""Write every served file, its signature, the certificate and a fresh signed index to
MUDHUB_PUBLISH_DIR (after pointing it somewhere new, or to repair a directory)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from profiles.selectors.export import export_rows
from profiles.services.index import index_publish
from profiles.services.publish import publish_dir_write, signature_path


class Command(BaseCommand):
    help = "Write every current file with its .p7s, the certificate and a new signed index to MUDHUB_PUBLISH_DIR."

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.MUDHUB_PUBLISH_DIR:
            raise CommandError("MUDHUB_PUBLISH_DIR is not set")
        count = 0
        for row in export_rows():
            publish_dir_write(signature_path(row.path), row.signature)
            publish_dir_write(row.path, row.body)
            count += 1
        index = index_publish()
        self.stdout.write(f"publish: {count} file(s) and index v{index.version} in {settings.MUDHUB_PUBLISH_DIR}")
