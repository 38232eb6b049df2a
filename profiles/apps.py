from django.apps import AppConfig


class ProfilesConfig(AppConfig):
    name = "profiles"
    verbose_name = "mudhub profiles"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.urls import register_converter

        from profiles.api.converters import IdConverter

        # `<id:pk>` in any URL pattern: an integer path segment that a 64-bit column can hold.
        register_converter(IdConverter, "id")
