"""What contributors send, kept exactly as received, and the canonical flows it contained."""

from __future__ import annotations

from django.db import models

from .accounts import Contributor
from .catalog import DeviceModel, FirmwareVersion


class Flow(models.Model):
    """One canonical flow (profiles.mud.flows.Flow), stored once and shared by every
    submission and consensus that contains it. `spec` rebuilds the dataclass."""

    key = models.TextField(unique=True)
    spec = models.JSONField()
    first_seen = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.key


class PeerDomain(models.Model):
    """A registrable domain some flow names, and when mudhub first saw it: a domain younger
    than 30 days makes its flows high-risk (CONSENSUS.md)."""

    name = models.CharField(max_length=253, unique=True)
    first_seen = models.DateTimeField()

    def __str__(self) -> str:
        return self.name


class Submission(models.Model):
    class Source(models.TextChoices):
        CROWD = "crowd"
        MANUFACTURER = "manufacturer"

    class Format(models.TextChoices):
        MUD = "mud", "MUD file"
        FLOWS = "flows", "native flow list"

    class Status(models.TextChoices):
        ACTIVE = "active"
        SUPERSEDED = "superseded"
        REJECTED = "rejected"

    contributor = models.ForeignKey(Contributor, on_delete=models.PROTECT, related_name="submissions")
    device_model = models.ForeignKey(DeviceModel, on_delete=models.PROTECT, related_name="submissions")
    firmware = models.ForeignKey(FirmwareVersion, on_delete=models.PROTECT, related_name="submissions")
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.CROWD)
    format = models.CharField(max_length=8, choices=Format.choices)
    # The request body exactly as received, and its digest: nothing submitted is ever lost.
    raw = models.BinaryField()
    raw_content_type = models.CharField(max_length=100, default="application/json")
    sha256 = models.CharField(max_length=64)
    observed_start = models.DateTimeField(null=True, blank=True)
    observed_end = models.DateTimeField()
    # A salted hash of the collector installation, for independence groups.
    collector_hash = models.CharField(max_length=64, blank=True, default="")
    # The observer's country (ISO 3166-1 alpha-2, upper case) when the submission named it:
    # its UN M49 sub-region is what regional variants of the consensus weigh.
    country = models.CharField(max_length=2, blank=True, default="")
    # The ids of the canonical flows, sorted: the engine's read path is one row per submission.
    flow_ids = models.JSONField(default=list)
    flow_count = models.PositiveIntegerField(default=0)
    ace_count = models.PositiveIntegerField(default=0)
    warnings = models.JSONField(default=list)
    meta = models.JSONField(default=dict)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    # Set when, 72 h after it arrived, >= 80% of its flows were ALLOWED or CANDIDATE.
    accepted_at = models.DateTimeField(null=True, blank=True)
    superseded_by = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-id"]
        constraints = [models.UniqueConstraint(fields=["contributor", "sha256"], name="same_bytes_same_submission")]
        indexes = [
            models.Index(fields=["device_model", "status"]),
            models.Index(fields=["contributor", "device_model", "firmware", "status"]),
        ]

    def __str__(self) -> str:
        return f"submission {self.pk} ({self.device_model_id}, {self.status})"

    @property
    def window_hours(self) -> float:
        if self.observed_start is None:
            return 0.0
        return max(0.0, (self.observed_end - self.observed_start).total_seconds() / 3600.0)
