"""Two deliveries about one payment at once (Stripe retrying while the first is still being processed, or the
success event racing the Checkout event): the invoice row lock and the settlement's unique key make one of them
settle the invoice and the other find it settled."""

import threading
from decimal import Decimal

import pytest
from django.db import connection
from django.test import override_settings
from djstripe.models import Customer

from billing.models import Invoice, Payment, StripeSettlement
from billing.payments import stripe_api
from billing.payments.services import payment_intent_apply
from config.money import Money
from tests.support.clock import NOW
from tests.support.factories import TenantFactory
from tests.support.payments import card_on_file, stripe_invoice


@pytest.fixture(autouse=True)
def own_series(settings):
    settings.BILLING_INVOICE_SERIES, settings.BILLING_CREDIT_NOTE_SERIES = "ZC", "ZE"


def test_two_deliveries_of_one_success_at_the_same_time_settle_the_invoice_once(stripe, committed_db):
    tenant = TenantFactory()
    try:
        card = card_on_file(stripe, tenant)
        with override_settings(STRIPE_SECRET_KEY=""):  # committed at once: no charge task on finalisation
            invoice = stripe_invoice(tenant, "40.00")
        intent = stripe_api.payment_intent_charge_off_session(
            customer_id=card["customer"], payment_method_id=card["id"], amount=Money(Decimal("40.00"), "USD"),
            description="x", idempotency_key="race-1",
            metadata={"tenant_id": str(tenant.pk), "tenant_slug": tenant.slug, "invoice_id": str(invoice.pk),
                      "invoice_number": invoice.number, "attempt": "1", "source": "off_session"})
        barrier = threading.Barrier(2)
        errors = []

        def deliver():
            try:
                barrier.wait(timeout=10)
                payment_intent_apply(intent=intent, now=NOW, event_id="evt_race")
            except Exception as error:  # noqa: BLE001 (reported by the assertion below)
                errors.append(error)
            finally:
                connection.close()

        threads = [threading.Thread(target=deliver) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)

        invoice.refresh_from_db()
        assert errors == []
        assert (invoice.status, invoice.amount_paid) == (Invoice.Status.PAID, Decimal("40.00"))
        assert Payment.objects.filter(invoice=invoice).count() == 1
        assert StripeSettlement.objects.filter(stripe_id=intent.id).count() == 1
    finally:
        Customer.objects.filter(subscriber=tenant).delete()
