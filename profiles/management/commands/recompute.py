"""Recompute consensus from the stored submissions: one model, or all of them."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.dateparse import parse_datetime

from profiles.models import DeviceModel
from profiles.services.publish import index_deferred
from profiles.services.recompute import consensus_recompute


class Command(BaseCommand):
    help = "Recompute the consensus of MODEL (id or manufacturer/model slug) or of --all models."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("model", nargs="?", help="a device model id or 'manufacturer-slug/model-slug'")
        parser.add_argument("--all", action="store_true")
        parser.add_argument("--as-of", help="compute as of this ISO 8601 time instead of now")

    def handle(self, *args: Any, **options: Any) -> None:
        if bool(options["model"]) == bool(options["all"]):
            raise CommandError("name one MODEL or pass --all")
        as_of = None
        if options["as_of"]:
            as_of = parse_datetime(options["as_of"])
            if as_of is None or as_of.tzinfo is None:
                raise CommandError("--as-of needs an ISO 8601 time with a timezone")
        if options["all"]:
            ids = list(DeviceModel.objects.order_by("pk").values_list("pk", flat=True))
        else:
            ids = [self._model_id(options["model"])]
        published = 0
        with index_deferred():  # one signed index at the end, not one per model
            for device_model_id in ids:
                outcome = consensus_recompute(device_model_id=device_model_id, as_of=as_of)
                published += len(outcome.published)
                versions = ", ".join(f"{scope} v{v}" for scope, v in sorted(outcome.scopes.items()))
                self.stdout.write(f"model {device_model_id}: {versions or 'no consensus'}")
        self.stdout.write(f"recompute: {len(ids)} model(s), {published} new version(s) published")

    def _model_id(self, text: str) -> int:
        if text.isdigit() and DeviceModel.objects.filter(pk=int(text)).exists():
            return int(text)
        if "/" in text:
            manufacturer, slug = text.split("/", 1)
            found = DeviceModel.objects.filter(manufacturer__slug=manufacturer, slug=slug).values_list("pk", flat=True)
            if found:
                return found[0]
        raise CommandError(f"no device model {text!r}")
