"""GET /api/v1/: what the API offers, as links (a client or a person starts here)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

# (name, URL name in the `api` namespace, what it is)
RESOURCES = [
    ("status", "api:status", "readiness: database, cache, broker"),
    ("manufacturers", "api:manufacturer-list", "manufacturers in the catalogue"),
    ("device-models", "api:devicemodel-list", "device models; their consensus, versions and diffs"),
    ("submissions", "api:submission-list", "what contributors sent (POST to submit)"),
    ("changes", "api:changes", "the feed of published consensus versions, for gateways that sync"),
    ("votes", "api:vote-list", "votes on flows (TL2 and up)"),
    ("moderation-decisions", "api:moderationdecision-list", "every moderation decision"),
    ("moderation-queue", "api:moderation-queue", "what waits for a moderator"),
    ("register", "api:register", "create an account"),
    ("token", "api:token", "exchange a username and password for a token"),
    ("schema", "schema", "the OpenAPI description"),
]


class ApiRootView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(responses={200: OpenApiResponse(description="links to every resource")})
    def get(self, request: Request) -> Response:
        return Response(
            {
                "name": "mudhub API",
                "version": "1",
                "resources": {
                    name: {"url": reverse(url_name, request=request), "description": text}
                    for name, url_name, text in RESOURCES
                },
                "mud_files": "/mud/<manufacturer>/<model>.json and /mud/<manufacturer>/<model>/<firmware>.json",
            }
        )
