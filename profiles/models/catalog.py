"""The catalogue: manufacturers, device models (with aliases) and firmware versions."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.text import slugify

from profiles.regions import scope_file_path

UNKNOWN_FIRMWARE = "unknown"


def name_slug(name: str) -> str:
    """The slug two spellings of one name share ("TP-Link", "tp link" -> "tp-link")."""
    return slugify(" ".join(name.replace("_", " ").split()))[:100]


class Manufacturer(models.Model):
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=100, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.name


class ManufacturerAlias(models.Model):
    """Another spelling of a manufacturer's name, keyed by its slug."""

    manufacturer = models.ForeignKey(Manufacturer, on_delete=models.CASCADE, related_name="aliases")
    slug = models.SlugField(max_length=100, unique=True)

    def __str__(self) -> str:
        return f"{self.slug} -> {self.manufacturer.slug}"


class ManufacturerDomain(models.Model):
    """A DNS domain a manufacturer claims; only verified ones make flows vendor-class.

    The claim is proved by publishing `token` in the DNS TXT record `_mudhub-challenge.<domain>`
    (method "dns") or at `https://<domain>/.well-known/mudhub-challenge/<token>` ("https")."""

    class Method(models.TextChoices):
        DNS = "dns"
        HTTPS = "https"

    manufacturer = models.ForeignKey(Manufacturer, on_delete=models.CASCADE, related_name="domains")
    domain = models.CharField(max_length=253)
    verified_at = models.DateTimeField(null=True, blank=True)
    method = models.CharField(max_length=8, choices=Method.choices, default=Method.DNS)
    token = models.CharField(max_length=64, blank=True, default="")
    created_by = models.ForeignKey(
        "profiles.Contributor", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(null=True, blank=True)
    checked_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["domain"], condition=models.Q(verified_at__isnull=False), name="domain_verified_once"
            ),
            models.UniqueConstraint(fields=["manufacturer", "domain"], name="domain_once_per_manufacturer"),
        ]

    def __str__(self) -> str:
        return self.domain


class DeviceModel(models.Model):
    manufacturer = models.ForeignKey(Manufacturer, on_delete=models.PROTECT, related_name="device_models")
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=100)
    # The manufacturer's own MUD URL for this model, when a device or file told us.
    manufacturer_mud_url = models.URLField(max_length=500, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)
    # Set in the transaction that changes an input of the consensus; cleared by the
    # recompute that read inputs at least as new. The periodic sweep finds what is left.
    dirty_since = models.DateTimeField(null=True, blank=True, db_index=True)
    # Bumped by every change of an input; a recompute clears `dirty_since` only if no
    # change arrived while it ran (the row lock makes that check exact on PostgreSQL).
    inputs_generation = models.PositiveBigIntegerField(default=0)
    # When time alone may next change this model's consensus (a hold expires, a domain
    # matures, support decays past a threshold): the engine says, the beat recomputes then.
    recompute_due_at = models.DateTimeField(null=True, blank=True, db_index=True)
    # Denormalised for the catalogue filter: the latest consensus serves at least one flow.
    has_consensus = models.BooleanField(default=False, db_index=True)
    # A moderator's withdrawal (profiles/services/curation.py): with `withdrawn_at` nothing of
    # the model is served or published; `withdrawn_scopes` are single firmware scopes withdrawn.
    # `merged_into`: the model was a duplicate of that one, which took its inputs and name.
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_scopes = models.JSONField(default=list, blank=True)
    merged_into = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="merged_from")

    class Meta:
        ordering = ["manufacturer__slug", "slug"]
        constraints = [models.UniqueConstraint(fields=["manufacturer", "slug"], name="model_slug_per_manufacturer")]
        indexes = [models.Index(fields=["slug"])]

    def __str__(self) -> str:
        return f"{self.manufacturer.name} {self.name}"

    @property
    def mud_path(self) -> str:
        return f"/mud/{self.manufacturer.slug}/{self.slug}.json"

    @property
    def mud_url(self) -> str:
        return settings.MUDHUB_PUBLIC_URL + self.mud_path

    def mud_url_for(self, scope: str) -> str:
        """The URL gateways fetch for one consensus scope: `latest`, a firmware version, or a
        regional variant of either (`latest@western-europe`: the variant's own file)."""
        path = scope_file_path(manufacturer_slug=self.manufacturer.slug, model_slug=self.slug, scope=scope)
        return f"{settings.MUDHUB_PUBLIC_URL}/{path}"


class DeviceModelAlias(models.Model):
    """Another spelling of a model's name under one manufacturer."""

    device_model = models.ForeignKey(DeviceModel, on_delete=models.CASCADE, related_name="aliases")
    manufacturer = models.ForeignKey(Manufacturer, on_delete=models.CASCADE, related_name="+")
    slug = models.SlugField(max_length=100)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["manufacturer", "slug"], name="model_alias_per_manufacturer")]

    def __str__(self) -> str:
        return f"{self.slug} -> {self.device_model.slug}"


class FirmwareVersion(models.Model):
    """A firmware version of a model, ordered by first observation unless the manufacturer
    declares an order. `unknown` exists for every model."""

    device_model = models.ForeignKey(DeviceModel, on_delete=models.CASCADE, related_name="firmware_versions")
    version = models.CharField(max_length=100)
    first_seen = models.DateTimeField()
    declared_order = models.IntegerField(null=True, blank=True)

    class Meta:
        ordering = ["device_model", "first_seen", "id"]
        constraints = [models.UniqueConstraint(fields=["device_model", "version"], name="firmware_once_per_model")]

    def __str__(self) -> str:
        return self.version

    @property
    def is_unknown(self) -> bool:
        return self.version == UNKNOWN_FIRMWARE
