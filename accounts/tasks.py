"""Tasks that run inside one tenant's schema (tenant-schemas-celery switches to the caller's schema)."""

from celery import shared_task
from django.contrib.sessions.models import Session
from django.db import connection
from django.utils import timezone


@shared_task(name="accounts.expired_sessions_clear")
def expired_sessions_clear() -> dict:
    """Delete expired sessions in the current schema. Each tenant schema has its own session table."""
    deleted, _ = Session.objects.filter(expire_date__lt=timezone.now()).delete()
    return {"schema": connection.schema_name, "deleted": deleted}
