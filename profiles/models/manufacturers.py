"""What lets a manufacturer prove who it is and speak for its devices (CONSENSUS.md,
"Manufacturer override, progressively"): its members, pinned signing certificates, signed
profiles, per-flow statements, the discrepancies it answers, and a record of every act."""

from __future__ import annotations

from django.db import models

from .accounts import Contributor
from .catalog import DeviceModel, Manufacturer
from .submissions import Flow


class ManufacturerMember(models.Model):
    """An account that acts for a manufacturer. A moderator adds the first; members add others."""

    manufacturer = models.ForeignKey(Manufacturer, on_delete=models.CASCADE, related_name="members")
    contributor = models.ForeignKey(Contributor, on_delete=models.CASCADE, related_name="memberships")
    added_by = models.ForeignKey(Contributor, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["manufacturer", "id"]
        constraints = [models.UniqueConstraint(fields=["manufacturer", "contributor"], name="member_once")]

    def __str__(self) -> str:
        return f"{self.contributor_id} for {self.manufacturer_id}"


class SigningCertificate(models.Model):
    """An X.509 certificate a manufacturer pinned: its signer certificates must equal it or be
    issued by it. A rotated-out certificate (`retired_at`) verifies no new upload but keeps the
    profiles it verified; a revoked one (`revoked_at`) takes them out of the consensus too."""

    manufacturer = models.ForeignKey(Manufacturer, on_delete=models.CASCADE, related_name="certificates")
    der = models.BinaryField()
    fingerprint = models.CharField(max_length=64)  # sha256 of the DER bytes, hex
    subject = models.CharField(max_length=500)
    not_before = models.DateTimeField()
    not_after = models.DateTimeField()
    pinned_by = models.ForeignKey(Contributor, on_delete=models.SET_NULL, null=True, related_name="+")
    # A rotation's proof, exactly as received: a detached CMS signature over `der` by the key
    # pinned before (empty for the first pin or a moderator's).
    rotation_signature = models.BinaryField(default=b"")
    created_at = models.DateTimeField(auto_now_add=True)
    retired_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["manufacturer", "id"]
        constraints = [
            models.UniqueConstraint(fields=["manufacturer", "fingerprint"], name="certificate_pinned_once"),
        ]

    def __str__(self) -> str:
        return f"{self.subject} ({self.fingerprint[:12]})"


class SignedProfile(models.Model):
    """A manufacturer's MUD file for one model and a set of firmware versions (none: all), with
    its detached CMS signature; both kept exactly as received. Only verified ones are stored."""

    manufacturer = models.ForeignKey(Manufacturer, on_delete=models.CASCADE, related_name="signed_profiles")
    device_model = models.ForeignKey(DeviceModel, on_delete=models.CASCADE, related_name="signed_profiles")
    # Sorted firmware versions; [] covers every firmware.
    firmware = models.JSONField(default=list)
    mud = models.BinaryField()
    signature = models.BinaryField()
    sha256 = models.CharField(max_length=64)
    flow_ids = models.JSONField(default=list)
    certificate = models.ForeignKey(SigningCertificate, on_delete=models.PROTECT, related_name="profiles")
    signer_subject = models.CharField(max_length=500)
    uploaded_by = models.ForeignKey(Contributor, on_delete=models.SET_NULL, null=True, related_name="+")
    # Set for a mirrored profile: where the manufacturer publishes the file (and, by RFC 8520,
    # its mud-signature); the beat task re-fetches it every `cache_validity_hours`.
    mud_url = models.URLField(max_length=500, blank=True, default="")
    signature_url = models.URLField(max_length=500, blank=True, default="")
    cache_validity_hours = models.PositiveSmallIntegerField(default=48)
    fetched_at = models.DateTimeField(null=True, blank=True)
    fetch_error = models.CharField(max_length=500, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    superseded_by = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["device_model", "withdrawn_at"])]

    def __str__(self) -> str:
        return f"signed profile {self.pk} of model {self.device_model_id}"


class FlowStatement(models.Model):
    """A claimed manufacturer's allow/reject of one flow, for firmware no profile covers."""

    class Verdict(models.TextChoices):
        ALLOW = "allow"
        REJECT = "reject"

    manufacturer = models.ForeignKey(Manufacturer, on_delete=models.CASCADE, related_name="statements")
    device_model = models.ForeignKey(DeviceModel, on_delete=models.CASCADE, related_name="statements")
    flow = models.ForeignKey(Flow, on_delete=models.PROTECT, related_name="+")
    verdict = models.CharField(max_length=8, choices=Verdict.choices)
    firmware = models.JSONField(default=list)  # sorted versions; [] means every firmware
    comment = models.CharField(max_length=1000, blank=True, default="")
    made_by = models.ForeignKey(Contributor, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.verdict} {self.flow_id} on model {self.device_model_id}"


class Discrepancy(models.Model):
    """A flow the crowd would allow but the covering manufacturer profile omits, per scope.

    Rows are kept in step by each recompute (`cleared_at` set when the flow stops being one),
    so an id and the manufacturer's public response outlive the consensus versions."""

    class State(models.TextChoices):
        OPEN = "open"
        ACKNOWLEDGED = "acknowledged"
        FIXED = "fixed"
        DISPUTED = "disputed"

    device_model = models.ForeignKey(DeviceModel, on_delete=models.CASCADE, related_name="discrepancies")
    scope = models.CharField(max_length=100)
    flow = models.ForeignKey(Flow, on_delete=models.PROTECT, related_name="+")
    profile = models.ForeignKey(SignedProfile, on_delete=models.SET_NULL, null=True, related_name="+")
    state = models.CharField(max_length=16, choices=State.choices, default=State.OPEN)
    comment = models.CharField(max_length=2000, blank=True, default="")
    responded_by = models.ForeignKey(Contributor, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    responded_at = models.DateTimeField(null=True, blank=True)
    first_seen = models.DateTimeField()
    cleared_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["device_model", "scope", "id"]
        constraints = [
            models.UniqueConstraint(fields=["device_model", "scope", "flow"], name="one_discrepancy_per_flow_scope")
        ]

    def __str__(self) -> str:
        return f"discrepancy {self.pk} ({self.state})"


class ManufacturerDecision(models.Model):
    """The public record of what was done for a manufacturer, by whom: membership changes,
    domain verifications, certificate pins and revocations, profile uploads and withdrawals."""

    class Kind(models.TextChoices):
        MEMBER_ADD = "member_add"
        MEMBER_REMOVE = "member_remove"
        DOMAIN_VERIFY = "domain_verify"
        CERTIFICATE_PIN = "certificate_pin"
        CERTIFICATE_REVOKE = "certificate_revoke"
        PROFILE_PUBLISH = "profile_publish"
        PROFILE_WITHDRAW = "profile_withdraw"
        STATEMENT = "statement"
        DISCREPANCY_RESPONSE = "discrepancy_response"

    manufacturer = models.ForeignKey(Manufacturer, on_delete=models.CASCADE, related_name="decisions")
    kind = models.CharField(max_length=24, choices=Kind.choices)
    actor = models.ForeignKey(Contributor, on_delete=models.SET_NULL, null=True, related_name="+")
    # What the act concerned, in words a person reads ("member alice", "domain example.com").
    subject = models.CharField(max_length=500)
    as_moderator = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.subject}"
