from __future__ import annotations

from rest_framework import serializers

from profiles.api.strict import StrictInputMixin, no_control_characters
from profiles.models import Change, ConsensusFlow, ConsensusProfile, DeviceModel, Manufacturer, Submission
from profiles.selectors.manufacturers import decision_source


class DeviceInSerializer(StrictInputMixin, serializers.Serializer):
    manufacturer = serializers.CharField(max_length=200, required=False, validators=[no_control_characters])
    model = serializers.CharField(max_length=200, required=False, validators=[no_control_characters])
    firmware = serializers.CharField(
        max_length=100, required=False, allow_blank=True, validators=[no_control_characters]
    )


class ObservationInSerializer(StrictInputMixin, serializers.Serializer):
    start = serializers.DateTimeField(required=False)
    end = serializers.DateTimeField(required=False)
    collector = serializers.CharField(
        max_length=200,
        required=False,
        validators=[no_control_characters],
        help_text="the collector installation token",
    )
    # mudhub-collect sends it (--country); its UN M49 sub-region is what regional variants weigh.
    country = serializers.RegexField(
        r"^[A-Za-z]{2}\Z", required=False, help_text="where it was observed: an ISO 3166-1 alpha-2 code"
    )


class SubmissionInSerializer(StrictInputMixin, serializers.Serializer):
    device = DeviceInSerializer(required=False, default=dict)
    observation = ObservationInSerializer(required=False)
    mud = serializers.JSONField(required=False, help_text="a MUD file (RFC 8520 JSON, or a pre-RFC dialect)")
    flows = serializers.JSONField(required=False, help_text="instead of `mud`: a list of flows in the native form")


class ManufacturerSerializer(serializers.ModelSerializer):
    device_model_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Manufacturer
        fields = ["id", "name", "slug", "device_model_count", "created_at"]


class DeviceModelSerializer(serializers.ModelSerializer):
    manufacturer = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    manufacturer_id = serializers.IntegerField(read_only=True)
    mud_url = serializers.CharField(read_only=True)
    firmware_versions = serializers.SerializerMethodField()
    withdrawn_scopes = serializers.ListField(
        child=serializers.CharField(), read_only=True, help_text="firmware scopes a moderator withdrew"
    )

    class Meta:
        model = DeviceModel
        fields = [
            "id", "name", "slug", "manufacturer", "manufacturer_id", "mud_url", "has_consensus",
            "firmware_versions", "withdrawn_at", "withdrawn_scopes", "merged_into", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = ["withdrawn_at", "merged_into"]

    def get_firmware_versions(self, obj: DeviceModel) -> list[str]:
        return [f.version for f in obj.firmware_versions.all()]


class SubmissionSerializer(serializers.ModelSerializer):
    contributor = serializers.CharField(source="contributor.user.username", read_only=True)
    device_model = serializers.IntegerField(source="device_model_id", read_only=True)
    manufacturer = serializers.CharField(source="device_model.manufacturer.slug", read_only=True)
    model = serializers.CharField(source="device_model.slug", read_only=True)
    firmware = serializers.CharField(source="firmware.version", read_only=True)
    raw_url = serializers.SerializerMethodField()

    class Meta:
        model = Submission
        fields = [
            "id", "contributor", "device_model", "manufacturer", "model", "firmware", "source", "format",
            "status", "superseded_by", "sha256", "flow_count", "ace_count", "warnings", "observed_start",
            "observed_end", "country", "created_at", "raw_url",
        ]  # fmt: skip

    def get_raw_url(self, obj: Submission) -> str:
        return f"/api/v1/submissions/{obj.pk}/raw/"


class ConsensusFlowSerializer(serializers.ModelSerializer):
    key = serializers.CharField(source="flow.key")
    flow = serializers.JSONField(source="flow.spec")
    source = serializers.SerializerMethodField(
        help_text="who decided the state: crowd, manufacturer_profile, manufacturer_statement or moderator"
    )

    class Meta:
        model = ConsensusFlow
        fields = [
            "key", "flow", "state", "source", "risk_class", "rule", "support", "opposition", "groups", "exposure",
            "lower_bound", "wilson", "condition_since", "provenance",
        ]  # fmt: skip

    def get_source(self, row: ConsensusFlow) -> str:
        return decision_source(row.rule)


class ConsensusProfileSerializer(serializers.ModelSerializer):
    class Meta:
        model = ConsensusProfile
        fields = [
            "id", "scope", "version", "etag", "signature_etag", "signer", "allowed_count", "input_digest",
            "params_version", "as_of", "computed_at", "created_at", "is_current",
        ]  # fmt: skip


class ChangeSerializer(serializers.ModelSerializer):
    """One entry of the change feed: a published version, or the removal of a served file."""

    manufacturer = serializers.CharField(source="device_model.manufacturer.slug")
    model = serializers.CharField(source="device_model.slug")
    version = serializers.SerializerMethodField()
    etag = serializers.SerializerMethodField()
    mud_url = serializers.SerializerMethodField()
    signature_url = serializers.SerializerMethodField()
    merged_into = serializers.SerializerMethodField()

    class Meta:
        model = Change
        fields = [
            "seq", "kind", "device_model", "manufacturer", "model", "scope", "version", "etag", "mud_url",
            "signature_url", "merged_into", "created_at",
        ]  # fmt: skip

    def get_version(self, obj: Change) -> int | None:
        return obj.profile.version if obj.profile is not None else None

    def get_etag(self, obj: Change) -> str | None:
        return obj.etag or None

    def get_mud_url(self, obj: Change) -> str:
        return obj.device_model.mud_url_for(obj.scope)

    def get_signature_url(self, obj: Change) -> str | None:
        if obj.kind == Change.Kind.REMOVED:
            return None
        return obj.device_model.mud_url_for(obj.scope).removesuffix(".json") + ".p7s"

    def get_merged_into(self, obj: Change) -> dict[str, str] | None:
        target = obj.merged_into
        if target is None:
            return None
        return {"manufacturer": target.manufacturer.slug, "model": target.slug, "mud_url": target.mud_url}


class ChangePageSerializer(serializers.Serializer):
    """A page of the change feed (documents the response; the view builds it)."""

    since = serializers.IntegerField(help_text="the `since` asked for")
    next = serializers.IntegerField(help_text="the cursor to resume from: pass it as `since` next time")
    last_seq = serializers.IntegerField(help_text="the same as `next` (older clients read this name)")
    more = serializers.BooleanField(help_text="true when more entries follow at once")
    export_url = serializers.CharField(help_text="the bulk export to bootstrap from")
    results = ChangeSerializer(many=True)


class FeedGoneSerializer(serializers.Serializer):
    """410: the entries after `since` were pruned."""

    code = serializers.CharField(help_text="`feed_gone`")
    message = serializers.CharField()
    errors = serializers.ListField(child=serializers.DictField())
    export_url = serializers.CharField(help_text="bootstrap from this export, then follow the feed from its feed_seq")
    horizon = serializers.IntegerField(help_text="the feed keeps only the entries after this seq")
