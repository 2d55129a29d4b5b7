"""The Domains page on tenant hosts (included by config/urls_tenant.py)."""

from django.urls import path

from whitelabel.domains import views

urlpatterns = [
    path("settings/domains/", views.domains_page, name="section_domains"),
    path("settings/domains/<int:domain_id>/check/", views.domain_check_now, name="domain_check_now"),
    path("settings/domains/<int:domain_id>/remove/", views.domain_remove_confirm, name="domain_remove"),
]
