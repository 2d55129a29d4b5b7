"""Dunning: a Stripe-collected renewal whose card fails is retried 1, 3, 5 and 7 days after the first failure
(frozen clock, the local Stripe fake), each attempt charged once and told once; paid at any point it is recovered;
a new card is retried at once, once; a bank that wants the cardholder is waited for, not retried; after the last
failure the invoice is uncollectible and the subscription canceled (or left on Free)."""

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.db import connection, transaction
from django.utils import timezone

from billing.invoicing.services import invoice_finalize, invoice_void
from billing.invoicing.totals import invoice_totals_apply
from billing.models import DunningCase, Invoice, InvoiceLine, Payment, Price, Subscription, SubscriptionEvent
from billing.payments import dunning
from billing.payments.dunning import dunning_card_changed, dunning_retries_run
from billing.payments.services import invoice_charge_idempotency_key, stripe_customer_ensure
from billing.payments.tasks import invoice_charge_task
from billing.selectors import entitlements_for
from billing.tasks import dunning_notice_send_task, dunning_retries_task
from tenants.models import Tenant
from tests.support.billing import invoice_pay, subscription_started
from tests.support.clock import NOW
from tests.support.payments import card_on_file
from devtools.stripe_fake import CARD_AUTHENTICATION, CARD_DECLINED, CARD_OK, webhook_post

CaseStatus = DunningCase.Status
DAY = timedelta(days=1)
PAYMENT_INTENTS = "/v1/payment_intents"


@pytest.fixture(autouse=True)
def own_series(settings):
    settings.BILLING_INVOICE_SERIES, settings.BILLING_CREDIT_NOTE_SERIES = "ZD", "ZE"


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run a call as a committed transaction: what it leaves for after commit (charges, the payment rail's
    signals, dunning, emails) runs too."""
    def run(call, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return call(*args, **kwargs)
    return run


@pytest.fixture
def subscription(stripe, tenant_alpha, frozen_now):
    """Alpha on Pro since yesterday, its start invoice paid by hand, collected by Stripe from now on."""
    started = subscription_started(tenant_alpha, Price.objects.get(code="pro-month-usd"), at=NOW - DAY)
    for invoice in Invoice.objects.filter(subscription=started, status=Invoice.Status.OPEN):
        invoice_pay(invoice, at=NOW - DAY)
    Subscription.objects.filter(pk=started.pk).update(collection_method="stripe")
    return Subscription.objects.get(pk=started.pk)


def renewal_issued(subscription: Subscription, amount: str = "99.00") -> Invoice:
    """A renewal invoice of the subscription, finalised now (the payment rail charges it once committed)."""
    invoice = Invoice.objects.create(tenant_id=subscription.tenant_id, subscription=subscription,
                                     billing_reason=Invoice.Reason.SUBSCRIPTION_CYCLE, currency="USD",
                                     collection_method=subscription.collection_method, created_at=timezone.now())
    InvoiceLine.objects.create(invoice=invoice, kind=InvoiceLine.Kind.FIXED, description="Pro plan",
                               amount_exact=Decimal(amount), amount=Decimal(amount))
    invoice_totals_apply(invoice=invoice)
    return invoice_finalize(invoice=invoice, now=timezone.now())


@pytest.fixture
def declined(stripe, tenant_alpha, subscription, committed):
    """The renewal charged on a card that declines: attempt 1 failed at NOW."""
    card_on_file(stripe, tenant_alpha, CARD_DECLINED)
    return committed(renewal_issued, subscription)


def beat_at(frozen_now, committed, when):
    """The clock at `when`, and the beat job's pass (with its charges, signals and emails)."""
    frozen_now.move_to(when)
    return committed(dunning_retries_task)


def attempts(invoice: Invoice) -> list[tuple[int, str, object]]:
    return [(payment.attempt, payment.status, payment.created_at - NOW)
            for payment in Payment.objects.filter(invoice=invoice).order_by("attempt")]


def charges_of(stripe, invoice: Invoice, attempt: int) -> list:
    key = invoice_charge_idempotency_key(invoice, attempt)
    return [request for request in stripe.creates(PAYMENT_INTENTS) if request.idempotency_key == key]


