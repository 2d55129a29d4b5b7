"""pytest: real PostgreSQL and Redis, fast hashing, eager Celery unless a test asks for a worker."""

import os
import uuid

from config.env import env_bool

from .base import *  # noqa: F403

# Each test process gets its own cache namespace, so rate-limit counters, quota counters, the API-call buffer
# and the lookup generation (config.redis_guard.redis_key) never leak between runs or workers. (Server processes
# a test starts share the test's namespace through TEST_CACHE_KEY_PREFIX.)
CACHES["default"]["KEY_PREFIX"] = os.environ.get(  # noqa: F405
    "TEST_CACHE_KEY_PREFIX", f"test-{os.getpid()}-{uuid.uuid4().hex[:6]}"
)

DEBUG = False
SECRET_KEY = "test-only-insecure-key"
SITE_SCHEME = "http"
SITE_PORT = ""
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "http"
ALLOWED_HOSTS = ["*"]  # as in base: tenant routing is the allow-list (custom domains are not under localhost)
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
LOGGING["root"]["level"] = "WARNING"  # noqa: F405
# Static files come from the app and project folders (no collectstatic in tests).
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True
# The standard tenants serve hundreds of API requests a minute across the suite; tests of the limits turn
# them on for themselves.
RATE_LIMITS_ENABLED = env_bool("RATE_LIMITS_ENABLED", False)
