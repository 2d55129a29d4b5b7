"""Beat job of payouts: a thin wrapper over the service (migration 0003 schedules it monthly)."""

from celery import shared_task
from django.utils import timezone

from affiliates.payouts.services import payout_period_end, payouts_create


@shared_task(name="affiliates.payouts_monthly")
def payouts_monthly_task() -> int:
    now = timezone.now()
    return len(payouts_create(period_end=payout_period_end(now=now), now=now).created)
