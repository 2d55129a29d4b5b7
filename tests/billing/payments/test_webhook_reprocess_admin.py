"""dj-stripe's webhook deliveries in the ops admin: a delivery whose processing failed (Stripe unreachable while
dj-stripe re-fetched its object) is processed again by the "reprocess" action, and settles once."""

import pytest
from djstripe.models import WebhookEventTrigger

from billing.models import Invoice, StripeSettlement
from billing.payments.services import invoice_charge
from devtools.stripe_fake import CARD_AUTHENTICATION, webhook_post
from tests.support.clock import NOW
from tests.support.factories import OpsUserFactory
from tests.support.payments import card_on_file, stripe_invoice

URL = "/admin/djstripe/webhookeventtrigger/"


@pytest.fixture(autouse=True)
def own_series(settings):
    settings.BILLING_INVOICE_SERIES, settings.BILLING_CREDIT_NOTE_SERIES = "ZP", "ZQ"


@pytest.fixture
def failed_delivery(stripe, tenant_alpha, webhook_endpoint, public_client):
    """payment_intent.succeeded delivered while Stripe would not answer dj-stripe's re-fetch: the delivery failed."""
    card_on_file(stripe, tenant_alpha, CARD_AUTHENTICATION)
    payment = invoice_charge(invoice=stripe_invoice(tenant_alpha), attempt=1, now=NOW)
    stripe.payment_intent_authenticate(payment.payment_intent_id)
    event = stripe.event("payment_intent.succeeded", payment.payment_intent_id)
    stripe.fail_next(status=500, path=f"/v1/payment_intents/{payment.payment_intent_id}")
    public_client.raise_request_exception = False
    response = webhook_post(public_client, webhook_endpoint, event)
    public_client.raise_request_exception = True
    assert response.status_code == 500
    return payment


def test_a_failed_delivery_processed_again_settles_the_invoice(failed_delivery, public_client):
    public_client.force_login(OpsUserFactory())
    trigger = WebhookEventTrigger.objects.get()
    assert Invoice.objects.get(pk=failed_delivery.invoice_id).status == Invoice.Status.OPEN

    response = public_client.post(URL, {"action": "reprocess", "_selected_action": [trigger.pk]})

    assert response.status_code == 302
    assert Invoice.objects.get(pk=failed_delivery.invoice_id).status == Invoice.Status.PAID
    assert StripeSettlement.objects.filter(stripe_id=failed_delivery.payment_intent_id).count() == 1
    assert WebhookEventTrigger.objects.get().processed
