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


# Acknowledged once it has run, not when a worker takes it: a worker killed mid-charge (SIGKILL, OOM, a host lost)
# leaves the message to come back (at once when only the pool process died, after the broker's visibility timeout
# when the whole worker did) instead of losing the charge. Running it again is safe: an attempt already recorded
# is returned as it is, and one Stripe charged but we never recorded reaches the same PaymentIntent through the
# attempt's Idempotency-Key. What even a redelivery cannot bring back (a message lost with the broker) the beat job
# billing.invoice_charges_lost_requeue enqueues again.
@shared_task(name="billing.invoice_charge", bind=True, max_retries=8, acks_late=True, reject_on_worker_lost=True)
def invoice_charge_task(self, *, invoice_id: int, attempt: int, retry_while_unavailable: bool = True) -> str:
    """Charge attempt `attempt` of an invoice. Retried with the same attempt while Stripe is unreachable: the
    attempt's Idempotency-Key makes every retry reach the one PaymentIntent. `retry_while_unavailable=False`
    (the lost-charge job's re-enqueues, which that job itself repeats) gives up instead, so an outage does not
    pile up one retrying chain per job run."""
    invoice = Invoice.objects.get(pk=invoice_id)
    try:
        return invoice_charge(invoice=invoice, attempt=attempt, now=timezone.now()).status
    except PaymentProviderUnavailable as error:
        if not retry_while_unavailable:
            logger.warning("invoice_charge_unavailable invoice=%s attempt=%s", invoice_id, attempt)
            return "unavailable"
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
