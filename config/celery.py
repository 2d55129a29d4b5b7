"""The Celery app. tenant-schemas-celery's CeleryApp carries the caller's schema in each task's headers,
so a task enqueued in a tenant's context runs in that tenant's schema (plain Celery would run it in public)."""

import os

from tenant_schemas_celery.app import CeleryApp

os.environ.setdefault("DJANGO_SETTINGS_MODULE", f"config.settings.{os.environ.get('DJANGO_ENV', 'local')}")

app = CeleryApp("tollgate")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