def dunning_mails(invoice: Invoice) -> list[str]:
    return [message.subject for message in mail.outbox if invoice.number in message.subject
            and any(words in message.subject for words in ("failed", "could not be collected", "confirm the"))]


def card_changed(stripe, tenant, last4: str, deliver) -> dict:
    """The tenant saves a new default card in Stripe: Stripe sends payment_method.attached and customer.updated."""
    customer_id = stripe_customer_ensure(tenant=tenant).id
    card = stripe.card_attach(customer_id, last4)
    deliver(stripe.event("payment_method.attached", card["id"]))
    deliver(stripe.event("customer.updated", customer_id,
                         previous_attributes={"invoice_settings": {"default_payment_method": None}}))
    return card


@pytest.fixture
def deliver(public_client, webhook_endpoint, django_capture_on_commit_callbacks):
    def post(event):
        with django_capture_on_commit_callbacks(execute=True):
            response = webhook_post(public_client, webhook_endpoint, event)
        assert response.status_code == 200, response.content
    return post


# --- The first failure -----------------------------------------------------------------------------------------

def test_a_declined_renewal_makes_the_subscription_past_due_and_opens_a_case(declined, subscription):
    case = DunningCase.objects.get(invoice=declined)
    subscription.refresh_from_db()

    assert (case.status, case.started_at, case.next_attempt_at, case.last_attempt) == (
        CaseStatus.ACTIVE, NOW, NOW + DAY, 1)
    assert (subscription.status, subscription.past_due_since) == (Subscription.Status.PAST_DUE, NOW)
    assert SubscriptionEvent.objects.filter(subscription=subscription, action="past_due", actor="system").exists()


def test_the_first_failure_emails_the_attempt_the_next_try_and_the_card_link(stripe, declined):
    [message] = [m for m in mail.outbox if declined.number in m.subject and "failed" in m.subject]

    assert message.subject.endswith(f"payment of invoice {declined.number} failed (attempt 1)")
    assert "attempt 1 failed" in message.body
    assert "try again on 21 Nov 2026 (4 automatic retries left)" in message.body
    # A link that opens a fresh portal session when followed: a portal URL would expire before it is read.
    assert "http://alpha.localhost/billing/card/portal/" in message.body
    assert not stripe.of_type("billing_portal.session")


def test_a_manually_collected_invoice_is_not_dunned(stripe, tenant_alpha, subscription, committed):
    card_on_file(stripe, tenant_alpha, CARD_DECLINED)
    Subscription.objects.filter(pk=subscription.pk).update(collection_method="manual")
    invoice = committed(renewal_issued, Subscription.objects.get(pk=subscription.pk))

    assert not DunningCase.objects.filter(invoice=invoice).exists()
    assert not Payment.objects.filter(invoice=invoice).exists()


# --- The schedule to its end -------------------------------------------------------------------------------------

def test_a_card_that_keeps_failing_is_retried_on_days_1_3_5_7_then_written_off_and_canceled(
        stripe, declined, subscription, frozen_now, committed):
    for day in (1, 2, 3, 4, 5, 6, 7):
        beat_at(frozen_now, committed, NOW + day * DAY)

    declined.refresh_from_db()
    subscription.refresh_from_db()
    case = DunningCase.objects.get(invoice=declined)
    assert attempts(declined) == [(1, "failed", 0 * DAY), (2, "failed", 1 * DAY), (3, "failed", 3 * DAY),
                                  (4, "failed", 5 * DAY), (5, "failed", 7 * DAY)]
    assert (case.status, case.ended_at, case.next_attempt_at) == (CaseStatus.EXHAUSTED, NOW + 7 * DAY, None)
    assert (declined.status, declined.uncollectible_at) == (Invoice.Status.UNCOLLECTIBLE, NOW + 7 * DAY)
    assert (subscription.status, subscription.ended_at) == (Subscription.Status.CANCELED, NOW + 7 * DAY)
    assert SubscriptionEvent.objects.filter(subscription=subscription, action="canceled", actor="dunning").exists()
    assert entitlements_for(tenant=subscription.tenant).plan_code == "free"


