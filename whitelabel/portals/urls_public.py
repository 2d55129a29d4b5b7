"""A reseller's public pages on its own custom domain (config/urls_portal.py includes them)."""

from django.urls import path

from whitelabel.portals import views

urlpatterns = [
    path("", views.portal_landing, name="portal_landing"),
    path("pricing/", views.portal_pricing, name="portal_pricing"),
    path("signup/", views.portal_signup, name="portal_signup"),
]
