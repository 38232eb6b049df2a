"""URLs outside the API: the gateway MUD files and, later, the web pages."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
