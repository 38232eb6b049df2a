from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from profiles.api import errors
from profiles.api.schema import SchemaNegotiation

urlpatterns = [
    path("api/v1/", include("profiles.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(content_negotiation_class=SchemaNegotiation), name="schema"),
    path("api/schema/swagger-ui/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("admin/", admin.site.urls),
    path("", include("profiles.urls")),
]

handler400 = errors.bad_request
handler403 = errors.permission_denied
handler404 = errors.page_not_found
handler500 = errors.server_error
