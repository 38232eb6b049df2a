from django.urls import path
from rest_framework.routers import SimpleRouter

from profiles.api import auth, catalog, curation, export, manufacturers, root, status, submissions, trust

app_name = "api"

router = SimpleRouter()
router.register("manufacturers", catalog.ManufacturerViewSet)
router.register("device-models", catalog.DeviceModelViewSet)
router.register("submissions", submissions.SubmissionViewSet)
router.register("votes", trust.VoteViewSet)
router.register("moderation/decisions", trust.DecisionViewSet)

urlpatterns = [
    path("", root.ApiRootView.as_view(), name="root"),
    path("status/", status.StatusView.as_view(), name="status"),
    path("auth/register/", auth.RegisterView.as_view(), name="register"),
    path("auth/token/", auth.TokenView.as_view(), name="token"),
    path("auth/logout/", auth.LogoutView.as_view(), name="logout"),
    path("changes/", catalog.ChangesView.as_view(), name="changes"),
    path("moderation/login-lockouts/lift/", trust.LoginLockoutLiftView.as_view(), name="login-lockout-lift"),
    path("export/", export.ExportView.as_view(), name="export"),
    path("moderation/queue/", trust.ModerationQueueView.as_view(), name="moderation-queue"),
    path(
        "device-models/<id:pk>/versions/<id:a>/diff/<id:b>/",
        catalog.DeviceModelViewSet.as_view({"get": "diff"}, detail=True),
        name="devicemodel-diff",
    ),
    path("submissions/<id:pk>/report/", trust.SubmissionReportView.as_view(), name="submission-report"),
    path("contributors/<str:username>/", trust.ContributorView.as_view(), name="contributor"),
    # The manufacturer side: members, claims, certificates, signed profiles, statements, discrepancies.
    path("manufacturers/<slug:slug>/members/", manufacturers.MembersView.as_view(), name="manufacturer-members"),
    path(
        "manufacturers/<slug:slug>/members/<str:username>/",
        manufacturers.MemberView.as_view(),
        name="manufacturer-member",
    ),
    path("manufacturers/<slug:slug>/claims/", manufacturers.ClaimsView.as_view(), name="manufacturer-claims"),
    path(
        "manufacturers/<slug:slug>/claims/<id:pk>/verify/",
        manufacturers.ClaimVerifyView.as_view(),
        name="manufacturer-claim-verify",
    ),
    path(
        "manufacturers/<slug:slug>/certificates/",
        manufacturers.CertificatesView.as_view(),
        name="manufacturer-certificates",
    ),
    path(
        "manufacturers/<slug:slug>/certificates/<id:pk>/",
        manufacturers.CertificateView.as_view(),
        name="manufacturer-certificate",
    ),
    path("manufacturers/<slug:slug>/profiles/", manufacturers.ProfilesView.as_view(), name="manufacturer-profiles"),
    path(
        "manufacturers/<slug:slug>/profiles/<id:pk>/",
        manufacturers.ProfileView.as_view(),
        name="manufacturer-profile",
    ),
    path(
        "manufacturers/<slug:slug>/profiles/<id:pk>/mud/",
        manufacturers.ProfileMudView.as_view(),
        name="manufacturer-profile-mud",
    ),
    path(
        "manufacturers/<slug:slug>/profiles/<id:pk>/signature/",
        manufacturers.ProfileSignatureView.as_view(),
        name="manufacturer-profile-signature",
    ),
    path(
        "manufacturers/<slug:slug>/discrepancies/",
        manufacturers.ManufacturerDiscrepanciesView.as_view(),
        name="manufacturer-discrepancies",
    ),
    path(
        "manufacturers/<slug:slug>/discrepancies/<id:discrepancy>/response/",
        manufacturers.DiscrepancyResponseView.as_view(),
        name="manufacturer-discrepancy-response",
    ),
    path("manufacturers/<slug:slug>/decisions/", manufacturers.DecisionsView.as_view(), name="manufacturer-decisions"),
    path(
        "device-models/<id:pk>/discrepancies/",
        manufacturers.ModelDiscrepanciesView.as_view(),
        name="device-model-discrepancies",
    ),
    path(
        "device-models/<id:pk>/discrepancies/<id:discrepancy>/response/",
        manufacturers.DiscrepancyResponseView.as_view(),
        name="device-model-discrepancy-response",
    ),
    path("device-models/<id:pk>/withdraw/", curation.WithdrawView.as_view(), name="device-model-withdraw"),
    path("device-models/<id:pk>/restore/", curation.RestoreView.as_view(), name="device-model-restore"),
    path("device-models/<id:pk>/merge/", curation.MergeView.as_view(), name="device-model-merge"),
    path("device-models/<id:pk>/statements/", manufacturers.StatementsView.as_view(), name="device-model-statements"),
    *router.urls,
]
