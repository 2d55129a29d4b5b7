"""Collecting invoices through Stripe: the tenant's customer, saving a card, and charging finalised invoices."""

from decimal import Decimal

import pytest
from celery.exceptions import Retry
from django.test import override_settings
from djstripe.models import Customer

from billing.errors import InvoiceStateInvalid
from billing.invoicing.services import invoice_mark_paid
from billing.models import BillingProfile, Invoice, Payment, StripeSettlement
from billing.payments import stripe_api
from billing.payments.errors import PaymentProviderUnavailable, PaymentsNotConfigured
from billing.payments.events import payment_action_required, payment_failed
from billing.payments.services import (
    card_setup_checkout_create,
    invoice_charge,
    invoice_charge_idempotency_key,
    stripe_customer_ensure,
)
from billing.payments.tasks import invoice_charge_task
from config.money import Money
from tests.support.clock import NOW
from tests.support.payments import card_on_file, stripe_invoice
from devtools.stripe_fake import CARD_AUTHENTICATION, CARD_DECLINED

Status = Payment.Status


@pytest.fixture(autouse=True)
def own_series(settings):
    settings.BILLING_INVOICE_SERIES, settings.BILLING_CREDIT_NOTE_SERIES = "ZP", "ZQ"


@pytest.fixture
def sent():
    """The payments each payment signal was sent for, by signal name."""
    received = {"failed": [], "action_required": []}

    def on_failed(sender, payment, **kwargs):
        received["failed"].append(payment.pk)

    def on_action(sender, payment, **kwargs):
        received["action_required"].append(payment.pk)

    payment_failed.connect(on_failed, dispatch_uid="test-payment-failed")
    payment_action_required.connect(on_action, dispatch_uid="test-payment-action")
    yield received
    payment_failed.disconnect(dispatch_uid="test-payment-failed")
    payment_action_required.disconnect(dispatch_uid="test-payment-action")


# --- The customer ---------------------------------------------------------------------------------------------

def test_the_tenants_customer_is_created_with_its_billing_details(stripe, tenant_alpha):
    BillingProfile.objects.create(tenant=tenant_alpha, legal_name="Alpha GmbH", email="ap@alpha.test",
                                  country="DE", city="Berlin", address_line1="Hauptstr. 1", postal_code="10115")

    customer = stripe_customer_ensure(tenant=tenant_alpha)

    seen = stripe.get(customer.id)
    assert customer.subscriber == tenant_alpha
    assert (seen["name"], seen["email"], seen["address"]["city"]) == ("Alpha GmbH", "ap@alpha.test", "Berlin")
    assert seen["metadata"]["tenant_id"] == str(tenant_alpha.pk)


def test_ensuring_the_customer_twice_creates_one(stripe, tenant_alpha):
    first = stripe_customer_ensure(tenant=tenant_alpha)
    second = stripe_customer_ensure(tenant=tenant_alpha)

    assert first.pk == second.pk
    assert len(stripe.of_type("customer")) == 1
    assert Customer.objects.filter(subscriber=tenant_alpha).count() == 1


def test_a_customer_stripe_made_before_a_crash_is_reused_not_made_again(stripe, tenant_alpha):
    # Stripe answered, the process died before our row was committed: the retry's Idempotency-Key finds it.
    made = stripe_api.customer_create(
        email=tenant_alpha.email, name=tenant_alpha.name, address=None,
        metadata={"tenant_id": str(tenant_alpha.pk), "tenant_slug": tenant_alpha.slug,
                  "djstripe_subscriber": str(tenant_alpha.pk)},
        idempotency_key=f"tenant-{tenant_alpha.pk}-customer")

    customer = stripe_customer_ensure(tenant=tenant_alpha)

    assert customer.id == made.id
    assert len(stripe.of_type("customer")) == 1


def test_the_tenants_email_is_its_billing_email_else_its_owners(tenant_alpha):
    tenant_alpha.billing_email = ""
    assert tenant_alpha.email == tenant_alpha.owner_email
    tenant_alpha.billing_email = "invoices@alpha.test"
    assert tenant_alpha.email == "invoices@alpha.test"


