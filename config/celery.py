"""The Celery app. tenant-schemas-celery's CeleryApp carries the caller's schema in each task's headers,
so a task enqueued in a tenant's context runs in that tenant's schema (plain Celery would run it in public)."""

from tenant_schemas_celery.app import CeleryApp

from config.env import settings_module_choose

# Production unless told otherwise, like wsgi and asgi: this module is imported first whenever the `config`
# package is, so its default is every server process's default. `./dev up` sets DJANGO_ENV=local.
settings_module_choose(default_env="production")

app = CeleryApp("tollgate")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
