"""URLs of a tenant's host (<slug>.BASE_DOMAIN): staff pages and allauth. No admin here: it is 404."""

from django.urls import include, path

from tenants import views_staff


urlpatterns = [
    path("", views_staff.dashboard, name="dashboard"),
    path("login/link/<str:token>/", views_staff.login_link_consume, name="login_link_consume"),
    path("accounts/", include("allauth.urls")),
    path("api/", include("config.urls_api")),
] + [
    path(f"{section}/", views_staff.section_upcoming, {"section": section}, name=f"section_{section.replace('-', '_')}")
    for section in views_staff.UPCOMING_SECTIONS
]
