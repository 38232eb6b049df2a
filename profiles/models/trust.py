"""Trust: the reputation ledger, votes, moderation decisions, independence-group merges."""

from __future__ import annotations

from django.db import models

from .accounts import Contributor
from .catalog import DeviceModel
from .submissions import Flow, Submission


class ReputationEvent(models.Model):
    """One entry of the append-only reputation ledger (CONSENSUS.md, "Ledger events").

    Deltas are stored after the caps were applied, so a contributor's score is a pure fold
    of their events (with decay by age): `manage.py recompute_reputation` replays it.
    """

    class Kind(models.TextChoices):
        FLOW_CONFIRMED = "flow_confirmed", "reported a flow before it became ALLOWED"
        SUBMISSION_ACCEPTED = "submission_accepted", "submission accepted after 72 h"
        FLOW_REJECTED = "flow_rejected", "supported a flow that became REJECTED"
        MALICIOUS = "malicious", "supported a flow a moderator ruled malicious"
        MANUFACTURER_REJECTED = "manufacturer_rejected", "supported a flow the manufacturer rejects"
        VOTE_AGREED = "vote_agreed", "a vote that agreed with the flow's state 7 days later"
        VOTE_DISAGREED = "vote_disagreed", "a vote that disagreed with the flow's state 7 days later"

    contributor = models.ForeignKey(Contributor, on_delete=models.CASCADE, related_name="ledger")
    kind = models.CharField(max_length=32, choices=Kind.choices)
    delta_r = models.FloatField(default=0.0)
    delta_s = models.FloatField(default=0.0)
    strike = models.BooleanField(default=False)
    device_model = models.ForeignKey(DeviceModel, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    # What caused the event, as "kind:id" ("submission:12", "vote:7", "decision:3",
    # "flow:<model id>:<flow id>"); with `kind` it makes every event idempotent.
    cause = models.CharField(max_length=200)
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["contributor_id", "created_at", "id"]
        constraints = [models.UniqueConstraint(fields=["contributor", "kind", "cause"], name="one_event_per_cause")]
        indexes = [models.Index(fields=["contributor", "created_at"])]

    def __str__(self) -> str:
        return f"{self.kind} r+{self.delta_r} s+{self.delta_s} ({self.cause})"


class Vote(models.Model):
    """A TL2+ member's +1/-1 on a flow of a model, for one firmware ("" = every firmware)."""

    voter = models.ForeignKey(Contributor, on_delete=models.CASCADE, related_name="votes")
    device_model = models.ForeignKey(DeviceModel, on_delete=models.CASCADE, related_name="votes")
    flow = models.ForeignKey(Flow, on_delete=models.PROTECT, related_name="+")
    firmware = models.CharField(max_length=100, blank=True, default="")
    value = models.SmallIntegerField(choices=[(1, "+1"), (-1, "-1")])
    reason = models.CharField(max_length=500, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    voided_at = models.DateTimeField(null=True, blank=True)
    void_reason = models.CharField(max_length=300, blank=True, default="")
    judged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["voter", "device_model", "flow", "firmware"], name="one_vote_per_flow")
        ]
        indexes = [models.Index(fields=["device_model", "voided_at"])]

    def __str__(self) -> str:
        return f"vote {self.value:+d} by {self.voter_id} on {self.flow_id}"


class ModerationDecision(models.Model):
    """A moderator's recorded act. The consensus reads the flow decisions; accounts are
    changed by the service that records the decision, never without one."""

    class Kind(models.TextChoices):
        APPROVE = "approve", "approve a high-risk flow"
        REJECT = "reject", "reject a flow"
        REJECT_MALICIOUS = "reject_malicious", "reject a flow as malicious (strikes its supporters)"
        FREEZE = "freeze", "freeze a flow"
        UNFREEZE = "unfreeze", "lift a freeze"
        GRANT_TL3 = "grant_tl3", "grant trusted (TL3)"
        REVOKE_TL3 = "revoke_tl3", "take trusted (TL3) back"
        SUSPEND = "suspend", "suspend an account"
        DISMISS_REPORT = "dismiss_report", "dismiss a report on a submission"
        REJECT_SUBMISSION = "reject_submission", "reject a reported submission"
        WITHDRAW_MODEL = "withdraw_model", "stop serving a device model (or one firmware scope)"
        RESTORE_MODEL = "restore_model", "serve a withdrawn device model (or scope) again"
        MERGE_MODEL = "merge_model", "merge a duplicate device model into another"

    FLOW_KINDS = frozenset({"approve", "reject", "reject_malicious", "freeze", "unfreeze"})
    ACCOUNT_KINDS = frozenset({"grant_tl3", "revoke_tl3", "suspend"})
    SUBMISSION_KINDS = frozenset({"dismiss_report", "reject_submission"})
    # Recorded by profiles/services/curation.py through the device model's own endpoints.
    MODEL_KINDS = frozenset({"withdraw_model", "restore_model", "merge_model"})

    kind = models.CharField(max_length=24, choices=Kind.choices)
    # None for decisions the system takes itself (a burst freeze).
    moderator = models.ForeignKey(Contributor, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    device_model = models.ForeignKey(DeviceModel, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    flow = models.ForeignKey(Flow, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    firmware = models.CharField(max_length=100, blank=True, default="")
    contributor = models.ForeignKey(Contributor, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    # A merge_model decision: the model `device_model` was merged into.
    merged_into = models.ForeignKey(DeviceModel, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    reason = models.CharField(max_length=1000)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["device_model", "flow"])]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk}"


class SubmissionReport(models.Model):
    """Someone thinks a submission is fabricated or abusive; it waits in the moderation queue."""

    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="reports")
    reporter = models.ForeignKey(Contributor, on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(max_length=1000)
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_by = models.ForeignKey(
        ModerationDecision, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["submission", "reporter"], name="one_report_per_person")]

    def __str__(self) -> str:
        return f"report on submission {self.submission_id}"


class GroupMerge(models.Model):
    """Evidence that two accounts are not independent; the groups are the connected components."""

    class Reason(models.TextChoices):
        COLLECTOR = "collector", "share a collector installation"
        SIGNUP_NETWORK = "signup_network", "signed up from the same network"
        MUTUAL_VOTES = "mutual_votes", "vote for each other's flows"
        RARE_FLOWS = "rare_flows", "repeatedly back the same rare flows"

    a = models.ForeignKey(Contributor, on_delete=models.CASCADE, related_name="+")
    b = models.ForeignKey(Contributor, on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(max_length=20, choices=Reason.choices)
    detail = models.CharField(max_length=300, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["a", "b", "reason"], name="one_merge_per_reason"),
            models.CheckConstraint(condition=models.Q(a__lt=models.F("b")), name="merge_pairs_ordered"),
        ]

    def __str__(self) -> str:
        return f"{self.a_id}~{self.b_id} ({self.reason})"