def test_each_attempt_is_emailed_once_and_the_end_says_so(stripe, declined, frozen_now, committed):
    for day in (1, 3, 5, 7):
        beat_at(frozen_now, committed, NOW + day * DAY)
    # Each notice's task delivered again: nobody is told twice.
    for payment in Payment.objects.filter(invoice=declined, attempt__lt=5):
        committed(dunning_notice_send_task, kind="failed", case_id=declined.dunning_case.pk, payment_id=payment.pk)
    committed(dunning_notice_send_task, kind="exhausted", case_id=declined.dunning_case.pk)

    subjects = dunning_mails(declined)
    assert [subject.split(": ", 1)[1] for subject in subjects] == [
        f"payment of invoice {declined.number} failed (attempt {n})" for n in (1, 2, 3, 4)
    ] + [f"invoice {declined.number} could not be collected"]
    [last] = [m for m in mail.outbox if m.subject == subjects[-1]]
    assert "marked uncollectible" in last.body and "subscription is canceled" in last.body


def test_with_the_free_final_action_the_subscription_stays_past_due_on_free_until_paid(
        stripe, declined, subscription, frozen_now, committed, settings):
    settings.BILLING_DUNNING_FINAL_ACTION = "free"
    for day in (1, 3, 5, 7):
        beat_at(frozen_now, committed, NOW + day * DAY)

    subscription.refresh_from_db()
    declined.refresh_from_db()
    assert declined.status == Invoice.Status.UNCOLLECTIBLE
    assert subscription.status == Subscription.Status.PAST_DUE
    assert entitlements_for(tenant=subscription.tenant).plan_code == "free"

    committed(invoice_pay, declined)

    subscription.refresh_from_db()
    assert subscription.status == Subscription.Status.ACTIVE
    assert entitlements_for(tenant=subscription.tenant).plan_code == "pro"


def test_during_dunning_the_plan_lasts_the_grace_days_then_free(declined, subscription, frozen_now, committed):
    tenant = subscription.tenant

    assert entitlements_for(tenant=tenant, now=NOW + 6 * DAY).plan_code == "pro"
    assert entitlements_for(tenant=tenant, now=NOW + 7 * DAY).plan_code == "free"


# --- Recovery ----------------------------------------------------------------------------------------------------

def test_a_retry_that_succeeds_recovers_the_invoice_and_the_subscription(
        stripe, tenant_alpha, declined, subscription, frozen_now, committed):
    # The customer fixed the card on Stripe's side (no event reached us): the next scheduled retry uses it.
    stripe.card_attach(stripe_customer_ensure(tenant=tenant_alpha).id, CARD_OK)

    beat_at(frozen_now, committed, NOW + DAY)
    beat_at(frozen_now, committed, NOW + 3 * DAY)

    declined.refresh_from_db()
    subscription.refresh_from_db()
    case = DunningCase.objects.get(invoice=declined)
    assert attempts(declined) == [(1, "failed", 0 * DAY), (2, "succeeded", DAY)]
    assert declined.status == Invoice.Status.PAID
    assert (case.status, case.ended_at, case.next_attempt_at) == (CaseStatus.RECOVERED, NOW + DAY, None)
    assert (subscription.status, subscription.past_due_since) == (Subscription.Status.ACTIVE, None)
    assert entitlements_for(tenant=tenant_alpha, now=NOW + 10 * DAY).plan_code == "pro"


def test_an_invoice_paid_by_hand_ends_dunning_and_nothing_more_is_charged(stripe, declined, frozen_now, committed):
    committed(invoice_pay, declined)
    beat_at(frozen_now, committed, NOW + DAY)

    assert DunningCase.objects.get(invoice=declined).status == CaseStatus.RECOVERED
    assert len(stripe.creates(PAYMENT_INTENTS)) == 1


def test_paying_another_invoice_of_the_subscription_does_not_restart_the_grace_of_one_in_dunning(
        stripe, declined, subscription, frozen_now, committed):
    # The declined renewal is not yet due (net terms): only its dunning case keeps the subscription past due.
    assert declined.due_at > NOW + 2 * DAY
    subscription.collection_method = "manual"
    other = renewal_issued(subscription, "10.00")
    frozen_now.move_to(NOW + 2 * DAY)

    committed(invoice_pay, other)

    subscription.refresh_from_db()
    assert (subscription.status, subscription.past_due_since) == (Subscription.Status.PAST_DUE, NOW)
    assert DunningCase.objects.get(invoice=declined).status == CaseStatus.ACTIVE


