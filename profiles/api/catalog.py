"""Read API of the catalogue and its consensus: manufacturers, device models, versions, changes."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Prefetch, QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from profiles import mud
from profiles.api.filters import DeviceModelFilter, ManufacturerFilter
from profiles.api.serializers import (
    ChangeSerializer,
    ConsensusFlowSerializer,
    ConsensusProfileSerializer,
    DeviceModelSerializer,
    ManufacturerSerializer,
)
from profiles.errors import DomainError, NotFound, problem
from profiles.models import LATEST, Change, ConsensusProfile, DeviceModel, FirmwareVersion, Manufacturer

FIRMWARE_PARAM = OpenApiParameter("firmware", OpenApiTypes.STR, description="a firmware version, or `latest`")


class ManufacturerViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Manufacturer.objects.annotate(device_model_count=Count("device_models"))
    serializer_class = ManufacturerSerializer
    filterset_class = ManufacturerFilter
    ordering_fields = ["slug", "name", "created_at"]


def _scope(request: Request, device_model: DeviceModel) -> str:
    scope = request.query_params.get("firmware", LATEST) or LATEST
    if scope != LATEST and not FirmwareVersion.objects.filter(device_model=device_model, version=scope).exists():
        raise DomainError(
            "invalid_input",
            "Unknown firmware for this model.",
            problems=[problem("unknown_firmware", "/firmware", f"{scope!r} is not a known firmware of this model")],
        )
    return scope


class DeviceModelViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = DeviceModel.objects.select_related("manufacturer").prefetch_related(
        Prefetch("firmware_versions", queryset=FirmwareVersion.objects.order_by("first_seen", "id"))
    )
    serializer_class = DeviceModelSerializer
    filterset_class = DeviceModelFilter
    ordering_fields = ["slug", "name", "created_at", "updated_at"]

    def _profiles(self, device_model: DeviceModel, scope: str) -> QuerySet[ConsensusProfile]:
        return ConsensusProfile.objects.filter(device_model=device_model, scope=scope)

    @extend_schema(parameters=[FIRMWARE_PARAM], responses={200: OpenApiTypes.OBJECT})
    @action(detail=True, methods=["get"])
    def consensus(self, request: Request, pk: str | None = None) -> Response:
        """The current consensus: every flow with its state, risk class, support and provenance."""
        device_model = self.get_object()
        scope = _scope(request, device_model)
        profile = self._profiles(device_model, scope).filter(is_current=True).first()
        if profile is None:
            raise NotFound("No consensus has been computed for this model and firmware yet.", code="no_consensus")
        flows = profile.flows.select_related("flow").order_by("flow__key")
        return Response(
            {
                "device_model": device_model.pk,
                "mud_url": device_model.mud_url_for(scope),
                "profile": ConsensusProfileSerializer(profile).data,
                "flows": ConsensusFlowSerializer(flows, many=True).data,
            }
        )

    @extend_schema(parameters=[FIRMWARE_PARAM], responses={200: ConsensusProfileSerializer(many=True)})
    @action(detail=True, methods=["get"])
    def versions(self, request: Request, pk: str | None = None) -> Response:
        device_model = self.get_object()
        profiles = self._profiles(device_model, _scope(request, device_model)).order_by("-version")
        page = self.paginate_queryset(profiles)
        return self.get_paginated_response(ConsensusProfileSerializer(page, many=True).data)

    # Routed in api/urls.py, not by the router: its version segments use the `id` converter.
    @extend_schema(parameters=[FIRMWARE_PARAM], responses={200: OpenApiTypes.OBJECT})
    def diff(self, request: Request, pk: int | None = None, a: int = 0, b: int = 0) -> Response:
        """What changed between two versions: flows added and removed, metadata changed."""
        device_model = self.get_object()
        profiles = {
            p.version: p for p in self._profiles(device_model, _scope(request, device_model)).filter(version__in=[a, b])
        }
        missing = [v for v in (a, b) if v not in profiles]
        if missing:
            raise NotFound(f"No version {missing[0]} of this consensus.")
        old = mud.parse(bytes(profiles[a].mud_bytes), mode="strict")
        new = mud.parse(bytes(profiles[b].mud_bytes), mode="strict")
        change = mud.diff(old, new)
        return Response(
            {
                "from": a,
                "to": b,
                "added": [flow.key for flow in change.added],
                "removed": [flow.key for flow in change.removed],
                "meta_changes": {k: [str(v[0]), str(v[1])] for k, v in change.meta_changes.items()},
            }
        )


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
