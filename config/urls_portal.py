"""URLs of a reseller agency's own custom domain (whitelabel.portals.middleware): its public pages, then
everything its workspace host serves (staff sign-in, password reset, the workspace itself)."""

from django.urls import include, path

handler500 = "whitelabel.brands.errors.server_error"

urlpatterns = [
    path("", include("whitelabel.portals.urls_public")),
    path("", include("config.urls_tenant")),
]
