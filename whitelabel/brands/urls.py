"""The Branding page on tenant hosts (included by config/urls_tenant.py)."""

from django.urls import path

from whitelabel.brands import views

urlpatterns = [
    path("settings/branding/", views.branding_page, name="section_branding"),
    path("settings/branding/preview/", views.branding_preview, name="branding_preview"),
]
