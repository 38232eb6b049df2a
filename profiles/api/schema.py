"""The OpenAPI document, made to describe what the API really answers, in one place.

drf-spectacular documents the success responses each view declares. What every operation
can also answer comes from the machinery around the views (authentication, permissions,
throttles, parsers, the exception handler), so it is derived here, from the view itself,
for every operation, including the ones added later:

- the errors, each in the shared error shape: 400 when the operation reads a body or query
  parameters, 401 when it authenticates a token, 403 when it needs an account, 404 when it
  has path parameters, 413 and 415 when it reads a body, 429 when it is throttled, 503 when
  the database is unreachable;
- which operations are public: the security requirement lists the token as optional exactly
  when the view's permissions let an anonymous request through;
- the gateway files under /mud/, which are plain Django views, with their headers
  (ETag, Cache-Control, If-None-Match and 304), by a postprocessing hook.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.request import Request

ERROR_MEDIA_TYPE = "application/json"
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class ProblemSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="a stable identifier of the problem")
    path = serializers.CharField(help_text="the JSON pointer of the member it concerns (`/` for the whole request)")
    message = serializers.CharField()


class ErrorSerializer(serializers.Serializer):
    """The one shape of every error mudhub answers."""

    code = serializers.CharField(help_text="a stable identifier clients may branch on")
    message = serializers.CharField()
    errors = ProblemSerializer(many=True, help_text="every problem found, each with its JSON pointer")
    retry_after = serializers.IntegerField(
        required=False, help_text="on 429: seconds until the request may be sent again (as the Retry-After header)"
    )


ERROR_DESCRIPTIONS = {
    "400": "The request is invalid: every problem is listed with its JSON pointer.",
    "401": "The token is missing, unknown, or expired (or, when signing in, the credentials are wrong).",
    "403": "The account may not do this (trust level, moderator rights, suspension, or the object's owner).",
    "404": "Nothing is at this address.",
    "405": "The method is not allowed on this address; the Allow header lists those that are.",
    "413": "The body is larger than the server accepts (MUDHUB_MAX_BODY_BYTES).",
    "415": "The body is not `application/json`.",
    "429": "Too many requests: a rate or daily limit is reached. Retry-After says when to try again.",
    "503": "A service the request needs (the database) is unavailable; nothing was stored. Retry later.",
}

RETRY_AFTER_HEADER = {
    "Retry-After": {"schema": {"type": "integer", "minimum": 0}, "description": "seconds to wait before retrying"}
}


def _anonymous_request(method: str) -> Request:
    django_request = HttpRequest()
    django_request.method = method
    request = Request(django_request)
    request.user = AnonymousUser()
    request.auth = None
    return request


class AutoSchema(SpectacularAutoSchema):
    def is_public(self) -> bool:
        """Whether an anonymous request passes every permission of this operation."""
        request = _anonymous_request(self.method)
        try:
            return all(p.has_permission(request, self.view) for p in self.view.get_permissions())
        except Exception:  # a permission that needs more than an anonymous request is not public
            return False

    def get_auth(self) -> list[dict[str, Any]]:
        schemes = [scheme for scheme in super().get_auth() if scheme]
        if not schemes:
            return [{}]
        return [*schemes, {}] if self.is_public() else schemes

    def _reads_body(self) -> bool:
        return self.method in BODY_METHODS and bool(self._get_request_body())

    def _has_query_parameters(self) -> bool:
        return any(p.get("in") == "query" for p in self._get_parameters())

    def _has_path_parameters(self) -> bool:
        return "{" in self.path

    def error_statuses(self) -> list[str]:
        codes = []
        # A write may also be refused by its service with reasons (a domain rule, an unknown
        # name in the path), listed like any invalid input.
        if self._reads_body() or self._has_query_parameters() or self.method in UNSAFE_METHODS:
            codes.append("400")
        if self.view.get_authenticators():
            codes.append("401")
        if self.view.get_authenticators() and not self.is_public():
            codes.append("403")
        if self._has_path_parameters():
            codes.append("404")
        if self._reads_body():
            codes += ["413", "415"]
        if self.view.get_throttles():
            codes.append("429")
        codes.append("503")
        return codes

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses: dict[str, Any] = super()._get_response_bodies(direction)
        declared = [code for code, response in responses.items() if code >= "400" and "content" not in response]
        for code in sorted({*self.error_statuses(), *declared}):
            if code in responses and "content" in responses[code]:
                continue  # the view documents this one itself
            described = responses.get(code, {}).get("description") or ERROR_DESCRIPTIONS.get(code, "")
            responses[code] = self._get_response_for_code(
                OpenApiResponse(ErrorSerializer, description=described), code, [ERROR_MEDIA_TYPE], direction
            )
            if code in {"429", "503"}:
                responses[code]["headers"] = {**RETRY_AFTER_HEADER, **responses[code].get("headers", {})}
        return dict(sorted(responses.items()))


# --- the gateway files ---------------------------------------------------------------------

_ERROR_REF = {"$ref": "#/components/schemas/Error"}
_SLUG = {"type": "string", "pattern": r"^[-a-zA-Z0-9_]+$"}


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {ERROR_MEDIA_TYPE: {"schema": _ERROR_REF}}}


_REGION = {
    "in": "query",
    "name": "region",
    "required": False,
    "schema": {"type": "string"},
    "description": (
        "the gateway's country (ISO 3166-1 alpha-2, any case) or its UN M49 sub-region slug (`western-europe`): "
        "the regional variant of that sub-region, or the global file when the region has none"
    ),
}


def _gateway_operation(
    operation_id: str, summary: str, with_firmware: bool, method: str, variant: bool = False
) -> dict[str, Any]:
    parameters: list[dict[str, Any]] = [
        {"in": "path", "name": "manufacturer", "required": True, "schema": _SLUG, "description": "manufacturer slug"},
        {"in": "path", "name": "model", "required": True, "schema": _SLUG, "description": "device model slug"},
    ]
    if variant:
        parameters.append(
            {
                "in": "path",
                "name": "region",
                "required": True,
                "schema": {"type": "string", "pattern": r"^[a-z]+(-[a-z]+)*$"},
                "description": "a UN M49 sub-region slug: the variant's own path, as its mud-url names it",
            }
        )
    else:
        parameters.append(_REGION)
    if with_firmware:
        parameters.append(
            {
                "in": "path",
                "name": "firmware",
                "required": True,
                "schema": {"type": "string", "pattern": r"^[^/]+$"},
                "description": "a firmware version of the model",
            }
        )
    parameters.append(
        {
            "in": "header",
            "name": "If-None-Match",
            "required": False,
            "schema": {"type": "string"},
            "description": "ETags the gateway holds (or `*`); when one matches, the answer is 304 with no body",
        }
    )
    headers = {
        "ETag": {"schema": {"type": "string"}, "description": 'the sha256 of the file\'s bytes, quoted ("...")'},
        "Cache-Control": {
            "schema": {"type": "string"},
            "description": "`public, max-age=<seconds>`: the file's cache-validity",
        },
    }
    body = {"type": "object", "description": "a MUD file (RFC 8520), signed by mudhub's consensus"}
    ok = {
        "description": "the consensus profile as a MUD file",
        "headers": headers,
        "content": {"application/mud+json": {"schema": body}},
    }
    responses: dict[str, Any] = {
        "200": ok,
        "304": {"description": "If-None-Match matched: the gateway's copy is current", "headers": headers},
        "404": _error(
            "no such device model, or no consensus of it (or, at a variant's own path, no variant for that region) "
            "published yet (`code` says which)"
        ),
        "410": {
            "description": "a moderator withdrew the file (`code: withdrawn`) or merged the model into another "
            "(`code: merged`, with `merged_into`)",
            "content": {ERROR_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/MudGone"}}},
        },
        "503": {**_error(ERROR_DESCRIPTIONS["503"]), "headers": RETRY_AFTER_HEADER},
    }
    if not variant:
        responses["400"] = _error("`region` is neither a country code nor a sub-region slug (`/region`)")
        responses = dict(sorted(responses.items()))
    if method == "head":  # the same answers, without their bodies
        responses = {code: {k: v for k, v in r.items() if k != "content"} for code, r in responses.items()}
    return {
        "operationId": operation_id if method == "get" else f"{operation_id}_head",
        "summary": summary,
        "description": (
            "What gateways download: the current consensus of a device model as an RFC 8520 MUD file "
            "(`application/mud+json`), with a strong ETag; a cached file is served without a database query."
        ),
        "tags": ["mud"],
        "parameters": parameters,
        "security": [{}],
        "responses": responses,
    }


_MUD_GONE = {
    "type": "object",
    "description": "410: the file is no longer served (the shared error shape, and where to go instead)",
    "properties": {
        "code": {"type": "string", "description": "`withdrawn` or `merged`"},
        "message": {"type": "string"},
        "errors": {"type": "array", "items": {"$ref": "#/components/schemas/Problem"}},
        "merged_into": {
            "type": "object",
            "description": "when merged: the model that replaces this one",
            "properties": {
                "manufacturer": {"type": "string"},
                "model": {"type": "string"},
                "mud_url": {"type": "string"},
            },
            "required": ["manufacturer", "model", "mud_url"],
        },
    },
    "required": ["code", "message", "errors"],
}


def gateway_paths() -> dict[str, Any]:
    latest = "Download the consensus MUD file of a device model (its latest firmware)"
    firmware = "Download the consensus MUD file of a device model for one firmware version"
    variant = "Download a regional variant of a device model's consensus at its own path"
    return {
        "/mud/{manufacturer}/{model}.json": {
            method: _gateway_operation("mud_file", latest, False, method) for method in ("get", "head")
        },
        "/mud/{manufacturer}/{model}/{firmware}.json": {
            method: _gateway_operation("mud_file_firmware", firmware, True, method) for method in ("get", "head")
        },
        "/mud/{manufacturer}/{model}@{region}.json": {
            method: _gateway_operation("mud_file_variant", variant, False, method, variant=True)
            for method in ("get", "head")
        },
    }


def postprocess(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: adds what lives outside DRF."""
    result.setdefault("paths", {}).update(gateway_paths())
    add_links(result)
    responses = result.setdefault("components", {}).setdefault("responses", {})
    responses["MethodNotAllowed"] = _error(ERROR_DESCRIPTIONS["405"])
    result["components"].setdefault("schemas", {})["MudGone"] = _MUD_GONE
    return result


