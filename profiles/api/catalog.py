"""Read API of the catalogue and its consensus: manufacturers, device models, versions, changes."""

from __future__ import annotations

from typing import Any

from django.db.models import Count
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from profiles.api.errors import error_body
from profiles.api.filters import DeviceModelFilter, ManufacturerFilter
from profiles.api.responses import ConsensusSerializer, VersionDiffSerializer
from profiles.api.serializers import (
    ChangePageSerializer,
    ChangeSerializer,
    ConsensusFlowSerializer,
    ConsensusProfileSerializer,
    DeviceModelSerializer,
    FeedGoneSerializer,
    ManufacturerSerializer,
)
from profiles.errors import NotFound
from profiles.models import DeviceModel, Manufacturer
from profiles.mud.managers import osmud_fit
from profiles.selectors.catalog import (
    catalogue_queryset,
    consensus_current_get,
    consensus_diff,
    consensus_flows,
    consensus_profiles,
    device_model_queryset,
    firmware_scope_check,
    region_scope_resolve,
)
from profiles.selectors.changes import FeedGone, changes_page

DEFAULT_FEED_PAGE = 100
MAX_FEED_PAGE = 1000
FIRMWARE_PARAM = OpenApiParameter("firmware", OpenApiTypes.STR, description="a firmware version, or `latest`")
REGION_PARAM = OpenApiParameter(
    "region",
    OpenApiTypes.STR,
    description="a country code (ISO 3166-1 alpha-2) or UN M49 sub-region slug: that region's variant of the "
    "scope when the model has one (the answer's `scope` says which was read), else the global one",
)


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

    def get_queryset(self) -> Any:
        # The list is the catalogue's (merged models out, as on the page); a merged model is
        # still read by its id, with `merged_into` naming the model that replaced it.
        return catalogue_queryset() if self.action == "list" else device_model_queryset()

    def _scope(self, request: Request, device_model: DeviceModel) -> str:
        scope = firmware_scope_check(device_model=device_model, scope=request.query_params.get("firmware"))
        return region_scope_resolve(device_model=device_model, scope=scope, region=request.query_params.get("region"))

    @extend_schema(parameters=[FIRMWARE_PARAM, REGION_PARAM], responses={200: ConsensusSerializer})
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
                # Whether deployed managers hold the whole served file (osMUD: 10 ACLs of 50 ACEs).
                "managers": [osmud_fit(bytes(profile.mud_bytes)).as_dict()],
                "flows": ConsensusFlowSerializer(consensus_flows(profile=profile), many=True).data,
            }
        )

    @extend_schema(parameters=[FIRMWARE_PARAM, REGION_PARAM], responses={200: ConsensusProfileSerializer(many=True)})
    @action(detail=True, methods=["get"], filter_backends=[])
    def versions(self, request: Request, pk: str | None = None) -> Response:
        device_model = self.get_object()
        scope = self._scope(request, device_model)
        profiles = consensus_profiles(device_model=device_model, scope=scope).order_by("-version")
        page = self.paginate_queryset(profiles)
        return self.get_paginated_response(ConsensusProfileSerializer(page, many=True).data)

    # Routed in api/urls.py, not by the router: its version segments use the `id` converter.
    @extend_schema(parameters=[FIRMWARE_PARAM, REGION_PARAM], responses={200: VersionDiffSerializer})
    def diff(self, request: Request, pk: int | None = None, a: int = 0, b: int = 0) -> Response:
        """What changed between two versions: flows added and removed, metadata changed."""
        device_model = self.get_object()
        change = consensus_diff(device_model=device_model, scope=self._scope(request, device_model), a=a, b=b)
        return Response(
            {"from": change.a, "to": change.b, "added": change.added, "removed": change.removed,
             "meta_changes": change.meta_changes}
        )  # fmt: skip


class ChangesView(APIView):
    """The change feed gateways sync from: every entry after `since`, in order.

    An entry is a published version (`kind: published`, with its version, ETag and URLs) or
    a removal (`kind: removed`: the model's file for that scope is no longer served, and
    `merged_into` names the model that replaces it when it was merged). Resume with
    `since=<next>`; `more` says whether another page follows at once. A `since` older than
    what the feed keeps answers 410 with the export to bootstrap from.
    """

    class Params(serializers.Serializer):
        since = serializers.IntegerField(min_value=0, max_value=2**63 - 1, default=0)
        limit = serializers.IntegerField(min_value=1, max_value=MAX_FEED_PAGE, default=DEFAULT_FEED_PAGE)

    @extend_schema(
        parameters=[Params],
        responses={200: ChangePageSerializer, 410: FeedGoneSerializer},
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        params = self.Params(data=request.query_params)
        params.is_valid(raise_exception=True)
        since, limit = params.validated_data["since"], params.validated_data["limit"]
        try:
            page = changes_page(since=since, limit=limit)
        except FeedGone as gone:
            body = error_body(
                "feed_gone",
                f"The feed no longer holds the entries after {since} (it keeps those after {gone.horizon}): "
                "bootstrap from the export, then follow the feed from its feed_seq.",
            )
            body["export_url"] = reverse("api:export")
            body["horizon"] = gone.horizon
            return Response(body, status=410)
        return Response(
            {
                "since": page.since,
                "next": page.next,
                "last_seq": page.next,
                "more": page.more,
                "export_url": reverse("api:export"),
                "results": ChangeSerializer(page.entries, many=True).data,
            }
        )
