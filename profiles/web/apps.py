from django.apps import AppConfig


class WebConfig(AppConfig):
    """The pages for people: templates and static files live beside this module."""

    name = "profiles.web"
    label = "web"
    verbose_name = "mudhub web pages"
