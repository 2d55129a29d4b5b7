"""The Reseller portal settings page in an agency's workspace (included by config/urls_tenant.py)."""

from django.urls import path

from whitelabel.portals import views

urlpatterns = [
    path("settings/portal/", views.portal_settings_page, name="section_portal"),
    path("settings/portal/domains/<int:domain_id>/check/", views.portal_wildcard_check_submit,
         name="portal_wildcard_check"),
]
