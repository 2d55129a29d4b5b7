"""Stripe's webhooks through dj-stripe's real endpoint, signed with the endpoint's secret: each settles once,
whether it comes twice, late or out of order; a bad signature changes nothing; unknown types are acknowledged."""

from decimal import Decimal

import pytest
from djstripe.models import Customer, Event, PaymentMethod, WebhookEventTrigger

from billing.models import Invoice, Payment, StripeSettlement
from billing.payments import stripe_api
from billing.payments.errors import CardDeclined
from billing.payments.events import payment_failed, payment_method_changed
from billing.payments.services import (
    card_setup_checkout_create,
    invoice_charge,
    payment_intent_apply,
    stripe_customer_ensure,
)
from config.money import Money, money_to_minor_units
from devtools.stripe_fake import CARD_AUTHENTICATION, CARD_DECLINED, webhook_post
from tests.support.clock import NOW
from tests.support.payments import card_on_file, stripe_invoice

Kind = StripeSettlement.Kind


def usd(amount: str) -> Money:
    return Money(Decimal(amount), "USD")


@pytest.fixture(autouse=True)
def own_series(settings):
    settings.BILLING_INVOICE_SERIES, settings.BILLING_CREDIT_NOTE_SERIES = "ZW", "ZX"


@pytest.fixture
def deliver(public_client, webhook_endpoint):
    """POST an event to the endpoint, signed; the response must be 200 unless the test says otherwise."""
    def post(event, *, expect=200, **signing):
        response = webhook_post(public_client, webhook_endpoint, event, **signing)
        assert response.status_code == expect, response.content
        return response
    return post


@pytest.fixture
def failures():
    seen = []
    payment_failed.connect(lambda sender, payment, **kw: seen.append(payment.pk), dispatch_uid="test-wh-failed",
                           weak=False)
    yield seen
    payment_failed.disconnect(dispatch_uid="test-wh-failed")


def setup_completed(stripe, tenant):
    session = card_setup_checkout_create(tenant=tenant, success_url="http://alpha.localhost/billing/",
                                         cancel_url="http://alpha.localhost/billing/")
    return stripe.checkout_complete(session.id)


# --- Saving a card ------------------------------------------------------------------------------------------------

def test_a_completed_card_setup_makes_the_card_the_customers_default(stripe, tenant_alpha, deliver):
    session = setup_completed(stripe, tenant_alpha)
    card_id = stripe.get(session["setup_intent"])["payment_method"]

    deliver(stripe.event("checkout.session.completed", session["id"]))

    customer = Customer.objects.get(subscriber=tenant_alpha)
    assert stripe.get(customer.id)["invoice_settings"]["default_payment_method"] == card_id
    assert customer.default_payment_method_id == card_id
    assert StripeSettlement.objects.filter(kind=Kind.CARD_SAVED, stripe_id=session["id"]).count() == 1


def test_the_same_card_setup_delivered_twice_saves_the_card_once(stripe, tenant_alpha, deliver):
    session = setup_completed(stripe, tenant_alpha)
    event = stripe.event("checkout.session.completed", session["id"])

    deliver(event)
    deliver(event)

    assert StripeSettlement.objects.filter(kind=Kind.CARD_SAVED).count() == 1
    assert len([r for r in stripe.requests if r.method == "POST" and r.path.startswith("/v1/customers/")]) == 1


def test_two_events_for_one_card_setup_save_it_once(stripe, tenant_alpha, deliver):
    session = setup_completed(stripe, tenant_alpha)

    deliver(stripe.event("checkout.session.completed", session["id"]))
    deliver(stripe.event("checkout.session.completed", session["id"]))

    assert StripeSettlement.objects.filter(kind=Kind.CARD_SAVED).count() == 1


def test_a_card_attached_to_a_customer_without_a_default_becomes_its_default(stripe, tenant_alpha, deliver):
    customer = stripe_customer_ensure(tenant=tenant_alpha)
    card = stripe.card_attach(customer.id, default=False)

    deliver(stripe.event("payment_method.attached", card["id"]))
    deliver(stripe.event("payment_method.attached", card["id"]))

    assert stripe.get(customer.id)["invoice_settings"]["default_payment_method"] == card["id"]
    assert StripeSettlement.objects.filter(kind=Kind.DEFAULT_SET, stripe_id=card["id"]).count() == 1


def test_a_card_attached_next_to_a_default_one_leaves_the_default(stripe, tenant_alpha, deliver):
    default = card_on_file(stripe, tenant_alpha)
    other = stripe.card_attach(default["customer"], default=False)

    deliver(stripe.event("payment_method.attached", other["id"]))

    assert stripe.get(default["customer"])["invoice_settings"]["default_payment_method"] == default["id"]


