"""URLs of the public host (BASE_DOMAIN): the marketing site, signup and the ops admin.

/healthz is answered by config.health.HealthCheckMiddleware before routing."""

from django.contrib import admin
from django.urls import path

from tenants import views_public

urlpatterns = [
    path("", views_public.landing, name="landing"),
    path("pricing/", views_public.pricing, name="pricing"),
    path("signup/", views_public.signup, name="signup"),
    path("signup/check-slug/", views_public.signup_slug_check, name="signup_slug_check"),
    path("admin/", admin.site.urls),
]
