"""URLs of the public host (BASE_DOMAIN): the marketing site, signup, the ops admin and health."""

from django.contrib import admin
from django.urls import path

from config.health import healthz
from tenants import views_public

urlpatterns = [
    path("", views_public.landing, name="landing"),
    path("pricing/", views_public.pricing, name="pricing"),
    path("signup/", views_public.signup, name="signup"),
    path("signup/check-slug/", views_public.signup_slug_check, name="signup_slug_check"),
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
]
