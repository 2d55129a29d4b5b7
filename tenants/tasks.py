"""Periodic jobs over all tenants. Each fans out one task per tenant, enqueued in that tenant's context."""

from celery import shared_task
from django_tenants.utils import tenant_context

from accounts.tasks import expired_sessions_clear
from tenants.models import Tenant
from tenants.services import idempotency_records_expire


@shared_task(name="tenants.expired_sessions_clear_all")
def expired_sessions_clear_all() -> int:
    """Clear expired sessions in the public schema now, and in every open tenant's schema via its own task."""
    expired_sessions_clear()
    tenants = Tenant.objects.customers().exclude(status=Tenant.Status.CLOSED)
    count = 0
    for tenant in tenants.iterator():
        with tenant_context(tenant):
            expired_sessions_clear.delay()
        count += 1
    return count


@shared_task(name="tenants.idempotency_records_expire")
def idempotency_records_expire_task() -> int:
    return idempotency_records_expire()
