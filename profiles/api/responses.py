"""Serializers that document the bodies some views build by hand, for the OpenAPI document.

The views return plain dicts (faster, and shaped by their selectors); these say exactly what
those dicts hold, so a client generated from /api/schema/ can read them.
"""

from __future__ import annotations

from rest_framework import serializers

from profiles.api.serializers import ConsensusFlowSerializer, ConsensusProfileSerializer
from profiles.models import ReputationEvent


class ConsensusSerializer(serializers.Serializer):
    device_model = serializers.IntegerField()
    mud_url = serializers.CharField(help_text="where gateways download the served file")
    profile = ConsensusProfileSerializer()
    flows = ConsensusFlowSerializer(many=True)


class VersionDiffSerializer(serializers.Serializer):
    # "from" is a Python keyword, so the field is declared under another name and renamed.
    from_ = serializers.IntegerField()
    to = serializers.IntegerField()
    added = serializers.ListField(child=serializers.CharField(), help_text="keys of the flows added")
    removed = serializers.ListField(child=serializers.CharField(), help_text="keys of the flows removed")
    meta_changes = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField(), min_length=2, max_length=2),
        help_text="each changed metadata member: [old, new]",
    )

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        fields["from"] = fields.pop("from_")
        return fields


class LedgerEntrySerializer(serializers.ModelSerializer):
    class Meta:
        model = ReputationEvent
        fields = ["kind", "delta_r", "delta_s", "strike", "device_model", "cause", "created_at"]


class ContributorCountsSerializer(serializers.Serializer):
    submissions = serializers.IntegerField()
    active = serializers.IntegerField()
    accepted = serializers.IntegerField()
    rejected = serializers.IntegerField()
    models = serializers.IntegerField()
    votes = serializers.IntegerField()


class ContributorStandingSerializer(serializers.Serializer):
    username = serializers.CharField()
    trust_level = serializers.IntegerField(min_value=0, max_value=3)
    reputation = serializers.FloatField()
    r = serializers.FloatField()
    s = serializers.FloatField()
    strikes = serializers.IntegerField()
    suspended = serializers.BooleanField()
    moderator = serializers.BooleanField()
    tl3_granted = serializers.BooleanField()
    joined = serializers.DateTimeField()
    counts = ContributorCountsSerializer()
    next_level_needs = serializers.ListField(
        child=serializers.CharField(), help_text="what the contributor still lacks for the next trust level"
    )
    ledger = LedgerEntrySerializer(many=True)


class QueuedFlowSerializer(serializers.Serializer):
    device_model = serializers.IntegerField()
    scope = serializers.CharField()
    flow = serializers.CharField()
    support = serializers.FloatField()
    groups = serializers.IntegerField()
    lower_bound = serializers.FloatField()
    class_reason = serializers.CharField(allow_null=True)


class FrozenFlowSerializer(serializers.Serializer):
    device_model = serializers.IntegerField()
    flow_id = serializers.IntegerField()
    firmware = serializers.CharField()
    decision = serializers.IntegerField()


class ReportedSubmissionSerializer(serializers.Serializer):
    submission_id = serializers.IntegerField()
    reports = serializers.IntegerField()


class ModerationQueueSerializer(serializers.Serializer):
    high_risk_flows = QueuedFlowSerializer(many=True)
    frozen_flows = FrozenFlowSerializer(many=True)
    reported_submissions = ReportedSubmissionSerializer(many=True)


class ReportCreatedSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    submission = serializers.IntegerField()


class StatusCheckSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    detail = serializers.CharField()
    ms = serializers.FloatField()


class StatusSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["ok", "unavailable"])
    failed = serializers.ListField(child=serializers.ChoiceField(choices=["broker", "cache", "database"]))
    checks = serializers.DictField(child=StatusCheckSerializer())
    time = serializers.DateTimeField()
