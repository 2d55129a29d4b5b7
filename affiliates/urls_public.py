"""The affiliate program's pages on the public host, included at the root of config/urls_public.py."""

from django.urls import include, path, re_path

from affiliates import views_public

urlpatterns = [
    re_path(r"^r/(?P<code>[^/]+)/?$", views_public.referral_link, name="referral_link"),
    path("affiliates/apply/", views_public.application_apply, name="affiliate_apply"),
    path("affiliates/apply/done/", views_public.application_done, name="affiliate_apply_done"),
    path("affiliates/account/", views_public.affiliate_account, name="affiliate_account"),
    path("dashboard/", views_public.dashboard, name="dashboard"),
    path("affiliates/portal/", include("affiliates.portal.urls")),
]
