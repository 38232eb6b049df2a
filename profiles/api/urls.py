from django.urls import path
from rest_framework.routers import SimpleRouter

from profiles.api import auth, catalog, status, submissions, trust

app_name = "api"

router = SimpleRouter()
router.register("manufacturers", catalog.ManufacturerViewSet)
router.register("device-models", catalog.DeviceModelViewSet)
router.register("submissions", submissions.SubmissionViewSet)
router.register("votes", trust.VoteViewSet)
router.register("moderation/decisions", trust.DecisionViewSet)

urlpatterns = [
    path("status/", status.StatusView.as_view(), name="status"),
    path("auth/register/", auth.RegisterView.as_view(), name="register"),
    path("auth/token/", auth.TokenView.as_view(), name="token"),
    path("auth/logout/", auth.LogoutView.as_view(), name="logout"),
    path("changes/", catalog.ChangesView.as_view(), name="changes"),
    path("moderation/login-lockouts/lift/", trust.LoginLockoutLiftView.as_view(), name="login-lockout-lift"),
    path("moderation/queue/", trust.ModerationQueueView.as_view(), name="moderation-queue"),
    path(
        "device-models/<id:pk>/versions/<id:a>/diff/<id:b>/",
        catalog.DeviceModelViewSet.as_view({"get": "diff"}, detail=True),
        name="devicemodel-diff",
    ),
    path("submissions/<id:pk>/report/", trust.SubmissionReportView.as_view(), name="submission-report"),
    path("contributors/<str:username>/", trust.ContributorView.as_view(), name="contributor"),
    *router.urls,
]
