"""Typed readers for environment variables; the only place settings touch os.environ. Also the choice of settings
every entry point (manage.py, wsgi, asgi, Celery) makes before Django starts."""

import os

from django.core.exceptions import ImproperlyConfigured

ENVIRONMENTS = ("local", "test", "production")
# Only these may run on the committed development keys; anything else needs a real SECRET_KEY.
DEVELOPMENT_SETTINGS = {"config.settings.local", "config.settings.test"}
SECRET_KEY_MIN_LENGTH = 50


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if not raw:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def settings_module_choose(*, default_env: str) -> str:
    """Set DJANGO_SETTINGS_MODULE from DJANGO_ENV (`default_env` when unset) unless it is set already, and stop
    the process when the chosen settings would run without a real SECRET_KEY.

    Called first by every entry point, so a process started without DJANGO_ENV never lands on local settings
    (DEBUG and the committed key) by accident, and a production process without its key refuses to start
    instead of failing later, or not at all (a Celery worker reads its settings lazily). The chosen environment
    is exported as DJANGO_ENV too, so the settings' own defaults (base.LOCAL_DEFAULTS) agree with it.
    """
    if "DJANGO_SETTINGS_MODULE" not in os.environ:
        environment = os.environ.get("DJANGO_ENV") or default_env
        if environment not in ENVIRONMENTS:
            raise ImproperlyConfigured(f"DJANGO_ENV must be one of {', '.join(ENVIRONMENTS)}, not {environment!r}.")
        os.environ["DJANGO_ENV"] = environment
        os.environ["DJANGO_SETTINGS_MODULE"] = f"config.settings.{environment}"
    module = os.environ["DJANGO_SETTINGS_MODULE"]
    if module not in DEVELOPMENT_SETTINGS and len(os.environ.get("SECRET_KEY", "")) < SECRET_KEY_MIN_LENGTH:
        raise ImproperlyConfigured(
            f"SECRET_KEY must be set to a random string of at least {SECRET_KEY_MIN_LENGTH} characters in "
            f"production ({module}). Only DJANGO_ENV=local or test run without one."
        )
    return module
