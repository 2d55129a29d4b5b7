"""Beat job of reseller billing (imported by whitelabel.tasks, which Celery's autodiscovery finds)."""

from celery import shared_task
from django.utils import timezone

from whitelabel.resellers.services import reseller_invoices_catch_up


@shared_task(name="whitelabel.reseller_invoices_catch_up")
def reseller_invoices_catch_up_task() -> int:
    return len(reseller_invoices_catch_up(now=timezone.now()))
