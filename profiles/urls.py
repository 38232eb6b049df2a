"""URLs outside the API: the gateway MUD files and the web pages."""

from django.urls import include, path

from profiles import gateway

urlpatterns = [
    path("mud/<slug:manufacturer>/<slug:model>.json", gateway.mud_file, name="mud-file"),
    path("mud/<slug:manufacturer>/<slug:model>/<str:firmware>.json", gateway.mud_file, name="mud-file-firmware"),
    path("", include("profiles.web.urls")),
]