def test_a_voided_invoice_closes_its_case(stripe, declined, frozen_now, committed):
    committed(invoice_void, invoice=declined, actor="ops@tollgate.test", now=NOW)
    beat_at(frozen_now, committed, NOW + DAY)

    assert DunningCase.objects.get(invoice=declined).status == CaseStatus.CLOSED
    assert len(stripe.creates(PAYMENT_INTENTS)) == 1


# --- A new card ----------------------------------------------------------------------------------------------------

def test_a_new_good_card_is_retried_at_once_and_pays(stripe, tenant_alpha, declined, frozen_now, deliver):
    frozen_now.move_to(NOW + DAY / 2)

    card_changed(stripe, tenant_alpha, CARD_OK, deliver)

    declined.refresh_from_db()
    assert attempts(declined) == [(1, "failed", 0 * DAY), (2, "succeeded", DAY / 2)]
    assert declined.status == Invoice.Status.PAID
    assert DunningCase.objects.get(invoice=declined).status == CaseStatus.RECOVERED


def test_a_new_card_triggers_one_immediate_retry_however_many_events_announce_it(
        stripe, tenant_alpha, declined, frozen_now, committed, deliver):
    frozen_now.move_to(NOW + DAY / 2)

    card = card_changed(stripe, tenant_alpha, CARD_DECLINED, deliver)
    customer_id = card["customer"]
    deliver(stripe.event("customer.updated", customer_id,
                         previous_attributes={"invoice_settings": {"default_payment_method": None}}))

    case = DunningCase.objects.get(invoice=declined)
    assert attempts(declined) == [(1, "failed", 0 * DAY), (2, "failed", DAY / 2)]
    assert (case.card_retried, case.next_attempt_at) == (card["id"], NOW + DAY)
    # The schedule keeps its days.
    beat_at(frozen_now, committed, NOW + DAY)
    assert attempts(declined)[-1] == (3, "failed", DAY)


def test_a_card_change_of_another_tenant_retries_nothing(stripe, tenant_beta, declined, frozen_now, deliver):
    frozen_now.move_to(NOW + DAY / 2)

    card_changed(stripe, tenant_beta, CARD_OK, deliver)

    assert attempts(declined) == [(1, "failed", 0 * DAY)]


def test_a_card_change_stripe_cannot_confirm_waits_for_the_scheduled_retry(stripe, tenant_alpha, declined,
                                                                             frozen_now, committed):
    frozen_now.move_to(NOW + DAY / 2)
    customer_id = stripe_customer_ensure(tenant=tenant_alpha).id
    stripe.card_attach(customer_id, CARD_OK)
    stripe.fail_next(status=503, path=f"/v1/customers/{customer_id}")

    assert committed(dunning_card_changed, tenant_id=tenant_alpha.pk, now=NOW + DAY / 2) == []
    beat_at(frozen_now, committed, NOW + DAY)

    assert attempts(declined) == [(1, "failed", 0 * DAY), (2, "succeeded", DAY)]


# --- Idempotency -------------------------------------------------------------------------------------------------

def test_a_retry_run_twice_charges_once(stripe, declined, frozen_now, committed):
    frozen_now.move_to(NOW + DAY)

    committed(dunning_retries_run, now=NOW + DAY)
    committed(dunning_retries_run, now=NOW + DAY)
    # The broker delivers the retry's charge task again.
    committed(invoice_charge_task, invoice_id=declined.pk, attempt=2)

    assert len(charges_of(stripe, declined, 2)) == 1
    assert len([pi for pi in stripe.of_type("payment_intent") if pi["metadata"].get("attempt") == "2"]) == 1
    assert attempts(declined) == [(1, "failed", 0 * DAY), (2, "failed", DAY)]


@pytest.fixture
def committed_case(committed_db):
    """An active case due at NOW + 1 day, committed so that concurrent runs (one connection per thread) see it.
    Its invoice is removed afterwards with the invoice triggers off (tests only)."""
    alpha = Tenant.objects.get(slug="alpha")
    invoice = Invoice.objects.create(tenant=alpha, billing_reason=Invoice.Reason.MANUAL, currency="USD",
                                     collection_method="stripe", status=Invoice.Status.OPEN, number="ZD-RACE-000001",
                                     total=Decimal("99.00"), amount_due=Decimal("99.00"), created_at=NOW)
    case = DunningCase.objects.create(tenant=alpha, invoice=invoice, started_at=NOW, last_attempt=1,
                                      next_attempt_at=NOW + DAY)
    yield case
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        DunningCase.objects.filter(pk=case.pk).delete()
        Invoice.objects.filter(pk=invoice.pk).delete()


