"""Votes, moderation and contributors: the trust side of the API."""

from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from profiles.api.responses import (
    ContributorStandingSerializer,
    LedgerEntrySerializer,
    ModerationQueueSerializer,
    ReportCreatedSerializer,
)
from profiles.api.strict import StrictInputMixin, no_control_characters
from profiles.api.throttles import VoteThrottle, network_of
from profiles.models import (
    Contributor,
    DeviceModel,
    ModerationDecision,
    Submission,
    Vote,
)
from profiles.selectors.trust import contributor_standing_get, moderation_queue_get
from profiles.services.accounts import contributor_for
from profiles.services.logins import login_lockout_lift
from profiles.services.moderation import decision_record, submission_report
from profiles.services.votes import vote_cast, vote_withdraw

# --- votes ----------------------------------------------------------------------------------


class VoteSerializer(StrictInputMixin, serializers.ModelSerializer):
    voter = serializers.CharField(source="voter.user.username", read_only=True)
    device_model = serializers.PrimaryKeyRelatedField(queryset=DeviceModel.objects.all())
    flow = serializers.CharField(source="flow.key", help_text="the flow's canonical key")
    firmware = serializers.CharField(
        required=False, allow_blank=True, max_length=100, validators=[no_control_characters]
    )
    value = serializers.ChoiceField(choices=[1, -1])

    class Meta:
        model = Vote
        fields = ["id", "voter", "device_model", "flow", "firmware", "value", "reason", "created_at", "updated_at",
                  "voided_at", "void_reason"]  # fmt: skip
        read_only_fields = ["created_at", "updated_at", "voided_at", "void_reason"]


class VoteViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet):
    queryset = Vote.objects.select_related("voter__user", "flow")
    serializer_class = VoteSerializer
    filterset_fields = ["device_model", "value"]
    throttle_classes = [VoteThrottle]

    @extend_schema(
        request=VoteSerializer,
        responses={
            201: VoteSerializer,
            200: VoteSerializer,
            409: OpenApiResponse(
                description="the model was merged (`code: merged`) or withdrawn (`withdrawn`), or the firmware "
                "scope withdrawn (`scope_withdrawn`): it takes no votes"
            ),
        },
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = self.get_serializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        vote, created = vote_cast(
            voter=contributor_for(request.user),
            device_model=values["device_model"],
            flow_key=values["flow"]["key"],
            value=values["value"],
            firmware=values.get("firmware", ""),
            reason=values.get("reason", ""),
        )
        return Response(self.get_serializer(vote).data, status=status.HTTP_201_CREATED if created else 200)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        vote_withdraw(voter=contributor_for(request.user), vote=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- moderation -----------------------------------------------------------------------------


class IsModerator(permissions.BasePermission):
    message = "Only moderators may do this."

    def has_permission(self, request: Request, view: Any) -> bool:
        if request.method in permissions.SAFE_METHODS and getattr(view, "public_reads", False):
            return True
        contributor = getattr(request.user, "contributor", None) if request.user.is_authenticated else None
        return bool(contributor and contributor.is_moderator)


@extend_schema_field({"type": "string", "minLength": 1})
class _ContributorByUsername(serializers.SlugRelatedField):
    """A contributor named by the username of its account."""


class DecisionSerializer(StrictInputMixin, serializers.ModelSerializer):
    moderator = serializers.CharField(source="moderator.user.username", read_only=True, default=None)
    flow = serializers.CharField(source="flow.key", required=False, allow_blank=True)
    contributor = _ContributorByUsername(
        slug_field="user__username", queryset=Contributor.objects.all(), required=False, allow_null=True
    )
    device_model = serializers.PrimaryKeyRelatedField(
        queryset=DeviceModel.objects.all(), required=False, allow_null=True
    )
    submission = serializers.PrimaryKeyRelatedField(queryset=Submission.objects.all(), required=False, allow_null=True)
    merged_into = serializers.IntegerField(
        source="merged_into_id",
        read_only=True,
        allow_null=True,
        help_text="a merge_model decision: the model `device_model` was merged into",
    )

    class Meta:
        model = ModerationDecision
        fields = ["id", "kind", "moderator", "device_model", "flow", "firmware", "contributor", "submission",
                  "merged_into", "reason", "created_at"]  # fmt: skip
        read_only_fields = ["created_at"]
        # The service checks what each kind needs and lists every problem at once.
        extra_kwargs = {"reason": {"required": False, "allow_blank": True}}


class DecisionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                      viewsets.GenericViewSet):  # fmt: skip
    """Every moderation decision, public for transparency; only moderators record them."""

    queryset = ModerationDecision.objects.select_related("moderator__user", "flow", "contributor__user")
    serializer_class = DecisionSerializer
    permission_classes = [IsModerator]
    public_reads = True
    filterset_fields = ["kind", "device_model"]

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = self.get_serializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        decision = decision_record(
            moderator=contributor_for(request.user),
            kind=values["kind"],
            reason=values.get("reason", ""),
            device_model=values.get("device_model"),
            flow_key=(values.get("flow") or {}).get("key", ""),
            firmware=values.get("firmware", ""),
            contributor=values.get("contributor"),
            submission=values.get("submission"),
        )
        return Response(self.get_serializer(decision).data, status=status.HTTP_201_CREATED)


class ModerationQueueView(APIView):
    """What waits for a moderator: high-risk flows with enough support, frozen flows, reports."""

    permission_classes = [IsModerator]

    @extend_schema(responses={200: ModerationQueueSerializer})
    def get(self, request: Request) -> Response:
        queue = moderation_queue_get()
        return Response(
            {
                "high_risk_flows": [
                    {
                        "device_model": row.device_model.pk,
                        "scope": row.scope,
                        "flow": row.flow_key,
                        "support": row.support,
                        "groups": row.groups,
                        "lower_bound": row.lower_bound,
                        "trusted_groups": row.trusted_groups,
                        "class_reason": row.class_reason,
                    }
                    for row in queue.high_risk_flows
                ],
                "frozen_flows": [
                    {
                        "device_model": row.device_model.pk,
                        "flow_id": row.flow_id,
                        "firmware": row.firmware,
                        "decision": row.decision_id,
                    }
                    for row in queue.frozen_flows
                ],
                "reported_submissions": [
                    {"submission_id": row.submission.pk, "reports": row.reports} for row in queue.reported_submissions
                ],
            }
        )


class ReportSerializer(StrictInputMixin, serializers.Serializer):
    reason = serializers.CharField(max_length=1000)


class SubmissionReportView(APIView):
    @extend_schema(
        request=ReportSerializer, responses={201: OpenApiResponse(ReportCreatedSerializer, "the report is queued")}
    )
    def post(self, request: Request, pk: int) -> Response:
        data = ReportSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        submission = get_object_or_404(Submission, pk=pk)
        report = submission_report(
            reporter=contributor_for(request.user), submission=submission, reason=data.validated_data["reason"]
        )
        return Response({"id": report.pk, "submission": submission.pk}, status=status.HTTP_201_CREATED)


class LockoutLiftSerializer(StrictInputMixin, serializers.Serializer):
    username = serializers.CharField(max_length=150, required=False)
    network = serializers.IPAddressField(required=False, help_text="an address; its /24 (IPv4) or /48 (IPv6) is lifted")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs.get("username") and not attrs.get("network"):
            raise serializers.ValidationError("name a username, a network address, or both")
        return attrs


class LoginLockoutLiftView(APIView):
    """Lift a login lockout early (a locked-out member wrote to the moderators)."""

    permission_classes = [IsModerator]

    @extend_schema(
        request=LockoutLiftSerializer,
        responses={
            200: OpenApiResponse(
                description="`lifted` lists the scopes (`username`, `network`) that were locked; their failure "
                "counts are forgotten either way"
            )
        },
    )
    def post(self, request: Request) -> Response:
        data = LockoutLiftSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        username = data.validated_data.get("username", "")
        address = data.validated_data.get("network", "")
        network = network_of(address) if address else ""
        lifted = login_lockout_lift(username=username, network=network, by=request.user.get_username())
        return Response({"username": username or None, "network": network or None, "lifted": lifted})


# --- contributors ---------------------------------------------------------------------------


class ContributorView(APIView):
    """A contributor's public standing: trust level, reputation, counts, strikes, recent ledger."""

    @extend_schema(responses={200: ContributorStandingSerializer})
    def get(self, request: Request, username: str) -> Response:
        standing = contributor_standing_get(username=username)
        person, counts = standing.contributor, standing.counts
        return Response(
            {
                "username": standing.user.get_username(),
                "trust_level": person.trust_level,
                "reputation": round(person.reputation, 6),
                "r": round(person.reputation_r, 6),
                "s": round(person.reputation_s, 6),
                "strikes": person.strikes,
                "suspended": person.suspended,
                "moderator": person.is_moderator,
                "tl3_granted": person.tl3_granted,
                "joined": person.created_at,
                "counts": {name: counts[name] for name in ("submissions", "active", "accepted", "rejected", "models",
                                                           "votes")},
                "next_level_needs": standing.next_level_needs,
                "ledger": LedgerEntrySerializer(standing.ledger, many=True).data,
            }
        )  # fmt: skip
