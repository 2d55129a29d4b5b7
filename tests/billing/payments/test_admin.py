"""Ops admin of the payment rail: dunning cases (read-only; retry now and close through dunning's services),
payment attempts (read-only, linked to their invoice and PaymentIntent), and the ops home's payment queues."""

from datetime import timedelta
from decimal import Decimal

import pytest

from billing.models import DunningCase, Invoice, Payment
from tests.support.clock import NOW
from tests.support.factories import OpsUserFactory
from tests.support.payments import stripe_invoice

DAY = timedelta(days=1)
CASES = "/admin/billing/dunningcase/"
PAYMENTS = "/admin/billing/payment/"


@pytest.fixture(autouse=True)
def own_series(settings):
    settings.BILLING_INVOICE_SERIES, settings.BILLING_CREDIT_NOTE_SERIES = "ZA", "ZB"


@pytest.fixture
def admin_client(public_client, db):
    public_client.force_login(OpsUserFactory(is_superuser=True))
    return public_client


@pytest.fixture
def case(tenant_alpha, frozen_now) -> DunningCase:
    """Alpha's invoice whose first charge was declined at NOW: its case waits for the retry on day 1."""
    invoice = stripe_invoice(tenant_alpha, "99.00")
    Payment.objects.create(tenant=tenant_alpha, invoice=invoice, attempt=1, payment_intent_id="pi_declined1",
                           amount=Decimal("99.00"), currency="USD", status=Payment.Status.FAILED,
                           failure_code="card_declined", failure_message="Your card was declined.", created_at=NOW,
                           settled_at=NOW)
    return DunningCase.objects.create(tenant=tenant_alpha, invoice=invoice, started_at=NOW, last_attempt=1,
                                      next_attempt_at=NOW + DAY)


@pytest.fixture
def enqueued(monkeypatch) -> list[dict]:
    """The charges dunning enqueues (instead of charging)."""
    from billing.payments import dunning

    charges = []
    monkeypatch.setattr(dunning.invoice_charge_task, "delay", lambda **kwargs: charges.append(kwargs))
    return charges


@pytest.fixture
def action(admin_client, django_capture_on_commit_callbacks):
    """Run a list action on cases as a committed request: what it leaves for after commit (the charge) runs."""
    def run(name: str, *cases: DunningCase):
        with django_capture_on_commit_callbacks(execute=True):
            return admin_client.post(CASES, {"action": name, "_selected_action": [c.pk for c in cases]},
                                     follow=True)
    return run


def test_the_case_list_shows_invoice_tenant_status_attempts_and_next_attempt(admin_client, case):
    response = admin_client.get(CASES)

    row = response.content.decode()
    assert response.status_code == 200
    assert case.invoice.number in row and "alpha" in row.lower()
    assert "Retrying" in row


def test_ops_cannot_add_or_delete_a_case_or_save_one(admin_client, case):
    page = admin_client.get(f"{CASES}{case.pk}/change/")

    assert admin_client.get(f"{CASES}add/").status_code == 403
    assert admin_client.get(f"{CASES}{case.pk}/delete/").status_code == 403
    assert b'name="_save"' not in page.content


def test_retry_now_charges_a_new_attempt_at_once(action, case, stripe, enqueued):
    response = action("retry_now", case)

    case.refresh_from_db()
    assert b"Retried: 1 case(s)." in response.content
    assert enqueued == [{"invoice_id": case.invoice_id, "attempt": 2}]
    # Nothing was due yet: the schedule keeps its next slot.
    assert (case.status, case.last_attempt, case.retries_made, case.next_attempt_at) == (
        DunningCase.Status.ACTIVE, 2, 0, NOW + DAY)


def test_retry_now_without_stripe_charges_nothing(action, case, settings, enqueued):
    settings.STRIPE_SECRET_KEY = ""

    response = action("retry_now", case)

    assert b"Stripe is not configured" in response.content
    assert enqueued == []


def test_close_stops_dunning_and_leaves_the_invoice_open(action, case):
    response = action("close", case)

    case.refresh_from_db()
    assert b"Closed: 1 case(s)." in response.content
    assert (case.status, case.ended_at, case.next_attempt_at) == (DunningCase.Status.CLOSED, NOW, None)
    assert Invoice.objects.get(pk=case.invoice_id).status == Invoice.Status.OPEN


def test_an_ended_case_is_neither_retried_nor_closed_again(action, case, stripe, enqueued):
    action("close", case)

    retried = action("retry_now", case)
    closed = action("close", case)

    assert b"This dunning case has ended." in retried.content
    assert b"This dunning case has ended." in closed.content
    assert enqueued == []


def test_the_payment_list_shows_status_failure_and_links_to_the_invoice_and_stripe(admin_client, case):
    response = admin_client.get(PAYMENTS)

    content = response.content.decode()
    assert response.status_code == 200
    assert f"/admin/billing/invoice/{case.invoice_id}/change/" in content
    assert "https://dashboard.stripe.com/test/payments/pi_declined1" in content
    assert "card_declined" in content


def test_payments_are_read_only(admin_client, case):
    payment = Payment.objects.get(invoice=case.invoice)

    assert admin_client.get(f"{PAYMENTS}add/").status_code == 403
    assert admin_client.get(f"{PAYMENTS}{payment.pk}/delete/").status_code == 403
    assert admin_client.post(f"{PAYMENTS}{payment.pk}/change/", {"status": "succeeded"}).status_code == 403


def test_the_ops_home_counts_payments_in_dunning_and_awaiting_the_cardholder(admin_client, case, tenant_beta):
    waiting = stripe_invoice(tenant_beta, "20.00")
    Payment.objects.create(tenant=tenant_beta, invoice=waiting, attempt=1, payment_intent_id="pi_sca1",
                           amount=Decimal("20.00"), currency="USD", status=Payment.Status.REQUIRES_ACTION,
                           created_at=NOW)

    response = admin_client.get("/admin/")

    queues = {queue.label: queue for queue in response.context["attention_queues"]}
    assert queues["Payments in dunning"].count == 1
    assert queues["Payments awaiting customer action (SCA)"].count == 1
    for label in ("Payments in dunning", "Payments awaiting customer action (SCA)"):
        assert admin_client.get(queues[label].url).status_code == 200
