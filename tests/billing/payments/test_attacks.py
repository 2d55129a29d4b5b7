"""The payment rail read adversarially: each test plays someone who wants an invoice marked paid without paying
it in full, or a settlement twice, and is named for the attack it stops."""

import time
from decimal import Decimal

import pytest
from djstripe.models import Event

from billing.invoicing.services import invoice_mark_paid
from billing.models import Invoice, Payment, StripeSettlement
from billing.payments import stripe_api
from billing.payments.errors import CardDeclined
from billing.payments.services import card_setup_checkout_create
from config.money import Money
from tests.support.clock import NOW
from tests.support.payments import card_on_file, stripe_invoice
from devtools.stripe_fake import CARD_DECLINED, webhook_post

Kind = StripeSettlement.Kind


@pytest.fixture(autouse=True)
def own_series(settings):
    settings.BILLING_INVOICE_SERIES, settings.BILLING_CREDIT_NOTE_SERIES = "ZA", "ZB"


@pytest.fixture
def deliver(public_client, webhook_endpoint):
    def post(event, *, expect=200, **signing):
        response = webhook_post(public_client, webhook_endpoint, event, **signing)
        assert response.status_code == expect, response.content
        return response
    return post


def paid_on_stripe(stripe, payer, invoice, *, amount: Money | None = None, last4: str | None = None,
                   **metadata: str):
    """`payer`'s card charged on Stripe's side with metadata naming `invoice` (overridable)."""
    card = card_on_file(stripe, payer, *([last4] if last4 else []))
    params = {"tenant_id": str(invoice.tenant_id), "tenant_slug": invoice.tenant.slug, "invoice_id": str(invoice.pk),
              "invoice_number": invoice.number, "attempt": "1", "source": "off_session", **metadata}
    try:
        return stripe_api.payment_intent_charge_off_session(
            customer_id=card["customer"], payment_method_id=card["id"], description="x", metadata=params,
            amount=amount or Money(invoice.amount_due, invoice.currency), idempotency_key=f"attack-{invoice.pk}")
    except CardDeclined as declined:
        return declined.payment_intent


def test_paying_another_tenants_invoice_with_ones_own_card_does_not_settle_it(stripe, tenant_alpha, tenant_beta,
                                                                              deliver):
    beta_invoice = stripe_invoice(tenant_beta)
    intent = paid_on_stripe(stripe, tenant_alpha, beta_invoice)

    deliver(stripe.event("payment_intent.succeeded", intent.id))

    beta_invoice.refresh_from_db()
    assert beta_invoice.status == Invoice.Status.OPEN
    assert not Payment.objects.filter(invoice=beta_invoice).exists()
    unmatched = StripeSettlement.objects.get(kind=Kind.PAYMENT_UNMATCHED, stripe_id=intent.id)
    assert (unmatched.tenant_id, unmatched.detail["reason"]) == (tenant_alpha.pk, "tenant_mismatch")


def test_metadata_claiming_ones_own_tenant_on_another_tenants_invoice_does_not_settle_it(stripe, tenant_alpha,
                                                                                        tenant_beta, deliver):
    beta_invoice = stripe_invoice(tenant_beta)
    intent = paid_on_stripe(stripe, tenant_alpha, beta_invoice, tenant_id=str(tenant_alpha.pk))

    deliver(stripe.event("payment_intent.succeeded", intent.id))

    beta_invoice.refresh_from_db()
    assert beta_invoice.status == Invoice.Status.OPEN


def test_a_payment_for_less_than_the_amount_due_does_not_mark_the_invoice_paid(stripe, tenant_alpha, deliver):
    invoice = stripe_invoice(tenant_alpha, "25.00")
    intent = paid_on_stripe(stripe, tenant_alpha, invoice, amount=Money(Decimal("1.00"), "USD"))

    deliver(stripe.event("payment_intent.succeeded", intent.id))

    invoice.refresh_from_db()
    assert (invoice.status, invoice.amount_paid) == (Invoice.Status.OPEN, Decimal("0"))
    unmatched = StripeSettlement.objects.get(kind=Kind.PAYMENT_UNMATCHED, stripe_id=intent.id)
    assert unmatched.detail["reason"] == "amount_short"
    assert unmatched.detail["received"] == {"amount": "1.00", "currency": "USD"}


