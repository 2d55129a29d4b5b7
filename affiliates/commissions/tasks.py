"""Beat jobs of the commission engine: thin wrappers over services (migration 0003 schedules them)."""

from celery import shared_task
from django.utils import timezone

from affiliates.commissions.services import commissions_approve_due, commissions_sweep


@shared_task(name="affiliates.commissions_approve_due")
def commissions_approve_due_task() -> int:
    return commissions_approve_due(now=timezone.now())


@shared_task(name="affiliates.commissions_sweep")
def commissions_sweep_task() -> int:
    return len(commissions_sweep(now=timezone.now()).created)
