"""Beat jobs of billing: thin wrappers over services."""

from dataclasses import asdict

from celery import shared_task
from django.utils import timezone

from billing.invoicing.run import billing_run


@shared_task(name="billing.billing_run")
def billing_run_task() -> dict:
    return asdict(billing_run(now=timezone.now()))
