"""The demo's card payments (`stripe_demo_seed`), made through the fake's hosted pages and API over HTTP as
`./dev up` makes them: acme's saved card, an invoice it paid by card, a seat charged and refunded to the card,
and northwind's declined card in dunning."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from billing.invoicing.run import billing_run
from billing.invoicing.services import invoice_mark_paid
from billing.models import CardRefund, CreditNote, DunningCase, Invoice, Payment, Price, Subscription
from billing.payments.selectors import default_card_get
from billing.subscriptions.services import subscription_start
from tenants.models import Tenant
from tenants.services import tenant_provision

NOW = timezone.now()

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(stripe) -> dict[str, Tenant]:
    """acme and northwind as billing_demo_seed leaves them, in short: acme on Pro with six seats since a month
    ago, its renewal invoice open (collected by transfer), and northwind on Agency since ten days ago."""
    tenants = {slug: tenant_provision(name=slug.title(), slug=slug, owner_email=f"owner@{slug}.test",
                                      owner_password=None).tenant for slug in ("acme", "northwind")}
    start = NOW - timedelta(days=32)
    acme = subscription_start(tenant=tenants["acme"], price=Price.objects.get(code="pro-month-usd"), quantity=6,
                              actor="owner@acme.test", now=start, trial=False)
    invoice_mark_paid(invoice=Invoice.objects.get(subscription=acme), actor="ops@tollgate.test", now=start)
    billing_run(now=acme.current_period_end + timedelta(minutes=15))
    subscription_start(tenant=tenants["northwind"], price=Price.objects.get(code="agency-month-usd"),
                       actor="owner@northwind.test", now=NOW - timedelta(days=10), trial=False)
    return tenants


def test_acme_saves_a_test_card_that_becomes_its_default_and_pays_its_renewals(demo, stripe):
    call_command("stripe_demo_seed")

    card = default_card_get(tenant=demo["acme"])
    assert card is not None and card.last4 == "4242"
    assert Subscription.objects.get(tenant=demo["acme"], status="active").collection_method == "stripe"


def test_acme_paid_its_open_invoice_by_card_on_the_checkout_page(demo, stripe):
    call_command("stripe_demo_seed")

    cycle = Invoice.objects.filter(tenant=demo["acme"], billing_reason="subscription_cycle").latest("period_end")
    assert cycle.status == Invoice.Status.PAID
    assert Payment.objects.get(invoice=cycle).status == Payment.Status.SUCCEEDED


def test_acme_seat_was_charged_to_the_card_then_refunded_to_it_in_full(demo, stripe):
    call_command("stripe_demo_seed")

    seat = Invoice.objects.get(tenant=demo["acme"], billing_reason="subscription_update")
    refund = CardRefund.objects.get(invoice=seat)
    assert (seat.status, seat.collection_method) == (Invoice.Status.PAID, "stripe")
    assert Payment.objects.get(invoice=seat).source == Payment.Source.OFF_SESSION
    assert refund.status == CardRefund.Status.SUCCEEDED and refund.amount == seat.amount_paid > Decimal(0)
    assert refund.credit_note.refund_to == CreditNote.RefundTo.CARD
    assert sum(r["amount"] for r in stripe.of_type("refund")) == int(seat.amount_paid * 100)


def test_northwind_card_is_declined_and_its_invoice_is_in_dunning(demo, stripe, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        call_command("stripe_demo_seed")

    northwind = demo["northwind"]
    case = DunningCase.objects.get(tenant=northwind)
    assert default_card_get(tenant=northwind).last4 == "0002"
    assert case.status == DunningCase.Status.ACTIVE and case.next_attempt_at is not None
    assert Payment.objects.get(invoice=case.invoice).status == Payment.Status.FAILED
    assert Subscription.objects.get(tenant=northwind, status__in=["active", "past_due"]).status == "past_due"


def test_a_second_run_changes_nothing(demo, stripe, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        call_command("stripe_demo_seed")
    counts = (Payment.objects.count(), Invoice.objects.count(), CreditNote.objects.count(),
              DunningCase.objects.count(), len(stripe.of_type("payment_intent")), len(stripe.of_type("refund")))

    call_command("stripe_demo_seed")

    assert (Payment.objects.count(), Invoice.objects.count(), CreditNote.objects.count(),
            DunningCase.objects.count(), len(stripe.of_type("payment_intent")), len(stripe.of_type("refund"))) == counts


def test_without_stripe_it_says_so_and_does_nothing(demo, capsys):
    with override_settings(STRIPE_SECRET_KEY=""):
        call_command("stripe_demo_seed")

    assert "Stripe is not configured" in capsys.readouterr().out
    assert not Payment.objects.exists()
