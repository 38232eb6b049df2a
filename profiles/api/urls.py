from django.urls import path

from profiles.api import auth, status

app_name = "api"

urlpatterns = [
    path("status/", status.StatusView.as_view(), name="status"),
    path("auth/register/", auth.RegisterView.as_view(), name="register"),
    path("auth/token/", auth.TokenView.as_view(), name="token"),
    path("auth/logout/", auth.LogoutView.as_view(), name="logout"),
]
