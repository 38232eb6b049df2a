from __future__ import annotations

from django.conf import settings
from django.db import models


class Contributor(models.Model):
    """The community side of an account: trust, reputation and independence group.

    Defaults follow CONSENSUS.md: everyone starts at TL0 with r = s = 0, so R = 0.5.
    """

    class TrustLevel(models.IntegerChoices):
        NEW = 0, "TL0 new"
        BASIC = 1, "TL1 basic"
        MEMBER = 2, "TL2 member"
        TRUSTED = 3, "TL3 trusted"

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="contributor")
    trust_level = models.PositiveSmallIntegerField(choices=TrustLevel.choices, default=TrustLevel.NEW)
    # Sums of positive and negative reputation points, decayed; the ledger is the truth.
    reputation_r = models.FloatField(default=0.0)
    reputation_s = models.FloatField(default=0.0)
    strikes = models.PositiveSmallIntegerField(default=0)
    suspended_at = models.DateTimeField(null=True, blank=True)
    is_moderator = models.BooleanField(default=False)
    # Accounts merged into one independence group share this key; "" means the account is
    # a group of its own. The engine counts each group at most once.
    group_key = models.CharField(max_length=64, blank=True, default="", db_index=True)
    # The network the account signed up from, reduced to its /24 (IPv4) or /48 (IPv6):
    # enough for the sign-up limit and independence groups, never the address itself.
    signup_network = models.CharField(max_length=64, blank=True, default="", db_index=True)
    # A moderator's grant: TL3 needs it on top of the numbers (CONSENSUS.md).
    tl3_granted = models.BooleanField(default=False)
    # When the nightly job last evaluated this contributor's reputation and level.
    reputation_as_of = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.user.get_username()} (TL{self.trust_level})"

    @property
    def reputation(self) -> float:
        return (self.reputation_r + 1.0) / (self.reputation_r + self.reputation_s + 2.0)

    @property
    def suspended(self) -> bool:
        return self.suspended_at is not None

    @property
    def independence_group(self) -> str:
        return self.group_key or f"c{self.pk}"


class WorkerHeartbeat(models.Model):
    """Written by a periodic task: proves a worker can reach the broker and the database."""

    hostname = models.CharField(max_length=255, unique=True)
    seen_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.hostname} at {self.seen_at:%Y-%m-%d %H:%M:%S}"
