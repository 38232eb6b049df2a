"""GET /api/v1/export/: every current profile, streamed (NDJSON, or ?format=tar)."""

from __future__ import annotations

from typing import Any

from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.request import Request
from rest_framework.views import APIView

from profiles.selectors.export import export_rows, ndjson_stream, tar_stream
from profiles.services.index import feed_seq_now

FEED_SEQ_HEADER = "X-Mudhub-Feed-Seq"


class _FormatIsOurs(DefaultContentNegotiation):
    """`?format=` picks the export's form here, not DRF's renderer: errors are always JSON."""

    def select_renderer(self, request: Request, renderers: list[Any], format_suffix: str | None = None) -> Any:
        return renderers[0], renderers[0].media_type


class ExportView(APIView):
    """Every current consensus file with its signature, in one streamed download.

    `format=ndjson` (the default): a header line `{"mudhub-export": 1, "feed_seq", "generated",
    "signer", "certificate"}`, one line per file `{"path", "signature_path", "manufacturer",
    "model", "scope", "version", "sha256", "mud" (the file's exact text), "signature" (base64
    DER)}`, and an end line `{"end": true, "count", "feed_seq"}`. `format=tar`: a gzip tar of
    the publish layout. The `X-Mudhub-Feed-Seq` header (and the header line) give the feed
    sequence the export is at least as new as: follow /api/v1/changes/ from there.
    """

    content_negotiation_class = _FormatIsOurs

    class Params(serializers.Serializer):
        format = serializers.ChoiceField(choices=["ndjson", "tar"], default="ndjson")

    @extend_schema(
        parameters=[OpenApiParameter("format", OpenApiTypes.STR, enum=["ndjson", "tar"])],
        responses={
            (200, "application/x-ndjson"): OpenApiResponse(OpenApiTypes.STR, description="NDJSON lines"),
            (200, "application/gzip"): OpenApiResponse(OpenApiTypes.BINARY, description="a gzip tar"),
        },
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> StreamingHttpResponse:
        params = self.Params(data={"format": request.query_params.get("format", "ndjson")})
        params.is_valid(raise_exception=True)
        feed_seq = feed_seq_now()
        if params.validated_data["format"] == "tar":
            response = StreamingHttpResponse(tar_stream(feed_seq=feed_seq, rows=export_rows()))
            response["Content-Type"] = "application/gzip"
            response["Content-Disposition"] = f'attachment; filename="mudhub-export-{feed_seq}.tar.gz"'
        else:
            response = StreamingHttpResponse(ndjson_stream(feed_seq=feed_seq, rows=export_rows()))
            response["Content-Type"] = "application/x-ndjson"
        response[FEED_SEQ_HEADER] = str(feed_seq)
        response["Cache-Control"] = "no-store"
        return response