def test_saving_a_card_opens_checkout_in_setup_mode_for_the_tenants_customer(stripe, tenant_alpha):
    session = card_setup_checkout_create(tenant=tenant_alpha, success_url="http://alpha.localhost/billing/",
                                         cancel_url="http://alpha.localhost/billing/")

    customer = stripe_customer_ensure(tenant=tenant_alpha)
    assert (session.mode, session.status, session.customer_id) == ("setup", "open", customer.id)
    assert session.url
    assert session.metadata["tenant_id"] == str(tenant_alpha.pk)


# --- Charging -------------------------------------------------------------------------------------------------

def test_a_successful_charge_pays_the_invoice(stripe, tenant_alpha):
    card_on_file(stripe, tenant_alpha)
    invoice = stripe_invoice(tenant_alpha, "25.00")

    payment = invoice_charge(invoice=invoice, attempt=1, now=NOW)

    invoice.refresh_from_db()
    assert (payment.status, payment.amount, payment.currency) == (Status.SUCCEEDED, Decimal("25.00"), "USD")
    assert (invoice.status, invoice.amount_paid) == (Invoice.Status.PAID, Decimal("25.00"))
    intent = stripe.get(payment.payment_intent_id)
    assert (intent["amount"], intent["currency"]) == (2500, "usd")
    assert intent["metadata"]["invoice_number"] == invoice.number
    assert intent["metadata"]["tenant_id"] == str(tenant_alpha.pk)
    assert StripeSettlement.objects.filter(kind="invoice_paid", stripe_id=payment.payment_intent_id).count() == 1


def test_the_charge_is_in_the_currencys_minor_units(stripe, tenant_alpha):
    card_on_file(stripe, tenant_alpha)
    invoice = stripe_invoice(tenant_alpha, "1500", currency="JPY")

    payment = invoice_charge(invoice=invoice, attempt=1, now=NOW)

    assert (stripe.get(payment.payment_intent_id)["amount"], payment.status) == (1500, Status.SUCCEEDED)


def test_a_declined_card_records_the_failure_and_leaves_the_invoice_open(stripe, tenant_alpha, sent,
                                                                          django_capture_on_commit_callbacks):
    card_on_file(stripe, tenant_alpha, CARD_DECLINED)
    invoice = stripe_invoice(tenant_alpha)

    with django_capture_on_commit_callbacks(execute=True):
        payment = invoice_charge(invoice=invoice, attempt=1, now=NOW)

    invoice.refresh_from_db()
    assert (payment.status, payment.failure_code) == (Status.FAILED, "generic_decline")
    assert payment.failure_message == "Your card was declined."
    assert invoice.status == Invoice.Status.OPEN
    assert sent["failed"] == [payment.pk]


def test_a_card_that_needs_authentication_leaves_the_invoice_open_with_a_hosted_payment_page(
        stripe, tenant_alpha, sent, django_capture_on_commit_callbacks):
    card_on_file(stripe, tenant_alpha, CARD_AUTHENTICATION)
    invoice = stripe_invoice(tenant_alpha)

    with django_capture_on_commit_callbacks(execute=True):
        payment = invoice_charge(invoice=invoice, attempt=1, now=NOW)

    invoice.refresh_from_db()
    assert payment.status == Status.REQUIRES_ACTION
    assert invoice.status == Invoice.Status.OPEN
    [session] = stripe.of_type("checkout.session")
    assert payment.action_url == session["url"]
    assert (session["mode"], session["amount_total"], session["currency"]) == ("payment", 2500, "usd")
    assert session["metadata"]["invoice_id"] == str(invoice.pk)
    assert sent == {"failed": [], "action_required": [payment.pk]}