def test_a_payment_in_another_currency_does_not_mark_the_invoice_paid(stripe, tenant_alpha, deliver):
    invoice = stripe_invoice(tenant_alpha, "25.00")
    intent = paid_on_stripe(stripe, tenant_alpha, invoice, amount=Money(Decimal("25.00"), "JPY"))

    deliver(stripe.event("payment_intent.succeeded", intent.id))

    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.OPEN
    assert StripeSettlement.objects.get(stripe_id=intent.id).detail["reason"] == "currency_mismatch"


def test_an_event_body_claiming_a_success_stripe_never_had_pays_nothing(stripe, tenant_alpha, deliver):
    # Whoever can post a signed body (a leaked secret, a debug override) still cannot make Stripe's object say
    # succeeded: dj-stripe re-fetches it, and we read what Stripe holds.
    invoice = stripe_invoice(tenant_alpha)
    declined = paid_on_stripe(stripe, tenant_alpha, invoice, last4=CARD_DECLINED)
    forged = stripe.get(declined.id)
    forged.update(status="succeeded", amount_received=forged["amount"], last_payment_error=None)

    deliver(stripe.event("payment_intent.succeeded", data_object=forged))

    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.OPEN
    assert Payment.objects.get(payment_intent_id=declined.id).status == Payment.Status.FAILED
    assert not StripeSettlement.objects.filter(kind=Kind.INVOICE_PAID).exists()


def test_a_replayed_success_event_settles_the_invoice_once(stripe, tenant_alpha, deliver):
    invoice = stripe_invoice(tenant_alpha)
    intent = paid_on_stripe(stripe, tenant_alpha, invoice)
    event = stripe.event("payment_intent.succeeded", intent.id)

    deliver(event)
    deliver(event)  # the same event, freshly signed: dj-stripe has it already

    assert StripeSettlement.objects.filter(stripe_id=intent.id).count() == 1
    assert Event.objects.filter(id=event["id"]).count() == 1


def test_a_captured_delivery_replayed_after_the_signature_tolerance_is_refused(stripe, tenant_alpha, deliver):
    invoice = stripe_invoice(tenant_alpha)
    intent = paid_on_stripe(stripe, tenant_alpha, invoice)

    deliver(stripe.event("payment_intent.succeeded", intent.id), timestamp=int(time.time()) - 3600, expect=400)

    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.OPEN


def test_a_second_payment_of_a_paid_invoice_is_held_for_ops_not_counted_twice(stripe, tenant_alpha, deliver):
    invoice = stripe_invoice(tenant_alpha, "25.00")
    intent = paid_on_stripe(stripe, tenant_alpha, invoice)
    invoice_mark_paid(invoice=invoice, actor="ops@tollgate.test", now=NOW)

    deliver(stripe.event("payment_intent.succeeded", intent.id))

    invoice.refresh_from_db()
    assert invoice.amount_paid == Decimal("25.00")
    assert StripeSettlement.objects.get(stripe_id=intent.id).detail["reason"] == "invoice_paid"


def test_a_card_setup_claiming_another_tenant_does_not_change_either_default(stripe, tenant_alpha, tenant_beta,
                                                                              deliver):
    session = card_setup_checkout_create(tenant=tenant_beta, success_url="http://beta.localhost/",
                                         cancel_url="http://beta.localhost/")
    stripe.update(session.id, metadata={"tenant_id": str(tenant_alpha.pk), "purpose": "card_setup"})
    completed = stripe.checkout_complete(session.id)

    deliver(stripe.event("checkout.session.completed", completed["id"]))

    assert stripe.get(completed["customer"])["invoice_settings"]["default_payment_method"] is None
    assert not StripeSettlement.objects.exists()


def test_a_payment_naming_an_invoice_that_does_not_exist_settles_nothing(stripe, tenant_alpha, deliver):
    invoice = stripe_invoice(tenant_alpha)
    intent = paid_on_stripe(stripe, tenant_alpha, invoice, invoice_id="987654321")

    deliver(stripe.event("payment_intent.succeeded", intent.id))

    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.OPEN
    assert not Payment.objects.exists()
    assert StripeSettlement.objects.get(stripe_id=intent.id).detail["reason"] == "invoice_unknown"
