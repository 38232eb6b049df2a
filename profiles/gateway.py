"""What gateways download: /mud/<manufacturer>/<model>.json and the per-firmware files.

The hot path of mudhub. A cache hit runs no database query: the bytes, their ETag and
max-age come from the cache in one read. Revalidation (If-None-Match) answers 304.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_safe

from profiles.api.errors import error_body
from profiles.models import LATEST, DeviceModel
from profiles.selectors.mud_files import served_file_get

MUD_MEDIA_TYPE = "application/mud+json"


def _matches(if_none_match: str, etag: str) -> bool:
    if if_none_match.strip() == "*":
        return True
    tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return etag in tags


def _not_found(manufacturer: str, model: str, firmware: str) -> JsonResponse:
    exists = DeviceModel.objects.filter(manufacturer__slug=manufacturer, slug=model).exists()
    if not exists:
        body = error_body("unknown_device_model", f"No device model {manufacturer}/{model} is known.")
    else:
        body = error_body("no_consensus", f"No consensus of {manufacturer}/{model} for {firmware} is published yet.")
    return JsonResponse(body, status=404)


# A gateway never writes: any other method is a JSON 405 (JsonErrorMiddleware), not a CSRF page.
@csrf_exempt
@require_safe
def mud_file(request: HttpRequest, manufacturer: str, model: str, firmware: str = LATEST) -> HttpResponseBase:
    served = served_file_get(manufacturer_slug=manufacturer, model_slug=model, scope=firmware)
    if served is None:
        return _not_found(manufacturer, model, firmware)
    etag = f'"{served.etag}"'
    cache_control = f"public, max-age={served.max_age}"
    inm = request.META.get("HTTP_IF_NONE_MATCH")
    if inm and _matches(inm, etag):
        response: HttpResponseBase = HttpResponse(status=304)
    else:
        response = HttpResponse(served.body, content_type=MUD_MEDIA_TYPE)
    response["ETag"] = etag
    response["Cache-Control"] = cache_control
    return response
