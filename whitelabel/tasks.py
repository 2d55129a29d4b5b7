"""Beat jobs of white-label: thin wrappers over services."""

from dataclasses import asdict

from celery import shared_task
from django.utils import timezone

from whitelabel.domains.services import custom_domains_recheck
from whitelabel.email.tasks import sender_domains_recheck_task  # noqa: F401  (whitelabel.sender_domains_recheck)
from whitelabel.resellers.tasks import reseller_invoices_catch_up_task  # noqa: F401  (its beat job)


@shared_task(name="whitelabel.custom_domains_recheck")
def custom_domains_recheck_task() -> dict:
    return asdict(custom_domains_recheck(now=timezone.now()))
