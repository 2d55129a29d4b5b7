"""Neither the Stripe secret key nor the webhook signing secret reaches a log record, whatever the level."""

import logging

import pytest

from billing.payments.services import invoice_charge
from tests.support.clock import NOW
from tests.support.payments import card_on_file, stripe_invoice
from devtools.stripe_fake import CARD_DECLINED, TEST_SECRET_KEY, WEBHOOK_SECRET, webhook_post


@pytest.fixture(autouse=True)
def own_series(settings):
    settings.BILLING_INVOICE_SERIES, settings.BILLING_CREDIT_NOTE_SERIES = "ZL", "ZM"


def test_no_stripe_secret_reaches_a_log_record(stripe, tenant_alpha, tenant_beta, public_client, webhook_endpoint,
                                                caplog):
    caplog.set_level(logging.DEBUG)
    card_on_file(stripe, tenant_alpha)
    paid = invoice_charge(invoice=stripe_invoice(tenant_alpha), attempt=1, now=NOW)
    card_on_file(stripe, tenant_beta, CARD_DECLINED)
    invoice_charge(invoice=stripe_invoice(tenant_beta), attempt=1, now=NOW)
    webhook_post(public_client, webhook_endpoint, stripe.event("payment_intent.succeeded", paid.payment_intent_id))
    customer_id = stripe.get(paid.payment_intent_id)["customer"]
    webhook_post(public_client, webhook_endpoint, stripe.event("customer.updated", customer_id),
                 secret="whsec_wrong")  # refused, and logged as such

    text = "\n".join([record.getMessage() for record in caplog.records]
                     + [repr(vars(record)) for record in caplog.records])
    assert caplog.records
    assert TEST_SECRET_KEY not in text
    assert TEST_SECRET_KEY[-12:] not in text
    assert WEBHOOK_SECRET not in text