def test_beat_runs_racing_on_one_due_case_retry_it_once(committed_case, monkeypatch):
    enqueued = []
    monkeypatch.setattr(dunning.invoice_charge_task, "delay", lambda **kwargs: enqueued.append(kwargs))
    barrier = threading.Barrier(4)

    def run() -> None:
        try:
            barrier.wait(timeout=10)
            dunning_retries_run(now=NOW + DAY)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    committed_case.refresh_from_db()
    assert enqueued == [{"invoice_id": committed_case.invoice_id, "attempt": 2}]
    assert (committed_case.retries_made, committed_case.last_attempt, committed_case.next_attempt_at) == (
        1, 2, NOW + 3 * DAY)


# --- Authentication (SCA) ------------------------------------------------------------------------------------------

def test_a_card_that_needs_the_cardholder_is_waited_for_not_retried(stripe, tenant_alpha, subscription, frozen_now,
                                                                     committed):
    card_on_file(stripe, tenant_alpha, CARD_AUTHENTICATION)
    invoice = committed(renewal_issued, subscription)

    for day in (1, 3, 5):
        beat_at(frozen_now, committed, NOW + day * DAY)

    case = DunningCase.objects.get(invoice=invoice)
    [payment] = Payment.objects.filter(invoice=invoice)
    action_mails = [m for m in mail.outbox if "confirm the payment" in m.subject]
    assert (payment.status, case.status, case.action_required_since) == ("requires_action", CaseStatus.ACTIVE, NOW)
    assert len(stripe.creates(PAYMENT_INTENTS)) == 1
    assert len(action_mails) == 1 and payment.action_url in action_mails[0].body
    subscription.refresh_from_db()
    assert subscription.status == Subscription.Status.PAST_DUE


def test_a_customer_who_never_authenticates_is_written_off_on_the_last_day(stripe, tenant_alpha, subscription,
                                                                           frozen_now, committed):
    card_on_file(stripe, tenant_alpha, CARD_AUTHENTICATION)
    invoice = committed(renewal_issued, subscription)

    beat_at(frozen_now, committed, NOW + 7 * DAY)

    invoice.refresh_from_db()
    subscription.refresh_from_db()
    assert DunningCase.objects.get(invoice=invoice).status == CaseStatus.EXHAUSTED
    assert invoice.status == Invoice.Status.UNCOLLECTIBLE
    assert subscription.status == Subscription.Status.CANCELED
    assert len(stripe.creates(PAYMENT_INTENTS)) == 1


# --- Attacks -------------------------------------------------------------------------------------------------------

def test_a_tenant_cannot_keep_paid_entitlements_forever_by_failing_payments(
        stripe, tenant_alpha, declined, subscription, frozen_now, committed, deliver):
    # Every day a fresh card that fails, hoping each one restarts the schedule and the grace period.
    for day in range(1, 8):
        frozen_now.move_to(NOW + day * DAY - timedelta(hours=1))
        card_changed(stripe, tenant_alpha, CARD_DECLINED, deliver)
        beat_at(frozen_now, committed, NOW + day * DAY)
    beat_at(frozen_now, committed, NOW + 30 * DAY)

    subscription.refresh_from_db()
    declined.refresh_from_db()
    case = DunningCase.objects.get(invoice=declined)
    assert (case.started_at, case.status, case.ended_at) == (NOW, CaseStatus.EXHAUSTED, NOW + 7 * DAY)
    assert declined.status == Invoice.Status.UNCOLLECTIBLE
    assert subscription.status == Subscription.Status.CANCELED
    assert entitlements_for(tenant=tenant_alpha, now=NOW + 7 * DAY).plan_code == "free"
    # One charge per card change and per scheduled day, nothing after the end.
    assert max(payment.created_at for payment in Payment.objects.filter(invoice=declined)) <= NOW + 7 * DAY
