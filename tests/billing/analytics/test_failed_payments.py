"""Failed payments as the dashboard counts them: a declined card attempt makes its invoice a failed payment on
the day of the first failure, once however many retries dunning makes, and recovered when it is paid in the end."""

from datetime import timedelta
from decimal import Decimal

import pytest

from billing.analytics.selectors import failed_payments, failed_payments_recovered
from billing.models import Invoice, Payment
from tests.support.billing import invoice_pay
from tests.support.clock import NOW
from tests.support.payments import stripe_invoice

pytestmark = pytest.mark.django_db


def attempt_failed(invoice: Invoice, *, attempt: int, days_after: int,
                   status: str = Payment.Status.FAILED) -> Payment:
    return Payment.objects.create(tenant_id=invoice.tenant_id, invoice=invoice, attempt=attempt,
                                  payment_intent_id=f"pi_failed_{invoice.pk}_{attempt}", amount=invoice.amount_due,
                                  currency=invoice.currency, status=status, failure_code="card_declined",
                                  created_at=NOW + timedelta(days=days_after),
                                  settled_at=NOW + timedelta(days=days_after))


def test_a_declined_card_attempt_is_a_failed_payment_on_the_day_of_the_first_failure(tenant_alpha):
    invoice = stripe_invoice(tenant_alpha, "25.00")
    attempt_failed(invoice, attempt=1, days_after=1)
    attempt_failed(invoice, attempt=2, days_after=2)

    failed = list(failed_payments(until=NOW + timedelta(days=3)))

    assert [(row.pk, row.failed_day, row.amount_due) for row in failed] == [
        (invoice.pk, (NOW + timedelta(days=1)).date(), Decimal("25.00"))]


def test_a_card_payment_that_needs_the_cardholder_counts_as_failed(tenant_alpha):
    invoice = stripe_invoice(tenant_alpha, "25.00")
    attempt_failed(invoice, attempt=1, days_after=1, status=Payment.Status.REQUIRES_ACTION)

    assert list(failed_payments(until=NOW + timedelta(days=2))) == [invoice]


def test_a_failure_after_the_cut_off_is_not_counted_yet(tenant_alpha):
    invoice = stripe_invoice(tenant_alpha, "25.00")
    attempt_failed(invoice, attempt=1, days_after=3)

    assert list(failed_payments(until=NOW + timedelta(days=2))) == []


def test_an_invoice_a_dunning_retry_paid_is_recovered(tenant_alpha):
    invoice = stripe_invoice(tenant_alpha, "25.00")
    attempt_failed(invoice, attempt=1, days_after=1)
    invoice_pay(invoice, at=NOW + timedelta(days=2))
    until = NOW + timedelta(days=3)

    assert list(failed_payments_recovered(failed_payments(until=until), until=until)) == [invoice]


def test_a_card_invoice_paid_at_the_first_attempt_is_not_a_failed_payment(tenant_alpha):
    invoice = stripe_invoice(tenant_alpha, "25.00")
    invoice_pay(invoice, at=NOW + timedelta(minutes=1))

    assert list(failed_payments(until=NOW + timedelta(days=30))) == []