def test_without_a_card_on_file_the_attempt_fails_and_nothing_is_charged(stripe, tenant_alpha, sent,
                                                                          django_capture_on_commit_callbacks):
    invoice = stripe_invoice(tenant_alpha)

    with django_capture_on_commit_callbacks(execute=True):
        payment = invoice_charge(invoice=invoice, attempt=1, now=NOW)

    assert (payment.status, payment.failure_code, payment.payment_intent_id) == (
        Status.FAILED, "payment_method_missing", None)
    assert stripe.creates("/v1/payment_intents") == []
    assert sent["failed"] == [payment.pk]


def test_charging_the_same_attempt_again_charges_once(stripe, tenant_alpha):
    card_on_file(stripe, tenant_alpha)
    invoice = stripe_invoice(tenant_alpha)

    first = invoice_charge(invoice=invoice, attempt=1, now=NOW)
    again = invoice_charge(invoice=invoice, attempt=1, now=NOW)

    assert first.pk == again.pk
    assert len(stripe.of_type("payment_intent")) == 1


def test_a_task_retried_after_stripe_charged_but_before_we_recorded_it_charges_once(stripe, tenant_alpha):
    card = card_on_file(stripe, tenant_alpha)
    invoice = stripe_invoice(tenant_alpha)
    # The first run reached Stripe with the attempt's key, then died before recording anything.
    stripe_api.payment_intent_charge_off_session(
        customer_id=card["customer"], payment_method_id=card["id"], amount=Money(Decimal("25.00"), "USD"),
        description=f"Invoice {invoice.number}", idempotency_key=invoice_charge_idempotency_key(invoice, 1),
        metadata={"tenant_id": str(tenant_alpha.pk), "tenant_slug": tenant_alpha.slug,
                  "invoice_id": str(invoice.pk), "invoice_number": invoice.number, "attempt": "1",
                  "source": "off_session"})

    payment = invoice_charge(invoice=invoice, attempt=1, now=NOW)

    invoice.refresh_from_db()
    assert len(stripe.of_type("payment_intent")) == 1
    assert len(stripe.creates("/v1/payment_intents")) == 1
    assert (payment.status, invoice.status) == (Status.SUCCEEDED, Invoice.Status.PAID)


def test_a_new_attempt_is_a_new_charge(stripe, tenant_alpha):
    card_on_file(stripe, tenant_alpha, CARD_DECLINED)
    invoice = stripe_invoice(tenant_alpha)
    invoice_charge(invoice=invoice, attempt=1, now=NOW)
    stripe.card_attach(stripe_customer_ensure(tenant=tenant_alpha).id)

    second = invoice_charge(invoice=invoice, attempt=2, now=NOW)

    invoice.refresh_from_db()
    assert (second.attempt, second.status, invoice.status) == (2, Status.SUCCEEDED, Invoice.Status.PAID)
    assert len(stripe.of_type("payment_intent")) == 2


def test_an_invoice_collected_manually_is_not_charged(stripe, tenant_alpha):
    card_on_file(stripe, tenant_alpha)
    invoice = stripe_invoice(tenant_alpha, collection_method="manual")

    with pytest.raises(InvoiceStateInvalid):
        invoice_charge(invoice=invoice, attempt=1, now=NOW)
    assert stripe.creates("/v1/payment_intents") == []


def test_a_paid_invoice_is_not_charged(stripe, tenant_alpha):
    card_on_file(stripe, tenant_alpha)
    invoice = invoice_mark_paid(invoice=stripe_invoice(tenant_alpha), actor="ops", now=NOW)

    with pytest.raises(InvoiceStateInvalid):
        invoice_charge(invoice=invoice, attempt=1, now=NOW)


def test_stripe_down_records_nothing_so_the_attempt_can_be_retried(stripe, tenant_alpha):
    card_on_file(stripe, tenant_alpha)
    invoice = stripe_invoice(tenant_alpha)
    stripe.fail_next(status=503, path="/v1/payment_intents")

    with pytest.raises(PaymentProviderUnavailable):
        invoice_charge(invoice=invoice, attempt=1, now=NOW)

    assert not Payment.objects.filter(invoice=invoice).exists()
    assert invoice_charge(invoice=invoice, attempt=1, now=NOW).status == Status.SUCCEEDED


