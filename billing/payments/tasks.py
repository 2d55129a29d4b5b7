"""Celery tasks of the payment rail: thin wrappers over services."""

import logging

from celery import shared_task
from django.utils import timezone

from billing.errors import InvoiceStateInvalid
from billing.models import Invoice
from billing.payments.card_expiry import card_expiry_scan
from billing.payments.errors import PaymentProviderUnavailable, PaymentsNotConfigured
from billing.payments.refunds import card_refund_request
from billing.payments.services import invoice_charge

logger = logging.getLogger(__name__)


@shared_task(name="billing.invoice_charge", bind=True, max_retries=8)
def invoice_charge_task(self, *, invoice_id: int, attempt: int) -> str:
    """Charge attempt `attempt` of an invoice. Retried with the same attempt while Stripe is unreachable: the
    attempt's Idempotency-Key makes every retry reach the one PaymentIntent."""
    invoice = Invoice.objects.get(pk=invoice_id)
    try:
        return invoice_charge(invoice=invoice, attempt=attempt, now=timezone.now()).status
    except PaymentProviderUnavailable as error:
        raise self.retry(exc=error, countdown=min(30 * 2 ** self.request.retries, 3600)) from error
    except (InvoiceStateInvalid, PaymentsNotConfigured) as error:
        # Paid, voided or moved to manual collection in the meantime, or Stripe turned off: nothing to charge.
        logger.info("invoice_charge_skipped invoice=%s attempt=%s reason=%s", invoice_id, attempt, error.code)
        return "skipped"


@shared_task(name="billing.card_refund_request", bind=True, max_retries=8)
def card_refund_request_task(self, *, card_refund_id: int) -> str:
    """Ask Stripe for a credit note's card refund. Retried while Stripe is unreachable: the credit note's
    Idempotency-Key makes every retry reach the one Refund."""
    try:
        return card_refund_request(card_refund_id=card_refund_id, now=timezone.now()).status
    except PaymentProviderUnavailable as error:
        raise self.retry(exc=error, countdown=min(30 * 2 ** self.request.retries, 3600)) from error


@shared_task(name="billing.card_expiry_scan")
def card_expiry_scan_task() -> int:
    """The 09:00 UTC beat job: tell tenants whose card expires at the end of this month (once per card and month)."""
    return card_expiry_scan(now=timezone.now())
