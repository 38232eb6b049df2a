from django.apps import AppConfig


class ProfilesConfig(AppConfig):
    name = "profiles"
    verbose_name = "mudhub profiles"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in, user_login_failed
        from django.urls import register_converter

        from profiles.api.converters import IdConverter
        from profiles.auth_backends import on_logged_in, on_login_failed

        # `<id:pk>` in any URL pattern: an integer path segment that a 64-bit column can hold.
        register_converter(IdConverter, "id")
        # Failed logins counted for the lockouts (profiles/auth_backends.py), whatever the login form.
        user_login_failed.connect(on_login_failed, dispatch_uid="profiles-login-failed")
        user_logged_in.connect(on_logged_in, dispatch_uid="profiles-logged-in")
