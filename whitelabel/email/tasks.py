"""The daily beat job that re-checks every brand's sender domain (registered by whitelabel 0002; imported by
whitelabel.tasks, which Celery discovers)."""

from dataclasses import asdict

from celery import shared_task
from django.utils import timezone

from whitelabel.email.services import sender_domains_recheck


@shared_task(name="whitelabel.sender_domains_recheck")
def sender_domains_recheck_task() -> dict:
    return asdict(sender_domains_recheck(now=timezone.now()))
