"""What gateways download: /mud/<manufacturer>/<model>.json, the per-firmware files, the .p7s
signature beside each, the signed index and the aggregator's certificate.

The hot path of mudhub. A cache hit runs no database query: the bytes, their ETag and
max-age come from the cache in one read. Revalidation (If-None-Match) answers 304.

`?region=` (an ISO 3166-1 alpha-2 country code, or a UN M49 sub-region slug such as
`western-europe`) serves the regional variant of that sub-region, or the global file when the
region has none; anything else is a 400. A variant is also served at its own path (the one
its `mud-url` names and MUDHUB_PUBLISH_DIR holds): `<model>@western-europe.json`, and for a
firmware `<model>/1.2@western-europe.json`, each with its `.p7s`.
"""

from __future__ import annotations

import hashlib

from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_safe

from profiles.api.errors import error_body
from profiles.models import LATEST, DeviceModel
from profiles.regions import region_resolve, split_scope, variant_scope
from profiles.selectors.mud_files import ServedFile, served_file_get

MUD_MEDIA_TYPE = "application/mud+json"
SIGNATURE_MEDIA_TYPE = "application/pkcs7-signature"
INDEX_RETRY_AFTER = 60


def _matches(if_none_match: str, etag: str) -> bool:
    if if_none_match.strip() == "*":
        return True
    tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return etag in tags


def _not_found(manufacturer: str, model: str, firmware: str) -> JsonResponse:
    """404 for what was never served; 410 Gone for what a moderator withdrew or merged into
    another model (`merged_into` then names the file to use instead)."""
    found = (
        DeviceModel.objects.filter(manufacturer__slug=manufacturer, slug=model)
        .select_related("merged_into__manufacturer")
        .first()
    )
    if found is None:
        body = error_body("unknown_device_model", f"No device model {manufacturer}/{model} is known.")
    elif found.merged_into is not None:
        target = found.merged_into
        body = error_body("merged", f"{manufacturer}/{model} was merged into {target.manufacturer.slug}/{target.slug}.")
        body["merged_into"] = {
            "manufacturer": target.manufacturer.slug,
            "model": target.slug,
            "mud_url": target.mud_url_for(split_scope(firmware)[0]),
        }
        return JsonResponse(body, status=410)
    elif found.withdrawn_at is not None or split_scope(firmware)[0] in found.withdrawn_scopes:
        body = error_body("withdrawn", f"The file of {manufacturer}/{model} for {firmware} was withdrawn.")
        return JsonResponse(body, status=410)
    else:
        body = error_body("no_consensus", f"No consensus of {manufacturer}/{model} for {firmware} is published yet.")
    return JsonResponse(body, status=404)


def _serve(request: HttpRequest, served: ServedFile, content_type: str) -> HttpResponseBase:
    etag = f'"{served.etag}"'
    inm = request.META.get("HTTP_IF_NONE_MATCH")
    if inm and _matches(inm, etag):
        response: HttpResponseBase = HttpResponse(status=304)
    else:
        response = HttpResponse(served.body, content_type=content_type)
    response["ETag"] = etag
    response["Cache-Control"] = f"public, max-age={served.max_age}"
    return response


def _unknown_region() -> JsonResponse:
    problems = [
        {
            "code": "unknown_region",
            "path": "/region",
            "message": "not an ISO 3166-1 alpha-2 country code nor a UN M49 sub-region slug",
        }
    ]
    return JsonResponse(error_body("invalid_input", "Unknown region.", problems), status=400)


def _file(
    request: HttpRequest, manufacturer: str, model: str, scope: str, signature: bool, region: str | None = None
) -> HttpResponseBase:
    """The file (or its .p7s) of `scope`; with `?region=` (or `region`, from the path) the
    variant of that region when it has one, else the global file."""
    asked = request.GET.get("region") if region is None else region
    slug = None
    if asked is not None:
        slug = region_resolve(asked)
        if region is not None and slug != region:  # a variant's own path names its slug, nothing else
            return _not_found(manufacturer, model, variant_scope(scope, region))
        if slug is None:
            return _unknown_region()
    # The global file first: a variant exists only beside it, and knowing it does bounds what
    # is remembered as absent to real models' regions.
    served = served_file_get(manufacturer_slug=manufacturer, model_slug=model, scope=scope, signature=signature)
    if served is None:
        return _not_found(manufacturer, model, scope if slug is None else variant_scope(scope, slug))
    if slug is not None:
        variant = served_file_get(
            manufacturer_slug=manufacturer,
            model_slug=model,
            scope=variant_scope(scope, slug),
            signature=signature,
            remember_absent=True,
        )
        if variant is None and region is not None:  # a variant's own path serves that variant only
            return _not_found(manufacturer, model, variant_scope(scope, slug))
        served = variant or served
    return _serve(request, served, SIGNATURE_MEDIA_TYPE if signature else MUD_MEDIA_TYPE)


