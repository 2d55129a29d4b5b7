"""URLs of the public host (BASE_DOMAIN): the marketing site, signup, the ops admin with its sign-in, and the
endpoint Stripe posts its webhooks to (dj-stripe's, /stripe/webhook/<uuid>/: stripe_webhook_setup prints it).

/healthz is answered by config.health.HealthCheckMiddleware before routing."""

from django.contrib import admin
from django.urls import include, path

from accounts.ops_admin import ops_admin_login
from tenants import views_public

# The 500 page with the request's Content-Security-Policy nonce for its <style> (without a brand on this host).
handler500 = "whitelabel.brands.errors.server_error"

urlpatterns = [
    path("", views_public.landing, name="landing"),
    path("pricing/", views_public.pricing, name="pricing"),
    path("signup/", views_public.signup, name="signup"),
    path("signup/check-slug/", views_public.signup_slug_check, name="signup_slug_check"),
    # Ops sign in (throttled, with TOTP) and set up TOTP through allauth, as tenant staff do on their hosts.
    path("accounts/", include("allauth.urls")),
    # The affiliate program: applications, the affiliate's pages, and "dashboard", where allauth lands a sign-in
    # without `next` (LOGIN_REDIRECT_URL): an affiliate's portal, or the admin for ops.
    path("", include("affiliates.urls_public")),
    # Before the admin's own URLs, so that its password-only login form is never served (accounts/ops_admin.py).
    path("admin/login/", ops_admin_login, name="ops_admin_login"),
    path("admin/", admin.site.urls),
    path("stripe/", include("djstripe.urls", namespace="djstripe")),
]
