"""Agency pages on tenant hosts (included by config/urls_tenant.py)."""

from django.urls import path

from affiliates.agencies import views

urlpatterns = [
    path("clients/", views.clients_page, name="agency_clients"),
    path("clients/<slug:slug>/open/", views.client_open, name="agency_client_open"),
    path("clients/<slug:slug>/invitation/", views.client_owner_invitation_resend_submit,
         name="agency_client_invitation_resend"),
    path("settings/agency-access/", views.agency_access_page, name="agency_access"),
    path("settings/agency-access/revoke/", views.agency_access_revoke_submit, name="agency_access_revoke"),
    path("agency/handoff/<str:token>/", views.handoff_consume_view, name="agency_handoff"),
]
