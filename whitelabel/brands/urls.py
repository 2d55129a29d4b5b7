"""The Branding page on tenant hosts (included by config/urls_tenant.py)."""

from django.urls import path

from whitelabel.brands import views
from whitelabel.email import views as email_views

urlpatterns = [
    path("branding/brand.css", views.brand_stylesheet_file, name="brand_stylesheet"),
    path("settings/branding/", views.branding_page, name="section_branding"),
    path("settings/branding/preview/", views.branding_preview, name="branding_preview"),
    path("settings/branding/sender-domain/", email_views.sender_domain_save, name="sender_domain_save"),
    path("settings/branding/sender-domain/check/", email_views.sender_domain_check_now, name="sender_domain_check"),
    path("settings/branding/sender-domain/remove/", email_views.sender_domain_delete, name="sender_domain_remove"),
]
