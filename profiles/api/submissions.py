"""POST /api/v1/submissions/ and the read side of submissions."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from profiles.api.errors import flatten_detail
from profiles.api.filters import SubmissionFilter
from profiles.api.serializers import SubmissionInSerializer, SubmissionSerializer
from profiles.api.throttles import SubmissionThrottle
from profiles.errors import DomainError
from profiles.models import Submission
from profiles.services.accounts import contributor_for
from profiles.services.submissions import submission_content_read, submission_create


class SubmissionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    queryset = Submission.objects.select_related("contributor__user", "device_model__manufacturer", "firmware")
    serializer_class = SubmissionSerializer
    filterset_class = SubmissionFilter
    ordering_fields = ["id", "created_at", "flow_count"]
    throttle_classes = [SubmissionThrottle]

    @extend_schema(
        request=SubmissionInSerializer,
        responses={
            201: SubmissionSerializer,
            200: OpenApiResponse(SubmissionSerializer, description="the same bytes were already submitted"),
            400: OpenApiResponse(description="every problem, each with its JSON pointer"),
            413: OpenApiResponse(description="the body is over the size limit"),
        },
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        payload = request.data
        raw = getattr(request, "raw_body", b"")
        contributor = contributor_for(request.user)
        envelope = SubmissionInSerializer(data=payload)
        problems = [] if envelope.is_valid() else flatten_detail(envelope.errors)
        content, content_problems = submission_content_read(payload) if isinstance(payload, dict) else (None, [])
        problems += content_problems
        if problems or content is None:
            raise DomainError("invalid_input", f"{len(problems)} problem(s) in the submission.", problems=problems)
        submission, created = submission_create(
            contributor=contributor,
            raw=raw,
            raw_content_type=request.content_type or "application/json",
            device=envelope.validated_data.get("device") or {},
            observation=envelope.validated_data.get("observation"),
            content=content,
        )
        body = self.get_serializer(submission).data
        return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    @extend_schema(responses={200: OpenApiResponse(description="the request body exactly as it was received")})
    @action(detail=True, methods=["get"])
    def raw(self, request: Request, pk: str | None = None) -> HttpResponse:
        submission = self.get_object()
        response = HttpResponse(bytes(submission.raw), content_type=submission.raw_content_type)
        response["Content-Disposition"] = f'attachment; filename="submission-{submission.pk}.json"'
        response["ETag"] = f'"{submission.sha256}"'
        return response
