"""URLs outside the API: the gateway MUD files, their signatures, the signed index, the certificate,
and the web pages."""

from django.urls import include, path

from profiles import gateway

urlpatterns = [
    path(".well-known/mudhub/aggregator.pem", gateway.aggregator_certificate, name="aggregator-certificate"),
    path("mud/index.json", gateway.index_file, name="mud-index"),
    path("mud/index.p7s", gateway.index_signature, name="mud-index-signature"),
    path("mud/timestamp.json", gateway.timestamp_file, name="mud-timestamp"),
    path("mud/timestamp.p7s", gateway.timestamp_signature, name="mud-timestamp-signature"),
    path("mud/<slug:manufacturer>/<slug:model>.json", gateway.mud_file, name="mud-file"),
    path("mud/<slug:manufacturer>/<slug:model>.p7s", gateway.mud_signature, name="mud-signature"),
    path("mud/<slug:manufacturer>/<slug:model>@<slug:region>.json", gateway.mud_variant_file, name="mud-variant"),
    path(
        "mud/<slug:manufacturer>/<slug:model>@<slug:region>.p7s",
        gateway.mud_variant_signature,
        name="mud-variant-signature",
    ),
    path("mud/<slug:manufacturer>/<slug:model>/<str:firmware>.json", gateway.mud_file, name="mud-file-firmware"),
    path(
        "mud/<slug:manufacturer>/<slug:model>/<str:firmware>.p7s", gateway.mud_signature, name="mud-signature-firmware"
    ),
    path("", include("profiles.web.urls")),
]
