"""The demo's billing: what `./dev up` shows on acme's, sprout's and northwind's billing pages."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from billing.models import CreditNote, Invoice, InvoiceLine, Price, ServiceQuote, Subscription
from billing.subscriptions.services import subscription_start
from tenants.models import Tenant
from tenants.services import tenant_provision

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_tenants() -> dict[str, Tenant]:
    return {slug: tenant_provision(name=slug.title(), slug=slug, owner_email=f"owner@{slug}.test",
                                   owner_password=None).tenant
            for slug in ("acme", "northwind", "sprout")}


def test_acme_has_three_months_of_pro_invoices_with_overage_a_coupon_and_a_credit_note(demo_tenants):
    call_command("billing_demo_seed")

    acme = demo_tenants["acme"]
    subscription = Subscription.objects.get(tenant=acme)
    invoices = list(Invoice.objects.filter(tenant=acme, billing_reason__in=["subscription_create",
                                                                            "subscription_cycle"])
                    .order_by("created_at"))
    assert (subscription.price.code, subscription.status) == ("pro-month-usd", Subscription.Status.ACTIVE)
    assert len(invoices) == 4 and all(invoice.number for invoice in invoices)
    assert [invoice.status for invoice in invoices] == ["paid", "paid", "paid", "open"]
    assert invoices[0].discount_total > 0
    assert InvoiceLine.objects.filter(invoice__tenant=acme, kind="usage", meter_code="api_calls",
                                      amount__gt=0).count() == 1
    assert CreditNote.objects.filter(tenant=acme).count() == 1
    assert sum(invoice.credit_applied for invoice in invoices) == Decimal("10.00")
    assert ServiceQuote.objects.filter(tenant=acme, status=ServiceQuote.Status.QUOTED).count() == 1


def test_sprout_is_trialing_until_two_days_from_now_and_northwind_is_on_agency(demo_tenants):
    call_command("billing_demo_seed")

    sprout = Subscription.objects.get(tenant=demo_tenants["sprout"])
    northwind = Subscription.objects.get(tenant=demo_tenants["northwind"])
    assert sprout.status == Subscription.Status.TRIALING
    assert abs(sprout.trial_end - (timezone.now() + timedelta(days=2))) < timedelta(minutes=5)
    assert (northwind.plan.code, northwind.status) == ("agency", Subscription.Status.ACTIVE)


def test_a_second_demo_seed_changes_nothing(demo_tenants):
    # Every demo tenant already subscribed: the seed skips them all (the first test covers a full seed).
    for slug, price in (("acme", "pro-month-usd"), ("sprout", "starter-month-usd"), ("northwind", "agency-month-usd")):
        subscription_start(tenant=demo_tenants[slug], price=Price.objects.get(code=price), actor="ops", trial=False,
                           now=timezone.now())
    counts = (Subscription.objects.count(), Invoice.objects.count(), CreditNote.objects.count(),
              ServiceQuote.objects.count())

    call_command("billing_demo_seed")

    assert (Subscription.objects.count(), Invoice.objects.count(), CreditNote.objects.count(),
            ServiceQuote.objects.count()) == counts
