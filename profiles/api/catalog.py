"""Read API of the catalogue and its consensus: manufacturers, device models, versions, changes."""

from __future__ import annotations

from typing import Any

from django.db.models import Count
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from profiles.api.filters import DeviceModelFilter, ManufacturerFilter
from profiles.api.serializers import (
    ChangeSerializer,
    ConsensusFlowSerializer,
    ConsensusProfileSerializer,
    DeviceModelSerializer,
    ManufacturerSerializer,
)
from profiles.errors import NotFound
from profiles.models import Change, DeviceModel, Manufacturer
from profiles.selectors.catalog import (
    consensus_current_get,
    consensus_diff,
    consensus_flows,
    consensus_profiles,
    device_model_queryset,
    firmware_scope_check,
)

FIRMWARE_PARAM = OpenApiParameter("firmware", OpenApiTypes.STR, description="a firmware version, or `latest`")


class ManufacturerViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Manufacturer.objects.annotate(device_model_count=Count("device_models"))
    serializer_class = ManufacturerSerializer
    filterset_class = ManufacturerFilter
    ordering_fields = ["slug", "name", "created_at"]


class DeviceModelViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = device_model_queryset()
    serializer_class = DeviceModelSerializer
    filterset_class = DeviceModelFilter
    ordering_fields = ["slug", "name", "created_at", "updated_at"]

    def _scope(self, request: Request, device_model: DeviceModel) -> str:
        return firmware_scope_check(device_model=device_model, scope=request.query_params.get("firmware"))

    @extend_schema(parameters=[FIRMWARE_PARAM], responses={200: OpenApiTypes.OBJECT})
    @action(detail=True, methods=["get"])
    def consensus(self, request: Request, pk: str | None = None) -> Response:
        """The current consensus: every flow with its state, risk class, support and provenance."""
        device_model = self.get_object()
        scope = self._scope(request, device_model)
        profile = consensus_current_get(device_model=device_model, scope=scope)
        if profile is None:
            raise NotFound("No consensus has been computed for this model and firmware yet.", code="no_consensus")
        return Response(
            {
                "device_model": device_model.pk,
                "mud_url": device_model.mud_url_for(scope),
                "profile": ConsensusProfileSerializer(profile).data,
                "flows": ConsensusFlowSerializer(consensus_flows(profile=profile), many=True).data,
            }
        )

    @extend_schema(parameters=[FIRMWARE_PARAM], responses={200: ConsensusProfileSerializer(many=True)})
    @action(detail=True, methods=["get"])
    def versions(self, request: Request, pk: str | None = None) -> Response:
        device_model = self.get_object()
        scope = self._scope(request, device_model)
        profiles = consensus_profiles(device_model=device_model, scope=scope).order_by("-version")
        page = self.paginate_queryset(profiles)
        return self.get_paginated_response(ConsensusProfileSerializer(page, many=True).data)

    # Routed in api/urls.py, not by the router: its version segments use the `id` converter.
    @extend_schema(parameters=[FIRMWARE_PARAM], responses={200: OpenApiTypes.OBJECT})
    def diff(self, request: Request, pk: int | None = None, a: int = 0, b: int = 0) -> Response:
        """What changed between two versions: flows added and removed, metadata changed."""
        device_model = self.get_object()
        change = consensus_diff(device_model=device_model, scope=self._scope(request, device_model), a=a, b=b)
        return Response(
            {"from": change.a, "to": change.b, "added": change.added, "removed": change.removed,
             "meta_changes": change.meta_changes}
        )  # fmt: skip


class ChangesView(APIView):
    """The change feed gateways sync from: every published version after `since`, in order."""

    class Params(serializers.Serializer):
        since = serializers.IntegerField(min_value=0, max_value=2**63 - 1, default=0)
        limit = serializers.IntegerField(min_value=1, max_value=1000, default=100)

    @extend_schema(parameters=[Params], responses={200: ChangeSerializer(many=True)})
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        params = self.Params(data=request.query_params)
        params.is_valid(raise_exception=True)
        since, limit = params.validated_data["since"], params.validated_data["limit"]
        rows = list(
            Change.objects.filter(seq__gt=since)
            .select_related("device_model__manufacturer", "profile")
            .order_by("seq")[: limit + 1]
        )
        more = len(rows) > limit
        rows = rows[:limit]
        data = ChangeSerializer(rows, many=True).data
        return Response({"since": since, "last_seq": rows[-1].seq if rows else since, "more": more, "results": data})
