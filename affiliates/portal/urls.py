"""The affiliate portal's routes, included by affiliates/urls_public.py on the public host."""

from django.urls import path

from affiliates.portal import views

urlpatterns = [
    path("", views.portal_overview, name="affiliate_portal"),
    path("commissions/", views.portal_commissions, name="affiliate_portal_commissions"),
    path("payouts/", views.portal_payouts, name="affiliate_portal_payouts"),
]
