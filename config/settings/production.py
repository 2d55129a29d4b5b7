"""Production: base plus HTTPS hardening. Every value that differs per deployment comes from the environment."""

from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_str

from .base import *  # noqa: F403

DEBUG = False
if not SECRET_KEY or len(SECRET_KEY) < 50:  # noqa: F405
    raise ImproperlyConfigured("SECRET_KEY must be set to a random string of at least 50 characters in production.")

# Ops accounts can adjust wallets, mark purchases paid and suspend tenants: a password alone is not enough.
OPS_REQUIRE_MFA = env_bool("OPS_REQUIRE_MFA", True)

SITE_SCHEME = "https"
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https"
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
# /healthz is probed by load balancers over plain HTTP inside the network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = int(env_str("SECURE_HSTS_SECONDS", "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
