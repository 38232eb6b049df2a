"""Moderators curate the catalogue: withdraw a device model (or one firmware scope), serve it
again, merge a duplicate into another. The services (profiles/services/curation.py) record
each act as a public moderation decision."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from profiles.api.strict import StrictInputMixin, no_control_characters
from profiles.api.trust import IsModerator
from profiles.models import DeviceModel
from profiles.services.accounts import contributor_for
from profiles.services.curation import (
    CurationOutcome,
    device_model_merge,
    device_model_restore,
    device_model_withdraw,
)


class WithdrawSerializer(StrictInputMixin, serializers.Serializer):
    reason = serializers.CharField(max_length=1000, validators=[no_control_characters])
    scope = serializers.CharField(
        max_length=100,
        required=False,
        validators=[no_control_characters],
        help_text="`latest` or a firmware version; omitted: the whole model (every scope)",
    )


class MergeSerializer(StrictInputMixin, serializers.Serializer):
    into = serializers.IntegerField(min_value=1, max_value=2**63 - 1, help_text="the id of the model to merge into")
    reason = serializers.CharField(max_length=1000, validators=[no_control_characters])


class CurationResultSerializer(serializers.Serializer):
    decision = serializers.IntegerField(help_text="the id of the moderation decision recorded")
    kind = serializers.CharField()
    device_model = serializers.IntegerField()
    withdrawn = serializers.BooleanField(help_text="nothing of the model is served")
    withdrawn_scopes = serializers.ListField(child=serializers.CharField())
    merged_into = serializers.IntegerField(allow_null=True)
    removed = serializers.ListField(child=serializers.CharField(), help_text="scopes whose files were withdrawn now")
    changes = serializers.ListField(child=serializers.IntegerField(), help_text="the feed's `removed` entries")
    moved = serializers.DictField(child=serializers.IntegerField(), help_text="a merge: what moved, by kind")


def _result(outcome: CurationOutcome) -> Response:
    model = outcome.device_model
    return Response(
        {
            "decision": outcome.decision.pk,
            "kind": outcome.decision.kind,
            "device_model": model.pk,
            "withdrawn": model.withdrawn_at is not None,
            "withdrawn_scopes": list(model.withdrawn_scopes),
            "merged_into": model.merged_into_id,
            "removed": outcome.removed,
            "changes": outcome.changes,
            "moved": outcome.moved,
        }
    )


_CONFLICT = OpenApiResponse(description="the model's state refuses it (already withdrawn, merged, ...); `code` says")


class _ScopeActView(APIView):
    """A moderator's act on a whole model or one of its scopes, by the service named in `act`."""

    permission_classes = [IsModerator]
    act = staticmethod(device_model_withdraw)

    @extend_schema(request=WithdrawSerializer, responses={200: CurationResultSerializer, 409: _CONFLICT})
    def post(self, request: Request, pk: int) -> Response:
        data = WithdrawSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        model = get_object_or_404(DeviceModel, pk=pk)
        outcome = self.act(
            moderator=contributor_for(request.user),
            device_model=model,
            reason=data.validated_data["reason"],
            scope=data.validated_data.get("scope"),
        )
        return _result(outcome)


class WithdrawView(_ScopeActView):
    """Stop serving a device model, or one firmware scope of it: `/mud/...` answers 410, the
    files leave the publish directory and the signed index, the feed gets `removed` entries.
    It stays withdrawn (recomputes publish nothing) until restored."""

    act = staticmethod(device_model_withdraw)


class RestoreView(_ScopeActView):
    """Serve a withdrawn model (or scope) again; it is recomputed and published anew."""

    act = staticmethod(device_model_restore)


class MergeView(APIView):
    """Merge this model, a duplicate, into `into`: its submissions, aliases, statements, votes
    and flow decisions move there, its name becomes an alias of the target, its files are
    withdrawn (feed `removed` entries with `merged_into`) and the target is recomputed.
    Refused (409) while a manufacturer-signed profile of it is in force."""

    permission_classes = [IsModerator]

    @extend_schema(request=MergeSerializer, responses={200: CurationResultSerializer, 409: _CONFLICT})
    def post(self, request: Request, pk: int) -> Response:
        data = MergeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        source = get_object_or_404(DeviceModel, pk=pk)
        target = DeviceModel.objects.filter(pk=data.validated_data["into"]).first()
        if target is None:
            raise serializers.ValidationError({"into": ["no device model has this id"]})
        outcome = device_model_merge(
            moderator=contributor_for(request.user), source=source, target=target, reason=data.validated_data["reason"]
        )
        return _result(outcome)