# --- links, for clients and for stateful testing -------------------------------------------


def _schema_of(result: dict[str, Any], response: dict[str, Any]) -> dict[str, Any]:
    schema = response.get("content", {}).get("application/json", {}).get("schema", {})
    ref = schema.get("$ref", "")
    if ref.startswith("#/components/schemas/"):
        resolved: dict[str, Any] = result["components"]["schemas"].get(ref.rsplit("/", 1)[1], {})
        return resolved
    return schema


def _item_of(result: dict[str, Any], response: dict[str, Any]) -> str | None:
    """The JSON pointer to an object's `id` in this response: the object itself, or the first
    item of a page."""
    properties = _schema_of(result, response).get("properties", {})
    if "id" in properties:
        return "/id"
    results = properties.get("results", {})
    if results.get("type") == "array":
        item = _schema_of(result, {"content": {"application/json": {"schema": results.get("items", {})}}})
        if "id" in item.get("properties", {}):
            return "/results/0/id"
    return None


def add_links(result: dict[str, Any]) -> None:
    """Every answer that carries an object's `id` links to the operations on that object
    (`<collection>{id}/...`): created or listed objects can be read, changed, reported."""
    paths: dict[str, dict[str, Any]] = result.get("paths", {})
    for collection, operations in paths.items():
        targets = [
            (operation["operationId"], path)
            for path, ops in paths.items()
            if path.startswith(f"{collection}{{id}}/")
            for operation in ops.values()
        ]
        if not targets:
            continue
        for operation in operations.values():
            for code, response in operation.get("responses", {}).items():
                pointer = _item_of(result, response) if code in {"200", "201"} else None
                if pointer is None:
                    continue
                links = response.setdefault("links", {})
                for target, path in targets:
                    parameters = {"id": f"$response.body#{pointer}"}
                    links[target] = {"operationId": target, "parameters": parameters, "description": path}


class SchemaNegotiation(DefaultContentNegotiation):
    """`?format=json|yaml` chooses the document's form. Elsewhere in the API `format` is a
    filter (URL_FORMAT_OVERRIDE is off), so only the schema view reads it this way."""

    def select_renderer(self, request: Request, renderers: list[Any], format_suffix: str | None = None) -> Any:
        return super().select_renderer(request, renderers, format_suffix or request.query_params.get("format"))