def test_a_detached_card_is_acknowledged_and_no_longer_the_customers(stripe, tenant_alpha, deliver):
    card = card_on_file(stripe, tenant_alpha)
    stripe.update(card["id"], customer=None)

    deliver(stripe.event("payment_method.detached", card["id"]))

    assert PaymentMethod.objects.get(id=card["id"]).customer is None


def test_a_new_default_card_tells_dunning_once_per_event(stripe, tenant_alpha, deliver,
                                                        django_capture_on_commit_callbacks):
    card = card_on_file(stripe, tenant_alpha)
    told = []
    payment_method_changed.connect(lambda sender, tenant_id, **kw: told.append(tenant_id), weak=False,
                                   dispatch_uid="test-pm-changed")
    event = stripe.event("customer.updated", card["customer"],
                         previous_attributes={"invoice_settings": {"default_payment_method": None}})
    try:
        with django_capture_on_commit_callbacks(execute=True):
            deliver(event)
            deliver(event)
    finally:
        payment_method_changed.disconnect(dispatch_uid="test-pm-changed")

    assert told == [tenant_alpha.pk]


@pytest.mark.parametrize("how", ["checkout_setup", "attached"])
def test_a_new_default_card_tells_dunning_without_waiting_for_customer_updated(stripe, tenant_alpha, deliver, how,
                                                                               django_capture_on_commit_callbacks):
    told = []
    payment_method_changed.connect(lambda sender, tenant_id, **kw: told.append(tenant_id), weak=False,
                                   dispatch_uid="test-pm-new-default")
    if how == "checkout_setup":
        event = stripe.event("checkout.session.completed", setup_completed(stripe, tenant_alpha)["id"])
    else:
        customer = stripe_customer_ensure(tenant=tenant_alpha)
        event = stripe.event("payment_method.attached", stripe.card_attach(customer.id, default=False)["id"])
    try:
        with django_capture_on_commit_callbacks(execute=True):
            deliver(event)
            deliver(event)
    finally:
        payment_method_changed.disconnect(dispatch_uid="test-pm-new-default")

    assert told == [tenant_alpha.pk]


def test_a_customer_update_that_leaves_the_card_tells_nobody(stripe, tenant_alpha, deliver):
    card = card_on_file(stripe, tenant_alpha)
    told = []
    payment_method_changed.connect(lambda sender, tenant_id, **kw: told.append(tenant_id), weak=False,
                                   dispatch_uid="test-pm-unchanged")
    try:
        deliver(stripe.event("customer.updated", card["customer"], previous_attributes={"name": "Old"}))
    finally:
        payment_method_changed.disconnect(dispatch_uid="test-pm-unchanged")

    assert told == []


# --- Payments -----------------------------------------------------------------------------------------------------

def charge_on_stripe_only(stripe, tenant, invoice, *, last4=None, amount=None, metadata=None):
    """A PaymentIntent for the invoice that Stripe made and we never recorded (our process died, or the webhook
    simply comes first), with the metadata invoice_charge gives it."""
    card = card_on_file(stripe, tenant, *([last4] if last4 else []))
    params = {"tenant_id": str(tenant.pk), "tenant_slug": tenant.slug, "invoice_id": str(invoice.pk),
              "invoice_number": invoice.number, "attempt": "1", "source": "off_session", **(metadata or {})}
    try:
        return stripe_api.payment_intent_charge_off_session(
            customer_id=card["customer"], payment_method_id=card["id"], idempotency_key=f"test-{invoice.pk}",
            amount=amount or Money(invoice.amount_due, invoice.currency), description="x", metadata=params)
    except CardDeclined as declined:  # a decline still leaves the intent on Stripe's side
        return declined.payment_intent


def test_a_success_that_arrives_before_we_recorded_the_intent_pays_the_invoice(stripe, tenant_alpha, deliver):
    invoice = stripe_invoice(tenant_alpha)
    intent = charge_on_stripe_only(stripe, tenant_alpha, invoice)

    deliver(stripe.event("payment_intent.succeeded", intent.id))

    invoice.refresh_from_db()
    payment = Payment.objects.get(payment_intent_id=intent.id)
    assert (invoice.status, payment.attempt, payment.status) == (Invoice.Status.PAID, 1, Payment.Status.SUCCEEDED)


