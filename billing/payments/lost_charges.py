"""The safety net under invoice charging: a charge asked for but never run is asked for again, same attempt.

A finalised invoice collected by Stripe is charged by billing.invoice_charge (attempt 1, enqueued once the invoice
is committed), and each dunning retry by the same task with the case's next attempt. The task is acknowledged
late, so a worker killed mid-charge gives its message back; what can still vanish is a message the broker itself
lost (a Redis restarted without its data, a queue purged by hand). Without this job such an invoice would sit
open with nothing charging it: no failure, so dunning never starts, and a dunning retry lost on its last day
would let the case end the invoice uncollectible without the retry ever being made.

The attempt an invoice waits for is attempt 1 while it has no dunning case, and the case's last attempt while the
case is active (an ended case asks for nothing: ops closed it, or it was settled). It counts as lost once it was
asked for (the invoice issued, the retry enqueued) BILLING_CHARGE_LOST_AFTER_MINUTES ago and no Payment records
it. Asking again is safe however often it happens: the attempt's Idempotency-Key reaches Stripe's one
PaymentIntent, and an attempt recorded meanwhile is returned as it is."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Exists, OuterRef, Q

from billing.models import DunningCase, Invoice, Payment
from billing.payments.services import STRIPE_COLLECTION
from billing.payments.stripe_api import stripe_enabled
from billing.payments.tasks import invoice_charge_task

logger = logging.getLogger(__name__)

FIRST_ATTEMPT = 1


@dataclass(frozen=True)
class LostCharge:
    invoice_id: int
    attempt: int


def invoice_charges_lost(*, asked_before: datetime) -> list[LostCharge]:
    """Open Stripe-collected invoices whose current attempt was asked for before `asked_before` and has no
    Payment: first charges (no dunning case) by the invoice's issue time, dunning retries by when the case asked
    (its start for a case that predates that record). Two indexed anti-joins; in invoice order."""
    first = (Invoice.objects
             .filter(status=Invoice.Status.OPEN, collection_method=STRIPE_COLLECTION, issued_at__lt=asked_before)
             .filter(~Exists(DunningCase.objects.filter(invoice_id=OuterRef("pk"))),
                     ~Exists(Payment.objects.filter(invoice_id=OuterRef("pk"), attempt=FIRST_ATTEMPT)))
             .values_list("pk", flat=True))
    retries = (DunningCase.objects
               .filter(status=DunningCase.Status.ACTIVE, last_attempt__gte=FIRST_ATTEMPT,
                       invoice__status=Invoice.Status.OPEN, invoice__collection_method=STRIPE_COLLECTION)
               .filter(Q(last_attempt_asked_at__lt=asked_before)
                       | Q(last_attempt_asked_at__isnull=True, started_at__lt=asked_before))
               .filter(~Exists(Payment.objects.filter(invoice_id=OuterRef("invoice_id"),
                                                      attempt=OuterRef("last_attempt"))))
               .values_list("invoice_id", "last_attempt"))
    lost = [LostCharge(invoice_id, FIRST_ATTEMPT) for invoice_id in first]
    lost += [LostCharge(invoice_id, attempt) for invoice_id, attempt in retries]
    return sorted(lost, key=lambda charge: charge.invoice_id)


def invoice_charges_lost_requeue(*, now: datetime) -> int:
    """The beat job: enqueue again, with the same attempt, every charge lost on its way (invoice_charges_lost
    with BILLING_CHARGE_LOST_AFTER_MINUTES); return how many. Nothing without Stripe.

    The re-enqueued task gives up while Stripe is unreachable instead of retrying on its own: this job asks again
    on its next run, so an outage costs one short task per lost charge and run, not a growing pile of retries."""
    if not stripe_enabled():
        return 0
    lost = invoice_charges_lost(asked_before=now - timedelta(minutes=settings.BILLING_CHARGE_LOST_AFTER_MINUTES))
    for charge in lost:
        logger.warning("invoice_charge_lost invoice=%s attempt=%s", charge.invoice_id, charge.attempt)
        invoice_charge_task.delay(invoice_id=charge.invoice_id, attempt=charge.attempt,
                                  retry_while_unavailable=False)
    logger.info("invoice_charges_lost_requeue now=%s requeued=%s", now.isoformat(), len(lost))
    return len(lost)
