"""The demo's year of revenue history (`revenue_demo_seed`): told through the real services and billing run, it
leaves a dashboard whose figures reconcile with the subscriptions and invoices it wrote."""

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest
import time_machine
from django.core.management import call_command
from django.db import transaction
from django.db.models import Sum

from billing.analytics.selectors import revenue_headlines, revenue_months, snapshot_latest_day
from billing.management.commands.revenue_demo_seed import CUSTOMERS, history_start, story_build
from billing.models import CreditNote, Invoice, RevenueSnapshot, Subscription, SubscriptionEvent
from tenants.models import Tenant
from tenants.schemas import schema_is_present
from tests.support.factories import OpsUserFactory

NOW = datetime(2026, 12, 2, 10, 30, tzinfo=UTC)
LAST_DAY = NOW.date() - timedelta(days=1)
FINALISED = [Invoice.Status.OPEN, Invoice.Status.PAID, Invoice.Status.UNCOLLECTIBLE]
CENT = Decimal("0.01")

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker) -> None:
    """Seeded once per module inside a transaction rolled back after the module's last test (the tests read)."""
    with django_db_blocker.unblock(), transaction.atomic(), time_machine.travel(NOW, tick=False):
        call_command("revenue_demo_seed")
        yield
        transaction.set_rollback(True)


def normalised_mrr(subscription: Subscription) -> Decimal:
    price = subscription.price
    recurring = price.fixed_amount + price.per_seat_amount * max(subscription.quantity - price.included_seats, 0)
    return recurring / {"month": 1, "quarter": 3, "year": 12}[price.interval]


def months_total(currency: str, name: str) -> Decimal:
    return sum((getattr(figure, name) for figure in revenue_months(currency=currency, day=LAST_DAY)), Decimal(0))


@pytest.mark.parametrize("currency", ["USD", "EUR"])
def test_the_dashboard_mrr_is_the_sum_of_the_live_subscriptions_normalised_prices(seeded, currency):
    paying = Subscription.objects.filter(status__in=["active", "past_due"], price__currency=currency)
    expected = sum((normalised_mrr(subscription) for subscription in paying.select_related("price")), Decimal(0))
    headline = {headline.currency: headline for headline in revenue_headlines(day=LAST_DAY)}[currency]
    assert paying.exists()
    assert headline.mrr.quantize(CENT) == expected.quantize(CENT)


@pytest.mark.parametrize("currency", ["USD", "EUR"])
def test_cash_collected_is_the_sum_of_the_paid_invoices(seeded, currency):
    paid = Invoice.objects.filter(currency=currency, status=Invoice.Status.PAID)
    assert months_total(currency, "cash_collected") == paid.aggregate(total=Sum("amount_paid"))["total"]


@pytest.mark.parametrize("currency", ["USD", "EUR"])
def test_invoiced_is_the_sum_of_the_finalised_invoices(seeded, currency):
    finalised = Invoice.objects.filter(currency=currency, status__in=FINALISED)
    assert months_total(currency, "invoiced") == finalised.aggregate(total=Sum("total"))["total"]


def test_each_month_reconciles_with_the_invoices_issued_and_paid_in_it(seeded):
    issued, paid = defaultdict(Decimal), defaultdict(Decimal)
    for invoice in Invoice.objects.filter(currency="USD", status__in=FINALISED):
        issued[invoice.issued_at.date().replace(day=1)] += invoice.total
        if invoice.status == Invoice.Status.PAID:
            paid[invoice.paid_at.date().replace(day=1)] += invoice.amount_paid
    for figure in revenue_months(currency="USD", day=LAST_DAY):
        assert (figure.invoiced, figure.cash_collected) == (issued[figure.month], paid[figure.month]), figure.month


def test_every_day_of_the_twelve_month_window_is_snapshotted(seeded):
    first = history_start(NOW).date() - timedelta(days=1)
    assert snapshot_latest_day() == LAST_DAY
    assert RevenueSnapshot.objects.filter(day__gte=first).count() == (LAST_DAY - first).days + 1
    assert all(figure.complete for figure in revenue_months(currency="USD", day=LAST_DAY)[:-1])


def test_the_year_has_every_kind_of_movement(seeded):
    months = revenue_months(currency="USD", day=LAST_DAY)
    for name in ("new", "expansion", "contraction", "churned", "reactivation", "trials_converted", "trials_lost"):
        assert sum(getattr(figure, name) for figure in months) > 0, name
    assert months_total("USD", "failed_count") >= 2 and months_total("USD", "recovered_count") >= 1
    assert CreditNote.objects.count() == 1
    assert Subscription.objects.filter(status=Subscription.Status.PAST_DUE).count() == 1
    assert set(Subscription.objects.values_list("price__interval", flat=True)) == {"month", "quarter", "year"}


def test_the_dashboard_page_shows_the_seeded_mrr_to_ops(seeded, public_client):
    public_client.force_login(OpsUserFactory())
    usd = revenue_headlines(day=LAST_DAY)[0]

    with time_machine.travel(NOW, tick=False):
        response = public_client.get("/admin/billing/revenuesnapshot/")

    page = response.content.decode()
    assert response.status_code == 200 and 'id="headline-EUR"' in page
    assert f"{usd.mrr.quantize(CENT, ROUND_HALF_UP):,} USD" in page


def test_each_customer_is_a_tenant_with_its_own_schema(seeded):
    slugs = story_build(start=history_start(NOW), days=365).names
    tenants = Tenant.objects.filter(slug__in=slugs)
    assert tenants.count() == CUSTOMERS
    assert all(schema_is_present(tenant.schema_name) for tenant in tenants)


def test_a_second_run_changes_nothing(seeded):
    counts = (Tenant.objects.count(), Subscription.objects.count(), SubscriptionEvent.objects.count(),
              Invoice.objects.count(), RevenueSnapshot.objects.count())

    with time_machine.travel(NOW, tick=False):
        call_command("revenue_demo_seed")

    assert (Tenant.objects.count(), Subscription.objects.count(), SubscriptionEvent.objects.count(),
            Invoice.objects.count(), RevenueSnapshot.objects.count()) == counts


def test_a_run_days_later_snapshots_only_the_days_that_ended_since(seeded):
    invoices = Invoice.objects.count()

    with time_machine.travel(NOW + timedelta(days=2), tick=False):
        call_command("revenue_demo_seed")

    assert snapshot_latest_day() == LAST_DAY + timedelta(days=2)
    assert Invoice.objects.count() == invoices


def test_the_story_is_the_same_on_every_machine():
    start = datetime(2026, 1, 1, tzinfo=UTC)
    first, again = story_build(start=start, days=335), story_build(start=start, days=335)
    assert [(step.at, step.slug, step.action, step.args) for step in first.steps] == [
        (step.at, step.slug, step.action, step.args) for step in again.steps]
