"""The pages for people; everything else (API, gateway files) is routed elsewhere."""

from django.contrib.auth import views as auth_views
from django.urls import path

from profiles.web.views import accounts, catalog, contribute, curation, manufacturers, trust

app_name = "web"

urlpatterns = [
    path("", catalog.catalogue, name="catalogue"),
    path("devices/<slug:manufacturer>/<slug:model>/", catalog.device_model_page, name="device-model"),
    path("devices/<slug:manufacturer>/<slug:model>/diff/", catalog.device_model_diff, name="device-model-diff"),
    path("devices/<slug:manufacturer>/<slug:model>/vote/", catalog.vote, name="vote"),
    path("accounts/login/", accounts.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/signup/", accounts.signup, name="signup"),
    path("accounts/tokens/", accounts.tokens, name="tokens"),
    path("contribute/", contribute.contribute, name="contribute"),
    path("submissions/", contribute.my_submissions, name="my-submissions"),
    path("submissions/<int:submission_id>/", contribute.submission_page, name="submission"),
    path("submissions/<int:submission_id>/report/", contribute.report, name="report"),
    path("contributors/<str:username>/", trust.contributor_page, name="contributor"),
    path("manufacturers/", manufacturers.my_manufacturers, name="manufacturers"),
    path("manufacturers/<slug:slug>/console/", manufacturers.console, name="manufacturer-console"),
    path("moderation/", trust.moderation, name="moderation"),
    path("moderation/decide/", trust.decide, name="decide"),
    path("moderation/login-lockouts/lift/", trust.lift_lockout, name="lift-lockout"),
    path("moderation/devices/<slug:manufacturer>/<slug:model>/", curation.curate, name="curate"),
]