def test_a_key_stripe_refuses_is_a_configuration_problem_not_a_decline(stripe, tenant_alpha):
    with override_settings(STRIPE_SECRET_KEY="sk_test_notTheKeyTheFakeKnows000000000"):
        with pytest.raises(PaymentsNotConfigured):
            stripe_customer_ensure(tenant=tenant_alpha)


# --- After finalisation -----------------------------------------------------------------------------------------

def test_a_finalised_invoice_collected_by_stripe_is_charged_once_committed(stripe, tenant_alpha,
                                                                            django_capture_on_commit_callbacks):
    card_on_file(stripe, tenant_alpha)

    with django_capture_on_commit_callbacks(execute=True):
        invoice = stripe_invoice(tenant_alpha)

    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID
    assert Payment.objects.get(invoice=invoice).attempt == 1


def test_without_stripe_a_finalised_invoice_waits_for_manual_collection(tenant_alpha,
                                                                        django_capture_on_commit_callbacks):
    assert not stripe_api.stripe_enabled()

    with django_capture_on_commit_callbacks(execute=True):
        invoice = stripe_invoice(tenant_alpha)

    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.OPEN
    assert not Payment.objects.filter(invoice=invoice).exists()


# --- The task ----------------------------------------------------------------------------------------------------

def test_the_charge_task_run_twice_for_one_attempt_charges_once(stripe, tenant_alpha):
    card_on_file(stripe, tenant_alpha)
    invoice = stripe_invoice(tenant_alpha)

    first = invoice_charge_task.delay(invoice_id=invoice.pk, attempt=1).get()
    second = invoice_charge_task.delay(invoice_id=invoice.pk, attempt=1).get()

    assert (first, second) == (Status.SUCCEEDED, Status.SUCCEEDED)
    assert len(stripe.of_type("payment_intent")) == 1


def test_the_charge_task_retries_the_same_attempt_while_stripe_is_down_and_charges_once(stripe, tenant_alpha):
    card_on_file(stripe, tenant_alpha)
    invoice = stripe_invoice(tenant_alpha)
    stripe.fail_next(status=500, path="/v1/payment_intents")
    with pytest.raises(Retry):  # eager here: the worker would run it again after the countdown
        invoice_charge_task.delay(invoice_id=invoice.pk, attempt=1)

    status = invoice_charge_task.delay(invoice_id=invoice.pk, attempt=1).get()

    assert status == Status.SUCCEEDED
    keys = {r.idempotency_key for r in stripe.requests if r.path == "/v1/payment_intents"}
    assert keys == {invoice_charge_idempotency_key(invoice, 1)}
    assert len(stripe.of_type("payment_intent")) == 1


def test_the_charge_task_skips_an_invoice_paid_in_the_meantime(stripe, tenant_alpha):
    card_on_file(stripe, tenant_alpha)
    invoice = invoice_mark_paid(invoice=stripe_invoice(tenant_alpha), actor="ops", now=NOW)

    assert invoice_charge_task.delay(invoice_id=invoice.pk, attempt=1).get() == "skipped"
    assert stripe.creates("/v1/payment_intents") == []


def test_an_attempt_that_stopped_before_its_hosted_page_was_made_gets_it_when_run_again(stripe, tenant_alpha):
    card_on_file(stripe, tenant_alpha, CARD_AUTHENTICATION)
    invoice = stripe_invoice(tenant_alpha)
    waiting = invoice_charge(invoice=invoice, attempt=1, now=NOW)
    Payment.objects.filter(pk=waiting.pk).update(action_url="")

    again = invoice_charge(invoice=invoice, attempt=1, now=NOW)

    assert again.action_url == waiting.action_url
    assert len(stripe.of_type("checkout.session")) == 1
    assert len(stripe.of_type("payment_intent")) == 1