def test_the_charge_answered_after_its_webhook_settles_nothing_twice(stripe, tenant_alpha, deliver):
    invoice = stripe_invoice(tenant_alpha)
    intent = charge_on_stripe_only(stripe, tenant_alpha, invoice)
    deliver(stripe.event("payment_intent.succeeded", intent.id))

    # The task that made the intent now records Stripe's answer: same attempt, same key in real life.
    payment_intent_apply(intent=stripe_api.payment_intent_retrieve(intent.id), now=NOW)

    assert StripeSettlement.objects.filter(kind=Kind.INVOICE_PAID).count() == 1
    assert Payment.objects.filter(invoice=invoice).count() == 1


def test_a_success_delivered_twice_pays_once(stripe, tenant_alpha, deliver, django_capture_on_commit_callbacks):
    card_on_file(stripe, tenant_alpha)
    invoice = stripe_invoice(tenant_alpha)
    payment = invoice_charge(invoice=invoice, attempt=1, now=NOW)
    event = stripe.event("payment_intent.succeeded", payment.payment_intent_id)

    deliver(event)
    deliver(stripe.event("payment_intent.succeeded", payment.payment_intent_id))

    assert StripeSettlement.objects.filter(kind=Kind.INVOICE_PAID).count() == 1
    assert StripeSettlement.objects.filter(kind=Kind.PAYMENT_UNMATCHED).count() == 0


def test_a_decline_delivered_twice_records_one_failure(stripe, tenant_alpha, deliver, failures,
                                                       django_capture_on_commit_callbacks):
    invoice = stripe_invoice(tenant_alpha)
    intent = charge_on_stripe_only(stripe, tenant_alpha, invoice, last4=CARD_DECLINED)
    event = stripe.event("payment_intent.payment_failed", intent.id)

    with django_capture_on_commit_callbacks(execute=True):
        deliver(event)
        deliver(stripe.event("payment_intent.payment_failed", intent.id))

    invoice.refresh_from_db()
    payment = Payment.objects.get(payment_intent_id=intent.id)
    assert (payment.status, payment.failure_code) == (Payment.Status.FAILED, "generic_decline")
    assert invoice.status == Invoice.Status.OPEN
    assert failures == [payment.pk]


def test_a_late_failure_event_for_an_intent_that_since_succeeded_leaves_the_invoice_paid(stripe, tenant_alpha,
                                                                                         deliver):
    invoice = stripe_invoice(tenant_alpha)
    intent = charge_on_stripe_only(stripe, tenant_alpha, invoice, last4=CARD_DECLINED)
    stale_failure = stripe.event("payment_intent.payment_failed", intent.id, created=1_600_000_000)
    # The customer fixed it on Stripe's side before the failure event got through.
    stripe.update(intent.id, status="succeeded", amount_received=money_to_minor_units(intent.amount),
                  last_payment_error=None)
    deliver(stripe.event("payment_intent.succeeded", intent.id))

    deliver(stale_failure)

    invoice.refresh_from_db()
    payment = Payment.objects.get(payment_intent_id=intent.id)
    assert (invoice.status, payment.status) == (Invoice.Status.PAID, Payment.Status.SUCCEEDED)
    assert not StripeSettlement.objects.filter(kind=Kind.PAYMENT_FAILED).exists()


def test_an_intent_that_requires_action_gets_a_hosted_payment_page(stripe, tenant_alpha, deliver):
    invoice = stripe_invoice(tenant_alpha)
    intent = charge_on_stripe_only(stripe, tenant_alpha, invoice, last4=CARD_AUTHENTICATION)
    # On-session, Stripe leaves it requiring action rather than declining it.
    stripe.update(intent.id, status="requires_action", last_payment_error=None,
                  next_action={"type": "redirect_to_url", "redirect_to_url": {"url": "https://bank.test/3ds"}})

    deliver(stripe.event("payment_intent.requires_action", intent.id))

    payment = Payment.objects.get(payment_intent_id=intent.id)
    [session] = stripe.of_type("checkout.session")
    assert (payment.status, payment.action_url) == (Payment.Status.REQUIRES_ACTION, session["url"])


def test_a_payment_on_a_hosted_page_that_requires_action_gets_no_second_page(stripe, tenant_alpha, deliver):
    invoice = stripe_invoice(tenant_alpha)
    intent = charge_on_stripe_only(stripe, tenant_alpha, invoice, last4=CARD_AUTHENTICATION,
                                   metadata={"source": "checkout"})
    stripe.update(intent.id, status="requires_action", last_payment_error=None,
                  next_action={"type": "redirect_to_url", "redirect_to_url": {"url": "https://bank.test/3ds"}})

    deliver(stripe.event("payment_intent.requires_action", intent.id))

    payment = Payment.objects.get(payment_intent_id=intent.id)
    assert (payment.source, payment.status, payment.action_url) == ("checkout", Payment.Status.REQUIRES_ACTION, "")
    assert stripe.of_type("checkout.session") == []


