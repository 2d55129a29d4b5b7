"""The daily reconciliation with Stripe (billing.payments.reconciliation), against the local fake: what a missed
webhook left behind is settled once (and the late webhook then changes nothing), what cannot be settled is listed
once for ops and resolves itself when Stripe agrees again, and Stripe going down mid-run leaves nothing half done."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings
from django.utils import timezone
from djstripe.models import Customer

from billing.errors import BillingError
from billing.invoicing.services import invoice_finalize
from billing.invoicing.totals import invoice_totals_apply
from billing.models import (
    DunningCase,
    Invoice,
    InvoiceLine,
    Payment,
    Price,
    ReconciliationDisagreement,
    ReconciliationRun,
    StripeSettlement,
    Subscription,
)
from billing.payments import stripe_api
from billing.payments.errors import PaymentProviderUnavailable
from billing.payments.events import payment_failed
from billing.payments.reconciliation import RESOLVER, reconciliation_disagreement_resolve, stripe_reconcile
from billing.payments.services import invoice_charge, payment_intent_apply, stripe_customer_ensure
from billing.tasks import stripe_reconcile_task
from devtools.stripe_fake import CARD_AUTHENTICATION, CARD_OK, webhook_post
from tests.support.billing import invoice_pay, subscription_started
from tests.support.clock import NOW
from tests.support.concurrency import run_together
from tests.support.factories import TenantFactory
from tests.support.payments import card_on_file, stripe_invoice

Kind = ReconciliationDisagreement.Kind
Open = ReconciliationDisagreement.Status.OPEN
Settled = StripeSettlement.Kind
DAY = timedelta(days=1)
DECLINE = {"type": "card_error", "code": "card_declined", "decline_code": "generic_decline",
           "message": "Your card was declined."}


@pytest.fixture(autouse=True)
def own_series(settings):
    settings.BILLING_INVOICE_SERIES, settings.BILLING_CREDIT_NOTE_SERIES = "ZR", "ZS"


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run a call as a committed transaction, with what it leaves for after commit (signals, dunning)."""
    def run(call, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return call(*args, **kwargs)
    return run


@pytest.fixture
def deliver(public_client, webhook_endpoint):
    def post(event):
        response = webhook_post(public_client, webhook_endpoint, event)
        assert response.status_code == 200, response.content
    return post


def waiting_for_cardholder(stripe, tenant, amount: str = "25.00") -> Payment:
    """An invoice charged off-session on a card whose bank wants the cardholder: the payment requires action."""
    card_on_file(stripe, tenant, CARD_AUTHENTICATION)
    payment = invoice_charge(invoice=stripe_invoice(tenant, amount), attempt=1, now=NOW)
    assert payment.status == Payment.Status.REQUIRES_ACTION
    return payment


def authenticated_without_webhook(stripe, tenant, amount: str = "25.00") -> Payment:
    """The cardholder authenticated and Stripe took the money; payment_intent.succeeded never reached us."""
    payment = waiting_for_cardholder(stripe, tenant, amount)
    stripe.payment_intent_authenticate(payment.payment_intent_id)
    return payment


def paid_by_card(stripe, tenant) -> Payment:
    card_on_file(stripe, tenant, CARD_OK)
    payment = invoice_charge(invoice=stripe_invoice(tenant), attempt=1, now=NOW)
    assert payment.status == Payment.Status.SUCCEEDED
    return payment


def reconcile(now=NOW) -> ReconciliationRun:
    return stripe_reconcile(now=now)


def open_disagreements() -> list[tuple[str, str]]:
    return list(ReconciliationDisagreement.objects.filter(status=Open).values_list("kind", "stripe_id"))


# --- Settling what a missed webhook left ---------------------------------------------------------------------

def test_a_missed_payment_succeeded_webhook_is_settled_by_the_run(stripe, tenant_alpha):
    payment = authenticated_without_webhook(stripe, tenant_alpha)

    run = reconcile()

    invoice = Invoice.objects.get(pk=payment.invoice_id)
    assert invoice.status == Invoice.Status.PAID
    assert Payment.objects.get(pk=payment.pk).status == Payment.Status.SUCCEEDED
    assert (run.invoices_checked, run.payments_settled, run.disagreements) == (1, 1, 0)
    assert run.finished_at is not None


def test_a_settlement_made_by_the_run_says_so(stripe, tenant_alpha):
    payment = authenticated_without_webhook(stripe, tenant_alpha)

    run = reconcile()

    settlement = StripeSettlement.objects.get(kind=Settled.INVOICE_PAID, stripe_id=payment.payment_intent_id)
    assert settlement.event_id == ""
    assert settlement.detail["reconciled_by_run"] == run.pk


def test_the_webhook_arriving_after_the_run_changes_nothing(stripe, tenant_alpha, deliver):
    payment = authenticated_without_webhook(stripe, tenant_alpha)
    reconcile()
    paid_at = Invoice.objects.get(pk=payment.invoice_id).paid_at

    deliver(stripe.event("payment_intent.succeeded", payment.payment_intent_id))

    invoice = Invoice.objects.get(pk=payment.invoice_id)
    assert (invoice.status, invoice.paid_at) == (Invoice.Status.PAID, paid_at)
    assert StripeSettlement.objects.filter(stripe_id=payment.payment_intent_id).count() == 1


def test_a_second_run_settles_nothing_again(stripe, tenant_alpha):
    authenticated_without_webhook(stripe, tenant_alpha)
    reconcile()

    run = reconcile(NOW + DAY)

    assert (run.invoices_checked, run.payments_settled, run.disagreements) == (1, 0, 0)
    assert StripeSettlement.objects.count() == 1


def test_a_payment_stripe_still_waits_on_is_checked_and_left_waiting(stripe, tenant_alpha):
    payment = waiting_for_cardholder(stripe, tenant_alpha)

    run = reconcile()

    assert (run.invoices_checked, run.payments_settled, run.disagreements) == (1, 0, 0)
    assert Payment.objects.get(pk=payment.pk).status == Payment.Status.REQUIRES_ACTION
    assert Invoice.objects.get(pk=payment.invoice_id).status == Invoice.Status.OPEN


def test_a_payment_settled_before_the_lookback_is_not_asked_about_again(stripe, tenant_alpha, settings):
    paid_by_card(stripe, tenant_alpha)
    settings.BILLING_RECONCILIATION_LOOKBACK_DAYS = 7
    stripe.requests.clear()

    run = reconcile(NOW + 8 * DAY)

    assert run.invoices_checked == 0
    assert stripe.requests == []


# --- A missed payment_failed starts dunning, once -------------------------------------------------------------

@pytest.fixture
def failed_without_webhook(stripe, tenant_alpha):
    """A renewal whose payment Stripe was processing (we had heard that much) and then failed; the failure's
    webhook never reached us."""
    subscription = subscription_started(tenant_alpha, Price.objects.get(code="pro-month-usd"), at=NOW - DAY)
    for start in Invoice.objects.filter(subscription=subscription, status=Invoice.Status.OPEN):
        invoice_pay(start, at=NOW - DAY)
    Subscription.objects.filter(pk=subscription.pk).update(collection_method="stripe")
    invoice = Invoice.objects.create(tenant=tenant_alpha, subscription=subscription, currency="USD",
                                     billing_reason=Invoice.Reason.SUBSCRIPTION_CYCLE, collection_method="stripe",
                                     created_at=NOW)
    InvoiceLine.objects.create(invoice=invoice, kind=InvoiceLine.Kind.FIXED, description="Pro plan",
                               amount_exact=Decimal("99.00"), amount=Decimal("99.00"))
    invoice_totals_apply(invoice=invoice)
    invoice = invoice_finalize(invoice=invoice, now=NOW)
    card_on_file(stripe, tenant_alpha, CARD_AUTHENTICATION)
    payment = invoice_charge(invoice=invoice, attempt=1, now=NOW)
    stripe.update(payment.payment_intent_id, status="processing", last_payment_error=None)
    Payment.objects.filter(pk=payment.pk).update(status=Payment.Status.PROCESSING)
    stripe.update(payment.payment_intent_id, status="requires_payment_method", last_payment_error=DECLINE)
    return payment


@pytest.fixture
def failures():
    seen = []
    payment_failed.connect(lambda sender, payment, **kw: seen.append(payment.pk), dispatch_uid="test-rec-failed",
                           weak=False)
    yield seen
    payment_failed.disconnect(dispatch_uid="test-rec-failed")


def test_a_missed_payment_failed_webhook_starts_dunning(failed_without_webhook, committed, failures):
    committed(reconcile)

    payment = Payment.objects.get(pk=failed_without_webhook.pk)
    assert (payment.status, payment.failure_code) == (Payment.Status.FAILED, "generic_decline")
    assert DunningCase.objects.filter(invoice_id=payment.invoice_id, status=DunningCase.Status.ACTIVE).count() == 1
    assert failures == [payment.pk]


def test_two_runs_over_a_missed_failure_start_dunning_once(failed_without_webhook, committed, failures):
    committed(reconcile)
    committed(reconcile, NOW + timedelta(hours=1))

    assert DunningCase.objects.filter(invoice_id=failed_without_webhook.invoice_id).count() == 1
    assert failures == [failed_without_webhook.pk]
    assert StripeSettlement.objects.filter(kind=Settled.PAYMENT_FAILED).count() == 1


# --- What cannot be settled -----------------------------------------------------------------------------------

def test_money_stripe_took_for_an_invoice_paid_another_way_is_a_disagreement(stripe, tenant_alpha):
    payment = waiting_for_cardholder(stripe, tenant_alpha)
    invoice_pay(Invoice.objects.get(pk=payment.invoice_id), at=NOW)
    stripe.payment_intent_authenticate(payment.payment_intent_id)

    run = reconcile()

    [row] = ReconciliationDisagreement.objects.all()
    assert (row.kind, row.stripe_id, row.invoice_id, row.tenant_id) == (
        Kind.PAID_ELSEWHERE, payment.payment_intent_id, payment.invoice_id, tenant_alpha.pk)
    assert run.disagreements == 1
    assert Invoice.objects.get(pk=payment.invoice_id).amount_paid == Decimal("25.00")


def test_less_money_than_the_invoice_asked_is_an_amount_disagreement(stripe, tenant_alpha):
    payment = waiting_for_cardholder(stripe, tenant_alpha)
    stripe.update(payment.payment_intent_id, status="succeeded", amount_received=2000, last_payment_error=None)

    reconcile()

    assert open_disagreements() == [(Kind.AMOUNT_MISMATCH, payment.payment_intent_id)]
    assert Invoice.objects.get(pk=payment.invoice_id).status == Invoice.Status.OPEN


def test_an_intent_in_another_currency_is_a_currency_disagreement(stripe, tenant_alpha):
    payment = waiting_for_cardholder(stripe, tenant_alpha)
    stripe.update(payment.payment_intent_id, currency="eur")

    reconcile()

    assert open_disagreements() == [(Kind.CURRENCY_MISMATCH, payment.payment_intent_id)]


def test_an_invoice_paid_by_an_intent_stripe_says_did_not_succeed_is_a_state_disagreement(stripe, tenant_alpha):
    payment = paid_by_card(stripe, tenant_alpha)
    stripe.update(payment.payment_intent_id, status="requires_payment_method", last_payment_error=DECLINE)

    reconcile()

    assert open_disagreements() == [(Kind.STATE_MISMATCH, payment.payment_intent_id)]
    assert Payment.objects.get(pk=payment.pk).status == Payment.Status.SUCCEEDED
    assert Invoice.objects.get(pk=payment.invoice_id).status == Invoice.Status.PAID


def test_an_intent_stripe_no_longer_knows_is_a_disagreement(stripe, tenant_alpha):
    payment = waiting_for_cardholder(stripe, tenant_alpha)
    stripe.objects.pop(payment.payment_intent_id)

    run = reconcile()

    assert open_disagreements() == [(Kind.INTENT_MISSING, payment.payment_intent_id)]
    assert run.disagreements == 1


def test_a_disagreement_found_by_two_runs_is_recorded_once(stripe, tenant_alpha):
    payment = waiting_for_cardholder(stripe, tenant_alpha)
    stripe.objects.pop(payment.payment_intent_id)
    first = reconcile()

    second = reconcile(NOW + DAY)

    [row] = ReconciliationDisagreement.objects.all()
    assert (row.first_run_id, row.first_seen_at, row.last_seen_at) == (first.pk, NOW, NOW + DAY)
    assert second.disagreements == 1


def test_a_disagreement_resolves_itself_when_stripe_agrees_again(stripe, tenant_alpha):
    payment = waiting_for_cardholder(stripe, tenant_alpha)
    intent = stripe.objects.pop(payment.payment_intent_id)
    reconcile()
    stripe.objects[intent["id"]] = intent

    run = reconcile(NOW + DAY)

    row = ReconciliationDisagreement.objects.get()
    assert (row.status, row.resolved_by, row.resolved_at) == (ReconciliationDisagreement.Status.RESOLVED, RESOLVER,
                                                              NOW + DAY)
    assert run.disagreements == 0


def test_a_disagreement_ops_resolved_is_not_raised_again(stripe, tenant_alpha):
    payment = waiting_for_cardholder(stripe, tenant_alpha)
    stripe.objects.pop(payment.payment_intent_id)
    reconcile()
    reconciliation_disagreement_resolve(disagreement=ReconciliationDisagreement.objects.get(),
                                        actor="ops@tollgate.test", note="Test intent deleted in Stripe.", now=NOW)

    run = reconcile(NOW + DAY)

    assert open_disagreements() == []
    assert run.disagreements == 0


def test_resolving_a_resolved_disagreement_is_refused(stripe, tenant_alpha):
    payment = waiting_for_cardholder(stripe, tenant_alpha)
    stripe.objects.pop(payment.payment_intent_id)
    reconcile()
    row = ReconciliationDisagreement.objects.get()
    reconciliation_disagreement_resolve(disagreement=row, actor="ops@tollgate.test", note="done", now=NOW)

    with pytest.raises(BillingError):
        reconciliation_disagreement_resolve(disagreement=row, actor="other@tollgate.test", note="again", now=NOW)

    assert ReconciliationDisagreement.objects.get().resolved_by == "ops@tollgate.test"


# --- Stripe down mid-run ---------------------------------------------------------------------------------------

def test_stripe_down_mid_run_keeps_what_was_settled_and_leaves_the_rest_untouched(stripe, tenant_alpha):
    first = authenticated_without_webhook(stripe, tenant_alpha)
    second = invoice_charge(invoice=stripe_invoice(tenant_alpha, "30.00"), attempt=1, now=NOW)
    stripe.payment_intent_authenticate(second.payment_intent_id)
    stripe.fail_next(status=500, path=f"/v1/payment_intents/{second.payment_intent_id}")

    with pytest.raises(PaymentProviderUnavailable):
        reconcile()

    run = ReconciliationRun.objects.get()
    assert (run.payments_settled, run.finished_at) == (1, None)
    assert Invoice.objects.get(pk=first.invoice_id).status == Invoice.Status.PAID
    assert Invoice.objects.get(pk=second.invoice_id).status == Invoice.Status.OPEN
    assert Payment.objects.get(pk=second.pk).status == Payment.Status.REQUIRES_ACTION
    assert not StripeSettlement.objects.filter(stripe_id=second.payment_intent_id).exists()


def test_the_next_run_after_an_outage_settles_the_rest(stripe, tenant_alpha):
    authenticated_without_webhook(stripe, tenant_alpha)
    second = invoice_charge(invoice=stripe_invoice(tenant_alpha, "30.00"), attempt=1, now=NOW)
    stripe.payment_intent_authenticate(second.payment_intent_id)
    stripe.fail_next(status=500, path=f"/v1/payment_intents/{second.payment_intent_id}")
    with pytest.raises(PaymentProviderUnavailable):
        reconcile()

    run = reconcile(NOW + timedelta(hours=1))

    assert Invoice.objects.get(pk=second.invoice_id).status == Invoice.Status.PAID
    assert (run.payments_settled, run.invoices_checked) == (1, 2)
    assert StripeSettlement.objects.filter(kind=Settled.INVOICE_PAID).count() == 2


# --- The beat task and the command ----------------------------------------------------------------------------

def test_the_task_does_nothing_without_stripe(db):
    with override_settings(STRIPE_SECRET_KEY=""):
        assert stripe_reconcile_task.apply().get() == {"skipped": "stripe_not_configured"}

    assert not ReconciliationRun.objects.exists()


def test_the_task_runs_a_reconciliation(stripe, tenant_alpha):
    payment = authenticated_without_webhook(stripe, tenant_alpha)

    result = stripe_reconcile_task.apply().get()

    assert result["payments_settled"] == 1
    assert Invoice.objects.get(pk=payment.invoice_id).status == Invoice.Status.PAID


def test_the_command_refuses_without_stripe(db):
    with override_settings(STRIPE_SECRET_KEY=""), pytest.raises(CommandError):
        call_command("stripe_reconcile")


def test_the_command_says_what_it_did(stripe, tenant_alpha, capsys):
    authenticated_without_webhook(stripe, tenant_alpha)

    call_command("stripe_reconcile")

    assert "payments settled: 1" in capsys.readouterr().out
    assert ReconciliationRun.objects.get().finished_at <= timezone.now()


def test_a_payment_stripe_moved_to_requires_action_gets_its_hosted_page(stripe, tenant_alpha):
    payment = waiting_for_cardholder(stripe, tenant_alpha)
    Payment.objects.filter(pk=payment.pk).update(status=Payment.Status.PROCESSING, action_url="")

    run = reconcile()

    payment.refresh_from_db()
    assert (payment.status, run.payments_settled) == (Payment.Status.REQUIRES_ACTION, 1)
    assert payment.action_url.startswith(stripe.base_url + "/checkout/")


# --- Attacks and races --------------------------------------------------------------------------------------------

def test_an_intent_moved_to_another_tenants_customer_pays_no_invoice(stripe, tenant_alpha, tenant_beta):
    payment = waiting_for_cardholder(stripe, tenant_alpha)
    stripe.payment_intent_authenticate(payment.payment_intent_id)
    stripe.update(payment.payment_intent_id, customer=stripe_customer_ensure(tenant=tenant_beta).id)

    reconcile()

    assert Invoice.objects.get(pk=payment.invoice_id).status == Invoice.Status.OPEN
    assert open_disagreements() == [(Kind.STATE_MISMATCH, payment.payment_intent_id)]


def test_the_run_racing_the_late_webhook_settles_the_invoice_once(stripe, committed_db):
    tenant = TenantFactory()
    try:
        card_on_file(stripe, tenant, CARD_AUTHENTICATION)
        with override_settings(STRIPE_SECRET_KEY=""):  # committed at once: no charge task on finalisation
            invoice = stripe_invoice(tenant, "40.00")
        payment = invoice_charge(invoice=invoice, attempt=1, now=NOW)
        stripe.payment_intent_authenticate(payment.payment_intent_id)
        intent = stripe_api.payment_intent_retrieve(payment.payment_intent_id)

        outcomes = run_together(lambda: stripe_reconcile(now=NOW),
                                lambda: payment_intent_apply(intent=intent, now=NOW, event_id="evt_late"))

        assert not [outcome for outcome in outcomes if isinstance(outcome, Exception)]
        invoice.refresh_from_db()
        assert (invoice.status, invoice.amount_paid) == (Invoice.Status.PAID, Decimal("40.00"))
        assert StripeSettlement.objects.filter(stripe_id=payment.payment_intent_id).count() == 1
        assert not ReconciliationDisagreement.objects.filter(stripe_id=payment.payment_intent_id).exists()
    finally:
        ReconciliationDisagreement.objects.filter(tenant=tenant).delete()
        ReconciliationRun.objects.filter(disagreements_found__isnull=True, started_at=NOW).delete()
        Customer.objects.filter(subscriber=tenant).delete()


def test_an_intent_stripe_refuses_to_answer_about_does_not_stop_the_run(stripe, tenant_alpha):
    refused = waiting_for_cardholder(stripe, tenant_alpha)
    settled = invoice_charge(invoice=stripe_invoice(tenant_alpha, "30.00"), attempt=1, now=NOW)
    stripe.payment_intent_authenticate(settled.payment_intent_id)
    stripe.fail_next(status=400, path=f"/v1/payment_intents/{refused.payment_intent_id}")

    run = reconcile()

    assert (run.invoices_checked, run.payments_settled, run.finished_at is not None) == (1, 1, True)
    assert Invoice.objects.get(pk=settled.invoice_id).status == Invoice.Status.PAID
