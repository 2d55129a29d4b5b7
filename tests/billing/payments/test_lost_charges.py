"""Charges lost on their way: the charge task is acknowledged late (a killed worker gives its message back, and
running it again charges once), and the lost-charge beat job asks again, with the same attempt, for a charge
that never ran: an invoice's first charge, or a dunning retry."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django_celery_beat.models import PeriodicTask

from billing.invoicing.services import invoice_finalize
from billing.invoicing.totals import invoice_totals_apply
from billing.models import DunningCase, Invoice, InvoiceLine, Payment, Price, Subscription
from billing.payments import services
from billing.payments.dunning import dunning_close, dunning_retries_run
from billing.payments.lost_charges import invoice_charges_lost, invoice_charges_lost_requeue
from billing.payments.services import invoice_charge_idempotency_key, stripe_customer_ensure
from billing.payments.tasks import invoice_charge_task
from billing.tasks import invoice_charges_lost_requeue_task
from devtools.stripe_fake import CARD_DECLINED
from tests.support.billing import invoice_pay, subscription_started
from tests.support.clock import NOW
from tests.support.payments import card_on_file, stripe_invoice

Status = Payment.Status
DAY = timedelta(days=1)
PAYMENT_INTENTS = "/v1/payment_intents"


@pytest.fixture(autouse=True)
def own_series(settings):
    settings.BILLING_INVOICE_SERIES, settings.BILLING_CREDIT_NOTE_SERIES = "ZL", "ZM"
    settings.BILLING_CHARGE_LOST_AFTER_MINUTES = 15


def after(minutes: int):
    return NOW + timedelta(minutes=minutes)


def charges_of(stripe, invoice: Invoice, attempt: int) -> list:
    key = invoice_charge_idempotency_key(invoice, attempt)
    return [request for request in stripe.creates(PAYMENT_INTENTS) if request.idempotency_key == key]


class WorkerKilled(BaseException):
    """What the process sees of a SIGKILL: nothing after this point runs, nothing is committed."""


# --- Redelivery --------------------------------------------------------------------------------------------------

def test_the_charge_task_is_acknowledged_only_once_it_has_run():
    assert invoice_charge_task.acks_late is True
    assert invoice_charge_task.reject_on_worker_lost is True


def test_a_charge_redelivered_after_its_worker_died_once_stripe_charged_records_one_payment(
        stripe, tenant_alpha, monkeypatch):
    card_on_file(stripe, tenant_alpha)
    invoice = stripe_invoice(tenant_alpha)
    apply = services.payment_intent_apply

    def killed_after_stripe_answered(**kwargs):
        raise WorkerKilled
    monkeypatch.setattr(services, "payment_intent_apply", killed_after_stripe_answered)
    with pytest.raises(WorkerKilled):
        invoice_charge_task.delay(invoice_id=invoice.pk, attempt=1)
    monkeypatch.setattr(services, "payment_intent_apply", apply)

    redelivered = invoice_charge_task.delay(invoice_id=invoice.pk, attempt=1).get()

    invoice.refresh_from_db()
    assert (redelivered, invoice.status) == (Status.SUCCEEDED, Invoice.Status.PAID)
    assert len(stripe.of_type("payment_intent")) == 1
    assert Payment.objects.filter(invoice=invoice).count() == 1


def test_a_charge_redelivered_after_it_was_recorded_changes_nothing(stripe, tenant_alpha):
    card_on_file(stripe, tenant_alpha)
    invoice = stripe_invoice(tenant_alpha)
    invoice_charge_task.delay(invoice_id=invoice.pk, attempt=1).get()

    invoice_charge_task.delay(invoice_id=invoice.pk, attempt=1).get()

    assert len(stripe.of_type("payment_intent")) == 1
    assert len(stripe.creates(PAYMENT_INTENTS)) == 1
    assert Payment.objects.filter(invoice=invoice).count() == 1


# --- A first charge lost -----------------------------------------------------------------------------------------

def test_a_first_charge_lost_on_its_way_is_charged_with_attempt_1(stripe, tenant_alpha):
    card_on_file(stripe, tenant_alpha)
    invoice = stripe_invoice(tenant_alpha)  # finalised, its charge never run

    assert invoice_charges_lost_requeue(now=after(16)) == 1

    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID
    assert list(Payment.objects.filter(invoice=invoice).values_list("attempt", "status")) == [(1, Status.SUCCEEDED)]
    assert len(charges_of(stripe, invoice, 1)) == 1


def test_a_charge_asked_for_recently_is_left_to_its_task(stripe, tenant_alpha):
    card_on_file(stripe, tenant_alpha)
    invoice = stripe_invoice(tenant_alpha)

    assert invoice_charges_lost_requeue(now=after(14)) == 0
    assert stripe.creates(PAYMENT_INTENTS) == []
    assert Invoice.objects.get(pk=invoice.pk).status == Invoice.Status.OPEN


def test_an_attempt_recorded_as_failed_is_not_charged_again(stripe, tenant_alpha):
    card_on_file(stripe, tenant_alpha, CARD_DECLINED)
    invoice = stripe_invoice(tenant_alpha)
    invoice_charge_task.delay(invoice_id=invoice.pk, attempt=1).get()

    assert invoice_charges_lost_requeue(now=after(60)) == 0
    assert len(stripe.creates(PAYMENT_INTENTS)) == 1


def test_invoices_collected_by_hand_paid_or_void_are_not_charged(stripe, tenant_alpha):
    card_on_file(stripe, tenant_alpha)
    stripe_invoice(tenant_alpha, collection_method="manual")
    invoice_pay(stripe_invoice(tenant_alpha), at=NOW)

    assert invoice_charges_lost(asked_before=after(60)) == []


def test_without_stripe_nothing_is_asked_for(tenant_alpha):
    stripe_invoice(tenant_alpha)

    assert invoice_charges_lost_requeue(now=after(60)) == 0


def test_a_charge_asked_for_again_while_stripe_is_down_gives_up_until_the_next_run(stripe, tenant_alpha):
    card_on_file(stripe, tenant_alpha)
    invoice = stripe_invoice(tenant_alpha)
    stripe.fail_next(status=503, path=PAYMENT_INTENTS)

    invoice_charges_lost_requeue(now=after(16))  # eager: a retry would raise celery's Retry here
    assert not Payment.objects.filter(invoice=invoice).exists()

    assert invoice_charges_lost_requeue(now=after(26)) == 1
    assert Invoice.objects.get(pk=invoice.pk).status == Invoice.Status.PAID
    assert len(stripe.of_type("payment_intent")) == 1


# --- A dunning retry lost ------------------------------------------------------------------------------------------

@pytest.fixture
def in_dunning(stripe, tenant_alpha, frozen_now, django_capture_on_commit_callbacks):
    """A renewal of alpha's Pro subscription whose first charge (attempt 1, at NOW) was declined: its dunning
    case is open, its first retry due a day later."""
    started = subscription_started(tenant_alpha, Price.objects.get(code="pro-month-usd"), at=NOW - DAY)
    for opened in Invoice.objects.filter(subscription=started, status=Invoice.Status.OPEN):
        invoice_pay(opened, at=NOW - DAY)
    Subscription.objects.filter(pk=started.pk).update(collection_method="stripe")
    card_on_file(stripe, tenant_alpha, CARD_DECLINED)
    invoice = Invoice.objects.create(tenant=tenant_alpha, subscription=started, currency="USD",
                                     billing_reason=Invoice.Reason.SUBSCRIPTION_CYCLE, collection_method="stripe",
                                     created_at=NOW)
    InvoiceLine.objects.create(invoice=invoice, kind=InvoiceLine.Kind.FIXED, description="Pro plan",
                               amount_exact=Decimal("99.00"), amount=Decimal("99.00"))
    invoice_totals_apply(invoice=invoice)
    with django_capture_on_commit_callbacks(execute=True):
        invoice_finalize(invoice=invoice, now=NOW)
    assert DunningCase.objects.get(invoice=invoice).last_attempt == 1
    return invoice


def retry_asked_and_lost(at) -> None:
    """The dunning run asks for its retry; the message never reaches a worker (its on-commit enqueue not run)."""
    assert dunning_retries_run(now=at).retried == 1


def test_a_lost_dunning_retry_is_charged_with_the_attempt_dunning_asked_for(stripe, tenant_alpha, in_dunning):
    retry_asked_and_lost(NOW + DAY)
    case = DunningCase.objects.get(invoice=in_dunning)
    assert (case.last_attempt, case.last_attempt_asked_at) == (2, NOW + DAY)
    stripe.card_attach(stripe_customer_ensure(tenant=tenant_alpha).id)

    assert invoice_charges_lost_requeue(now=NOW + DAY + timedelta(minutes=16)) == 1

    in_dunning.refresh_from_db()
    assert in_dunning.status == Invoice.Status.PAID
    assert list(Payment.objects.filter(invoice=in_dunning).order_by("attempt").values_list("attempt", "status")) == [
        (1, Status.FAILED), (2, Status.SUCCEEDED)]
    assert len(charges_of(stripe, in_dunning, 2)) == 1


def test_a_dunning_retry_asked_for_recently_is_left_to_its_task(stripe, in_dunning):
    retry_asked_and_lost(NOW + DAY)

    assert invoice_charges_lost_requeue(now=NOW + DAY + timedelta(minutes=14)) == 0
    assert Payment.objects.filter(invoice=in_dunning, attempt=2).exists() is False


def test_a_dunning_case_whose_last_attempt_failed_asks_for_nothing(in_dunning):
    assert invoice_charges_lost(asked_before=NOW + 2 * DAY) == []


def test_a_closed_dunning_case_asks_for_nothing_even_with_its_retry_lost(in_dunning):
    retry_asked_and_lost(NOW + DAY)
    dunning_close(case=DunningCase.objects.get(invoice=in_dunning), actor="ops", now=NOW + DAY)

    assert invoice_charges_lost(asked_before=NOW + 2 * DAY) == []


# --- The beat job --------------------------------------------------------------------------------------------------

def test_the_lost_charge_job_runs_every_10_minutes(db):
    job = PeriodicTask.objects.get(task="billing.invoice_charges_lost_requeue")

    assert (job.enabled, job.interval.every, job.interval.period) == (True, 10, "minutes")


def test_the_lost_charge_job_charges_what_was_lost(stripe, tenant_alpha, frozen_now):
    card_on_file(stripe, tenant_alpha)
    invoice = stripe_invoice(tenant_alpha)
    frozen_now.move_to(after(16))

    assert invoice_charges_lost_requeue_task.delay().get() == 1
    assert Invoice.objects.get(pk=invoice.pk).status == Invoice.Status.PAID