def test_a_requires_action_delivered_again_keeps_the_first_hosted_page(stripe, tenant_alpha, deliver):
    invoice = stripe_invoice(tenant_alpha)
    intent = charge_on_stripe_only(stripe, tenant_alpha, invoice, last4=CARD_AUTHENTICATION)
    stripe.update(intent.id, status="requires_action", last_payment_error=None,
                  next_action={"type": "redirect_to_url", "redirect_to_url": {"url": "https://bank.test/3ds"}})

    deliver(stripe.event("payment_intent.requires_action", intent.id))
    deliver(stripe.event("payment_intent.requires_action", intent.id))

    assert len(stripe.creates("/v1/checkout/sessions")) == 1


def test_an_invoice_paid_on_its_hosted_page_is_settled_once_by_both_events(stripe, tenant_alpha, deliver):
    card_on_file(stripe, tenant_alpha, CARD_AUTHENTICATION)
    invoice = stripe_invoice(tenant_alpha)
    waiting = invoice_charge(invoice=invoice, attempt=1, now=NOW)
    [session] = stripe.of_type("checkout.session")
    completed = stripe.checkout_complete(session["id"], last4=CARD_AUTHENTICATION)

    deliver(stripe.event("checkout.session.completed", completed["id"]))
    deliver(stripe.event("payment_intent.succeeded", completed["payment_intent"]))

    invoice.refresh_from_db()
    paid_by = Payment.objects.get(payment_intent_id=completed["payment_intent"])
    assert invoice.status == Invoice.Status.PAID
    assert (paid_by.source, paid_by.attempt, paid_by.status) == ("checkout", 2, Payment.Status.SUCCEEDED)
    assert Payment.objects.get(pk=waiting.pk).status == Payment.Status.REQUIRES_ACTION
    assert StripeSettlement.objects.filter(kind=Kind.INVOICE_PAID).count() == 1


# --- Refunds ------------------------------------------------------------------------------------------------------

def test_a_refund_is_recorded_once(stripe, tenant_alpha, deliver):
    card_on_file(stripe, tenant_alpha)
    invoice = stripe_invoice(tenant_alpha, "25.00")
    payment = invoice_charge(invoice=invoice, attempt=1, now=NOW)
    refund = stripe_api.refund_create(payment_intent_id=payment.payment_intent_id, amount=usd("10.00"),
                                      metadata={}, idempotency_key="refund-1")
    charge_id = stripe.get(payment.payment_intent_id)["latest_charge"]

    deliver(stripe.event("charge.refunded", charge_id))
    deliver(stripe.event("charge.refunded", charge_id))

    recorded = StripeSettlement.objects.get(kind=Kind.REFUND_RECORDED)
    assert (recorded.stripe_id, recorded.amount, recorded.invoice_id) == (refund.id, 10, invoice.pk)


# --- What the endpoint refuses or ignores ---------------------------------------------------------------------------

def test_a_badly_signed_delivery_is_refused_and_changes_nothing(stripe, tenant_alpha, deliver):
    invoice = stripe_invoice(tenant_alpha)
    intent = charge_on_stripe_only(stripe, tenant_alpha, invoice)

    deliver(stripe.event("payment_intent.succeeded", intent.id), secret="whsec_notOurs", expect=400)

    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.OPEN
    assert not Event.objects.exists()
    assert not Payment.objects.exists()
    assert not WebhookEventTrigger.objects.filter(valid=True).exists()


def test_a_delivery_without_a_signature_is_refused(stripe, tenant_alpha, public_client, webhook_endpoint):
    from django.urls import reverse

    path = reverse("djstripe:djstripe_webhook_by_uuid", kwargs={"uuid": webhook_endpoint.djstripe_uuid},
                   urlconf="config.urls_public")
    response = public_client.post(path, "{}", content_type="application/json")

    assert response.status_code == 400


def test_an_event_type_we_do_not_handle_is_acknowledged_and_ignored(stripe, tenant_alpha, deliver):
    customer = stripe_customer_ensure(tenant=tenant_alpha)

    deliver(stripe.event("customer.discount.created", data_object={"id": "di_1", "object": "discount",
                                                                    "customer": customer.id}))
    deliver(stripe.event("radar.early_fraud_warning.created", data_object={"id": "issfr_1",
                                                                           "object": "radar.early_fraud_warning"}))

    assert not StripeSettlement.objects.exists()
