"""What mudhub serves: versioned consensus profiles, their per-flow decisions, the change feed."""

from __future__ import annotations

from django.db import models

from .catalog import DeviceModel
from .submissions import Flow

LATEST = "latest"


class ConsensusProfile(models.Model):
    """Version N of one model's merged profile for one firmware scope (`latest` or a version).

    A new version is written only when the served bytes change. Its flow rows hold the
    decisions of the last computation that produced these bytes, so a recompute that only
    moves candidates refreshes them in place rather than minting a version gateways would
    download for nothing.
    """

    device_model = models.ForeignKey(DeviceModel, on_delete=models.CASCADE, related_name="consensus_profiles")
    scope = models.CharField(max_length=100, default=LATEST)
    version = models.PositiveIntegerField()
    input_digest = models.CharField(max_length=64)
    params_version = models.CharField(max_length=32)
    as_of = models.DateTimeField()
    mud_bytes = models.BinaryField()
    etag = models.CharField(max_length=64)
    cache_validity_hours = models.PositiveSmallIntegerField(default=48)
    allowed_count = models.PositiveIntegerField(default=0)
    is_current = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    computed_at = models.DateTimeField()
    # The aggregator's detached CMS signature of mud_bytes (DER), made once when the version
    # was published; its own sha256 is the .p7s file's ETag. `signer` is the fingerprint of
    # the certificate that signed it.
    signature = models.BinaryField(default=b"")
    signature_etag = models.CharField(max_length=64, blank=True, default="")
    signer = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        ordering = ["device_model", "scope", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["device_model", "scope", "version"], name="one_version_number"),
            models.UniqueConstraint(
                fields=["device_model", "scope"], condition=models.Q(is_current=True), name="one_current_version"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.device_model_id}/{self.scope} v{self.version}"


class ConsensusFlow(models.Model):
    """One flow's decision in a consensus, with everything needed to reproduce it."""

    class State(models.TextChoices):
        ALLOWED = "allowed"
        CANDIDATE = "candidate"
        REJECTED = "rejected"
        DISCREPANCY = "discrepancy"
        OUT = "out"

    profile = models.ForeignKey(ConsensusProfile, on_delete=models.CASCADE, related_name="flows")
    flow = models.ForeignKey(Flow, on_delete=models.PROTECT, related_name="+")
    state = models.CharField(max_length=16, choices=State.choices)
    risk_class = models.CharField(max_length=1)
    rule = models.CharField(max_length=40)
    support = models.FloatField()
    opposition = models.FloatField()
    groups = models.PositiveIntegerField()
    exposure = models.FloatField()
    lower_bound = models.FloatField()
    wilson = models.FloatField()
    condition_since = models.DateTimeField(null=True, blank=True)
    # The engine's full provenance record: the milli-unit sums, the supporting submission
    # and vote ids, the rule's inputs. `profiles.consensus` re-derives the state from it.
    provenance = models.JSONField()
    # `profiles.consensus.provenance.evidence_digest` of the decision: a recompute rewrites
    # only the rows whose evidence changed, so an unchanged model costs a read of digests.
    evidence_digest = models.CharField(max_length=64, default="")

    class Meta:
        ordering = ["profile", "flow__key"]
        constraints = [models.UniqueConstraint(fields=["profile", "flow"], name="one_decision_per_flow")]

    def __str__(self) -> str:
        return f"{self.flow_id}: {self.state}"


class Change(models.Model):
    """The feed gateways sync from, numbered: a published consensus version, or the removal
    of a served file (withdrawn, or merged into another model)."""

    class Kind(models.TextChoices):
        PUBLISHED = "published"
        REMOVED = "removed"

    seq = models.BigAutoField(primary_key=True)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.PUBLISHED)
    device_model = models.ForeignKey(DeviceModel, on_delete=models.CASCADE, related_name="+")
    scope = models.CharField(max_length=100)
    # The published version; None for a removal.
    profile = models.ForeignKey(ConsensusProfile, on_delete=models.CASCADE, related_name="+", null=True, blank=True)
    etag = models.CharField(max_length=64, blank=True, default="")
    # For a removal by merge: the model gateways should use instead.
    merged_into = models.ForeignKey(DeviceModel, on_delete=models.SET_NULL, related_name="+", null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["seq"]

    def __str__(self) -> str:
        return f"change {self.seq}"


class FeedHorizon(models.Model):
    """A record of each pruning of the change feed: entries up to `pruned_through` are gone,
    so a `since` below it can no longer be answered (410, bootstrap from the export)."""

    pruned_through = models.BigIntegerField()
    pruned_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-pruned_through"]

    def __str__(self) -> str:
        return f"pruned through {self.pruned_through}"


class PublishedIndex(models.Model):
    """A signed index of every served file (path, sha256, version) with an expiry: what a
    gateway checks a mirror against, in the spirit of TUF's snapshot and timestamp roles.
    `version` only grows, so a gateway refuses an older index than one it has seen."""

    version = models.BigAutoField(primary_key=True)
    body = models.BinaryField()
    signature = models.BinaryField()
    signer = models.CharField(max_length=64)
    feed_seq = models.BigIntegerField()
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    # TUF's timestamp role: a small signed document naming this index's sha256 and version,
    # which a gateway fetches first to learn whether the (large) index changed.
    timestamp = models.BinaryField(default=b"")
    timestamp_signature = models.BinaryField(default=b"")

    class Meta:
        ordering = ["-version"]

    def __str__(self) -> str:
        return f"index v{self.version}"