# A gateway never writes: any other method is a JSON 405 (JsonErrorMiddleware), not a CSRF page.
@csrf_exempt
@require_safe
def mud_file(request: HttpRequest, manufacturer: str, model: str, firmware: str = LATEST) -> HttpResponseBase:
    return _file(request, manufacturer, model, firmware, signature=False)


@csrf_exempt
@require_safe
def mud_signature(request: HttpRequest, manufacturer: str, model: str, firmware: str = LATEST) -> HttpResponseBase:
    """The detached CMS signature (DER) of the file served beside it, with its own ETag."""
    return _file(request, manufacturer, model, firmware, signature=True)


@csrf_exempt
@require_safe
def mud_variant_file(request: HttpRequest, manufacturer: str, model: str, region: str) -> HttpResponseBase:
    """A regional variant of the latest consensus at its own path: `<model>@<region slug>.json`."""
    return _file(request, manufacturer, model, LATEST, signature=False, region=region)


@csrf_exempt
@require_safe
def mud_variant_signature(request: HttpRequest, manufacturer: str, model: str, region: str) -> HttpResponseBase:
    return _file(request, manufacturer, model, LATEST, signature=True, region=region)


def _index_unavailable(what: str) -> JsonResponse:
    response = JsonResponse(
        error_body("index_unavailable", f"No signed {what} is published yet; the beat publishes one shortly."),
        status=503,
    )
    response["Retry-After"] = str(INDEX_RETRY_AFTER)
    return response


def _index(request: HttpRequest, part: str) -> HttpResponseBase:
    """The newest signed index, or its timestamp, exactly as published: a GET never signs or
    stores anything. Before the first index (a fresh install: the first publish, `manage.py
    publish` or the beat's refresh makes it) the answer is 503 with Retry-After."""
    from profiles.services.index import index_current

    index = index_current()
    if index is None:
        return _index_unavailable("index")
    body = bytes(getattr(index, part))
    if not body:  # an index published before timestamps existed; the beat's refresh adds one
        return JsonResponse(error_body("no_timestamp", "The current index has no timestamp yet."), status=404)
    # Short-lived: a new index follows every publish, and its expiry is what gateways check.
    served = ServedFile(etag=hashlib.sha256(body).hexdigest(), body=body, max_age=60)
    return _serve(request, served, SIGNATURE_MEDIA_TYPE if part.endswith("signature") else "application/json")


@csrf_exempt
@require_safe
def index_file(request: HttpRequest) -> HttpResponseBase:
    """The signed index of every served file (mud/index.json)."""
    return _index(request, "body")


@csrf_exempt
@require_safe
def index_signature(request: HttpRequest) -> HttpResponseBase:
    return _index(request, "signature")


@csrf_exempt
@require_safe
def timestamp_file(request: HttpRequest) -> HttpResponseBase:
    """The signed timestamp (mud/timestamp.json): the current index's sha256 and version."""
    return _index(request, "timestamp")


@csrf_exempt
@require_safe
def timestamp_signature(request: HttpRequest) -> HttpResponseBase:
    return _index(request, "timestamp_signature")


@csrf_exempt
@require_safe
def aggregator_certificate(request: HttpRequest) -> HttpResponseBase:
    """The certificate gateways pin: every published file and index is signed by its key."""
    from profiles.services.signing_keys import signing_identity

    pem = signing_identity().certificate_pem
    served = ServedFile(etag=hashlib.sha256(pem).hexdigest(), body=pem, max_age=3600)
    return _serve(request, served, "application/x-pem-file")
