"""Celery task of auto-recharge: a thin wrapper over its service."""

from celery import shared_task
from django.utils import timezone

from billing.auto_recharge.services import auto_recharge_start


@shared_task(name="billing.auto_recharge_start")
def auto_recharge_start_task(*, tenant_id: int) -> bool:
    """Start a recharge if the tenant's balance is still below its threshold and none is in flight."""
    return auto_recharge_start(tenant_id=tenant_id, now=timezone.now()) is not None
