"""`./dev up`: the embedded databases, debug pages, links on http://<slug>.localhost:8000."""

from config.env import env_str

from .base import *  # noqa: F403

DEBUG = True
SECRET_KEY = SECRET_KEY or "local-only-insecure-key-do-not-deploy"  # noqa: F405
SITE_SCHEME = env_str("SITE_SCHEME", "http")
SITE_PORT = env_str("SITE_PORT", "8000")
ACCOUNT_DEFAULT_HTTP_PROTOCOL = SITE_SCHEME
ALLOWED_HOSTS = ALLOWED_HOSTS + ["127.0.0.1"]  # noqa: F405
# Serve static files straight from the source folders while developing.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
