"""Disputes through dj-stripe's real endpoint (the Dispute re-fetched from the fake): one row per dp_, linked to our
payment, invoice and tenant; opened and closed once each whatever the order, duplicates or delay; ops told once;
invoice_disputed / invoice_dispute_closed sent once; a lost dispute counts in disputes_lost_between."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from billing.models import Dispute, Invoice, StripeSettlement
from billing.payments.disputes import dispute_apply
from billing.payments.events import invoice_dispute_closed, invoice_disputed
from billing.payments.selectors import disputes_lost_between
from billing.payments.services import invoice_charge
from billing.payments.stripe_api import dispute_from_data
from devtools.stripe_fake import webhook_post
from notifications.categories import Category
from notifications.models import Notification
from tests.support.clock import NOW
from tests.support.factories import OpsUserFactory
from tests.support.payments import card_on_file, stripe_invoice

Kind = StripeSettlement.Kind


@pytest.fixture(autouse=True)
def own_series(settings):
    settings.BILLING_INVOICE_SERIES, settings.BILLING_CREDIT_NOTE_SERIES = "DP", "DC"


@pytest.fixture
def deliver(public_client, webhook_endpoint, django_capture_on_commit_callbacks):
    """POST an event, signed, with the on-commit callbacks (the signals) run."""
    def post(event, *, expect=200, **signing):
        with django_capture_on_commit_callbacks(execute=True):
            response = webhook_post(public_client, webhook_endpoint, event, **signing)
        assert response.status_code == expect, response.content
        return response
    return post


@pytest.fixture
def told():
    """What the dispute signals said: ("disputed", invoice id, dp_) and ("closed", invoice id, dp_, won)."""
    heard = []
    invoice_disputed.connect(lambda sender, invoice, dispute, **kw: heard.append(
        ("disputed", invoice.pk, dispute.dispute_id)), weak=False, dispatch_uid="test-disputed")
    invoice_dispute_closed.connect(lambda sender, invoice, dispute, won, **kw: heard.append(
        ("closed", invoice.pk, dispute.dispute_id, won)), weak=False, dispatch_uid="test-dispute-closed")
    yield heard
    invoice_disputed.disconnect(dispatch_uid="test-disputed")
    invoice_dispute_closed.disconnect(dispatch_uid="test-dispute-closed")


def paid_by_card(stripe, tenant) -> Invoice:
    card_on_file(stripe, tenant)
    invoice = stripe_invoice(tenant, "25.00")
    invoice_charge(invoice=invoice, attempt=1, now=NOW)
    return Invoice.objects.get(pk=invoice.pk)


def disputed(stripe, invoice) -> dict:
    charge_id = stripe.get(invoice.payments.get().payment_intent_id)["latest_charge"]
    return stripe.dispute_open(charge_id)


def test_an_opened_dispute_is_recorded_against_our_payment_and_invoice(stripe, tenant_alpha, deliver):
    invoice = paid_by_card(stripe, tenant_alpha)
    dispute = disputed(stripe, invoice)

    deliver(stripe.event("charge.dispute.created", dispute["id"]))

    row = Dispute.objects.get(dispute_id=dispute["id"])
    assert (row.tenant_id, row.invoice_id, row.payment_id) == (tenant_alpha.pk, invoice.pk, invoice.payments.get().pk)
    assert (row.status, row.amount, row.reason, row.is_open) == ("needs_response", Decimal("25.00"), "fraudulent",
                                                                 True)
    assert row.evidence_due_by is not None


def test_a_dispute_delivered_twice_opens_once_and_tells_ops_once(stripe, tenant_alpha, deliver, told):
    ops = OpsUserFactory()
    invoice = paid_by_card(stripe, tenant_alpha)
    dispute = disputed(stripe, invoice)
    event = stripe.event("charge.dispute.created", dispute["id"])

    deliver(event)
    deliver(event)
    deliver(stripe.event("charge.dispute.updated", dispute["id"]))

    assert Dispute.objects.count() == 1
    assert StripeSettlement.objects.filter(kind=Kind.DISPUTE_OPENED, stripe_id=dispute["id"]).count() == 1
    assert Notification.objects.filter(recipient=ops, category=Category.PAYMENT_ALERT).count() == 1
    assert told == [("disputed", invoice.pk, dispute["id"])]


def test_the_tenants_owners_are_not_told_of_a_dispute(stripe, tenant_alpha, deliver):
    invoice = paid_by_card(stripe, tenant_alpha)
    dispute = disputed(stripe, invoice)

    deliver(stripe.event("charge.dispute.created", dispute["id"]))

    from django_tenants.utils import schema_context

    with schema_context(tenant_alpha.schema_name):
        assert not Notification.objects.filter(category=Category.PAYMENT_ALERT).exists()


def test_a_lost_dispute_closes_once_and_says_it_was_lost(stripe, tenant_alpha, deliver, told):
    invoice = paid_by_card(stripe, tenant_alpha)
    dispute = disputed(stripe, invoice)
    deliver(stripe.event("charge.dispute.created", dispute["id"]))
    stripe.dispute_close(dispute["id"], won=False)
    closed = stripe.event("charge.dispute.closed", dispute["id"])

    deliver(closed)
    deliver(closed)

    row = Dispute.objects.get()
    assert (row.status, row.is_open, row.closed_at is not None) == ("lost", False, True)
    assert StripeSettlement.objects.filter(kind=Kind.DISPUTE_CLOSED).count() == 1
    assert told == [("disputed", invoice.pk, dispute["id"]), ("closed", invoice.pk, dispute["id"], False)]


def test_a_won_dispute_says_it_was_won(stripe, tenant_alpha, deliver, told):
    invoice = paid_by_card(stripe, tenant_alpha)
    dispute = disputed(stripe, invoice)
    deliver(stripe.event("charge.dispute.created", dispute["id"]))
    stripe.dispute_close(dispute["id"], won=True)

    deliver(stripe.event("charge.dispute.closed", dispute["id"]))

    assert told[-1] == ("closed", invoice.pk, dispute["id"], True)


def test_a_dispute_closed_before_its_creation_arrives_opens_then_closes_once(stripe, tenant_alpha, deliver, told):
    invoice = paid_by_card(stripe, tenant_alpha)
    dispute = disputed(stripe, invoice)
    created = stripe.event("charge.dispute.created", dispute["id"])
    stripe.dispute_close(dispute["id"], won=False)

    deliver(stripe.event("charge.dispute.closed", dispute["id"]))
    deliver(created)  # late: Stripe's current view is still the closed dispute

    row = Dispute.objects.get()
    assert row.status == "lost"
    assert told == [("disputed", invoice.pk, dispute["id"]), ("closed", invoice.pk, dispute["id"], False)]


def test_an_older_view_of_a_closed_dispute_does_not_reopen_it(stripe, tenant_alpha, deliver):
    invoice = paid_by_card(stripe, tenant_alpha)
    dispute = disputed(stripe, invoice)
    stale = dispute_from_data(stripe.get(dispute["id"]))
    stripe.dispute_close(dispute["id"], won=True)
    deliver(stripe.event("charge.dispute.closed", dispute["id"]))

    dispute_apply(dispute=stale, now=NOW)

    assert Dispute.objects.get().status == "won"


def test_a_dispute_on_a_payment_not_ours_is_recorded_without_a_tenant(stripe, tenant_alpha, deliver, told):
    from billing.payments import stripe_api
    from config.money import Money

    card = card_on_file(stripe, tenant_alpha)
    intent = stripe_api.payment_intent_charge_off_session(
        customer_id=card["customer"], payment_method_id=card["id"], amount=Money(Decimal("5.00"), "USD"),
        description="elsewhere", metadata={}, idempotency_key="not-ours")
    dispute = stripe.dispute_open(intent.latest_charge_id)

    deliver(stripe.event("charge.dispute.created", dispute["id"]))

    row = Dispute.objects.get()
    assert (row.tenant_id, row.invoice_id) == (None, None)
    assert told == []


def test_a_lost_dispute_counts_in_the_cash_taken_back_when_it_closed(stripe, tenant_alpha, deliver):
    invoice = paid_by_card(stripe, tenant_alpha)
    dispute = disputed(stripe, invoice)
    stripe.dispute_close(dispute["id"], won=False)
    deliver(stripe.event("charge.dispute.closed", dispute["id"]))
    now = timezone.now()

    assert disputes_lost_between(start=now - timedelta(hours=1), end=now + timedelta(hours=1)) == {
        "USD": Decimal("25.00")}
    assert disputes_lost_between(start=now + timedelta(hours=1), end=now + timedelta(days=1)) == {}


def test_the_invoice_page_shows_a_lost_dispute(stripe, tenant_alpha, deliver, alpha_owner_client):
    invoice = paid_by_card(stripe, tenant_alpha)
    dispute = disputed(stripe, invoice)
    stripe.dispute_close(dispute["id"], won=False)
    deliver(stripe.event("charge.dispute.closed", dispute["id"]))

    response = alpha_owner_client.get(f"/billing/invoices/{invoice.number}/")

    assert response.status_code == 200
    assert "Dispute lost" in response.content.decode()


@pytest.mark.parametrize("event_type", ["charge.dispute.created", "charge.dispute.updated", "charge.dispute.closed",
                                        "charge.dispute.funds_withdrawn", "charge.dispute.funds_reinstated"])
def test_a_badly_signed_dispute_event_is_refused_and_changes_nothing(stripe, tenant_alpha, deliver, event_type):
    invoice = paid_by_card(stripe, tenant_alpha)
    dispute = disputed(stripe, invoice)

    deliver(stripe.event(event_type, dispute["id"]), secret="whsec_notOurs", expect=400)

    assert not Dispute.objects.exists()


def test_ops_list_open_disputes_read_only(stripe, tenant_alpha, deliver, public_client):
    public_client.force_login(OpsUserFactory())
    invoice = paid_by_card(stripe, tenant_alpha)
    dispute = disputed(stripe, invoice)
    deliver(stripe.event("charge.dispute.created", dispute["id"]))
    row = Dispute.objects.get()

    open_list = public_client.get("/admin/billing/dispute/?open=yes").content.decode()
    closed_list = public_client.get("/admin/billing/dispute/?open=no").content.decode()
    detail = public_client.get(f"/admin/billing/dispute/{row.pk}/change/")
    invoice_admin = public_client.get(f"/admin/billing/invoice/{invoice.pk}/change/").content.decode()

    assert dispute["id"] in open_list and dispute["id"] not in closed_list
    assert detail.status_code == 200 and b'name="_save"' not in detail.content
    assert dispute["id"] in invoice_admin


def test_a_disputed_payment_cannot_also_be_refunded_to_the_card(stripe, tenant_alpha, deliver):
    from billing.invoicing.services import credit_note_issue
    from billing.models import CardRefund, CreditNote
    from billing.payments.errors import CardRefundNotPossible
    from config.money import Money

    invoice = paid_by_card(stripe, tenant_alpha)
    deliver(stripe.event("charge.dispute.created", disputed(stripe, invoice)["id"]))

    with pytest.raises(CardRefundNotPossible):
        credit_note_issue(invoice=invoice, amount=Money(Decimal("25.00"), "USD"), reason="fraudulent", memo="",
                          actor="ops", now=NOW, refund_to=CreditNote.RefundTo.CARD)

    assert not CardRefund.objects.exists()
