"""A hand-built revenue history, January to April 2026, played through the billing services and the billing run
under a frozen clock, then snapshotted by `revenue_backfill` on May 1 at 02:00 UTC (the days from December 31
2025 to April 30 2026). Every figure the tests expect is worked out by hand from this story.

Catalogue (USD unless said): Starter 20.00/month (API calls at 0.01 each); Pro 100.00/month with 3 seats
included and 10.00 per extra seat; Pro with a 14-day trial (same amounts); Pro yearly 1,200.00 (100.00 a month);
Business 300.00/month with 5 seats included; Pro EUR 90.00/month. LOYAL10 is 10 % off forever.

The story (every period anniversary-anchored at 00:00 UTC; invoices are paid when issued unless said):
- Jan 1:  A starts Pro with 3 seats (MRR 100), B Starter (20), C Pro yearly (1,200 ÷ 12 = 100), D Pro EUR (90 EUR).
- Jan 10: E and F start Pro trials (MRR 0). Jan 12: F cancels at the trial's end.
- Jan 24: the trials end: E converts (new, 100), F is canceled (a lost trial). B used 500 calls in January.
- Feb 1:  the run renews A, B and D (B's invoice bills the 500 calls: 5.00 of usage).
- Feb 10: A upgrades to Business, 3 seats (300: expansion 200).
- Feb 15: B used 100 calls on Feb 5 and cancels now (churned 20; the cancel invoice bills 1.00 of usage).
- Feb 20: E goes from 3 to 5 seats (100 + 2 × 10 = 120: expansion 20).
- Mar 5:  B subscribes to Starter again (reactivation 20); B never pays again: its invoices of Mar 5 (20.00,
          due Mar 19) and Apr 5 (20.00, due Apr 19) are failed payments, and B is past due from the Mar 24 run.
- Mar 10: A schedules a downgrade to Pro (3 seats) at its period's end, Apr 1.
- Mar 12: A buys a 1,000,000-token pack (100.00, paid the same day): AI-token revenue.
- Mar 15: G starts Pro with LOYAL10 (100 - 10 % = 90: new 90). Its first invoice (90.00, due Mar 29) is paid
          on Apr 5: a failed payment, recovered.
- Mar 20: a 10.00 credit note on A's first invoice.
- Apr 1:  the run moves A to Pro (100: contraction 200).
- Apr 10: E pauses (MRR 0: churned 120). Apr 25: E resumes (reactivation 120)."""

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import time_machine
from django.db import transaction

from billing.analytics.services import revenue_backfill
from billing.invoicing.run import billing_run
from billing.invoicing.services import credit_note_issue
from billing.models import Invoice, Price, Subscription
from billing.subscriptions.services import (
    subscription_cancel,
    subscription_change,
    subscription_pause,
    subscription_resume,
)
from billing.token_packs import token_pack_purchase
from config.money import Money
from metering.models import Meter, TokenPack
from tenants.models import Tenant
from tests.support.billing import (
    ACTOR,
    calls_record,
    coupon_with_code,
    invoice_pay,
    price_with_usage,
    subscription_started,
)
from tests.support.factories import MeterFactory, PlanFactory, PriceFactory

D = Decimal


def at(day: int, month: int) -> datetime:
    return datetime(2026, month, day, tzinfo=UTC)


SNAPSHOT_NOW = datetime(2026, 5, 1, 2, 0, tzinfo=UTC)
FIRST_DAY = datetime(2025, 12, 31, tzinfo=UTC).date()


@dataclass(frozen=True)
class History:
    a: Tenant
    b: Tenant
    c: Tenant
    d: Tenant
    e: Tenant
    f: Tenant
    g: Tenant
    plans: dict


def _settle(when: datetime, *, unpaid: set[int], late: set[int]) -> None:
    """Ops record the payment of every open invoice except those of `unpaid` tenants and the `late` invoices."""
    for invoice in Invoice.objects.filter(status=Invoice.Status.OPEN).exclude(tenant_id__in=unpaid).exclude(
            pk__in=late):
        invoice_pay(invoice, at=when)


@pytest.fixture(scope="module")
def history(django_db_setup, django_db_blocker) -> History:
    """Built once per test module inside a transaction that is rolled back after the module's last test (each
    test's own transaction nests in it as a savepoint, as with TestCase.setUpTestData). The tests only read."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield _history_build()
        transaction.set_rollback(True)


def _tenants(*slugs: str) -> list[Tenant]:
    """Tenant rows without schemas (the billing services and the snapshot never enter a tenant's schema here):
    provisioning five schemas would cost seconds."""
    return Tenant.objects.bulk_create(Tenant(schema_name=f"history_{slug}", name=f"History {slug}", slug=slug,
                                             billing_email=f"billing@{slug}.test") for slug in slugs)


def _history_build() -> History:
    calls: Meter = MeterFactory(code="history_calls", aggregation=Meter.Aggregation.COUNT)
    starter_plan = PlanFactory(code="h-starter", name="Starter", sort_order=1)
    pro_plan = PlanFactory(code="h-pro", name="Pro", sort_order=2)
    business_plan = PlanFactory(code="h-business", name="Business", sort_order=3)
    starter = price_with_usage(plan=starter_plan, code="h-starter-month", fixed_amount=D("20.00"),
                               charges=[{"meter": calls, "name": "API calls", "unit_name": "calls",
                                         "charge_model": "standard", "properties": {"unit_amount": "0.01"}}])
    seats = {"plan": pro_plan, "per_seat_amount": D("10.00"), "included_seats": 3}
    pro = PriceFactory(code="h-pro-month", fixed_amount=D("100.00"), **seats)
    pro_trial = PriceFactory(code="h-pro-trial", fixed_amount=D("100.00"), trial_days=14, **seats)
    pro_year = PriceFactory(code="h-pro-year", interval=Price.Interval.YEAR, fixed_amount=D("1200.00"), **seats)
    business = PriceFactory(plan=business_plan, code="h-business-month", fixed_amount=D("300.00"),
                            included_seats=5, per_seat_amount=D("10.00"))
    pro_eur = PriceFactory(plan=pro_plan, code="h-pro-month-eur", currency="EUR", fixed_amount=D("90.00"),
                           included_seats=3)
    coupon_with_code(code="LOYAL10", percent_off=D("10"), duration="forever")
    a, b = Tenant.objects.get(slug="alpha"), Tenant.objects.get(slug="beta")
    c, d, e, f, g = _tenants("hist-c", "hist-d", "hist-e", "hist-f", "hist-g")
    unpaid: set[int] = set()
    late: set[int] = set()

    def run(when: datetime) -> None:
        traveller.move_to(when)
        billing_run(now=when)
        _settle(when, unpaid=unpaid, late=late)

    def sub(tenant: Tenant) -> Subscription:
        return Subscription.objects.get(tenant=tenant, status__in=["trialing", "active", "past_due", "paused"])

    with time_machine.travel(at(1, 1), tick=False) as traveller:
        subscription_started(a, pro, at=at(1, 1), quantity=3)
        subscription_started(b, starter, at=at(1, 1))
        subscription_started(c, pro_year, at=at(1, 1))
        subscription_started(d, pro_eur, at=at(1, 1))
        _settle(at(1, 1), unpaid=unpaid, late=late)
        traveller.move_to(at(10, 1))
        subscription_started(e, pro_trial, at=at(10, 1), trial=True)
        subscription_started(f, pro_trial, at=at(10, 1), trial=True)
        traveller.move_to(at(12, 1))
        subscription_cancel(subscription=sub(f), actor=ACTOR, now=at(12, 1), at_period_end=True)
        calls_record(b, calls, 500, at=at(20, 1))
        run(at(24, 1))
        run(at(1, 2))
        traveller.move_to(at(5, 2))
        calls_record(b, calls, 100, at=at(5, 2))
        traveller.move_to(at(10, 2))
        subscription_change(subscription=sub(a), price=business, actor=ACTOR, now=at(10, 2))
        _settle(at(10, 2), unpaid=unpaid, late=late)
        traveller.move_to(at(15, 2))
        subscription_cancel(subscription=sub(b), actor=ACTOR, now=at(15, 2), at_period_end=False)
        _settle(at(15, 2), unpaid=unpaid, late=late)
        traveller.move_to(at(20, 2))
        subscription_change(subscription=sub(e), quantity=5, actor=ACTOR, now=at(20, 2))
        _settle(at(20, 2), unpaid=unpaid, late=late)
        run(at(24, 2))
        run(at(1, 3))
        traveller.move_to(at(5, 3))
        unpaid.add(b.pk)
        subscription_started(b, starter, at=at(5, 3))
        traveller.move_to(at(10, 3))
        subscription_change(subscription=sub(a), price=pro, actor=ACTOR, now=at(10, 3))
        traveller.move_to(at(12, 3))
        pack_order = token_pack_purchase(tenant=a, pack=TokenPack.objects.get(code="tokens-1m"), actor=ACTOR,
                                         now=at(12, 3))
        invoice_pay(pack_order.invoice, at=at(12, 3))
        traveller.move_to(at(15, 3))
        subscription_started(g, pro, at=at(15, 3), promotion_code="LOYAL10")
        late.update(Invoice.objects.filter(tenant=g).values_list("pk", flat=True))
        traveller.move_to(at(20, 3))
        credit_note_issue(invoice=Invoice.objects.filter(tenant=a).order_by("created_at", "pk").first(),
                          amount=Money(D("10.00"), "USD"), reason="correction", memo="", actor=ACTOR, now=at(20, 3))
        run(at(24, 3))
        run(at(1, 4))
        traveller.move_to(at(5, 4))
        invoice_pay(Invoice.objects.get(pk__in=late), at=at(5, 4))
        run(at(5, 4))
        traveller.move_to(at(10, 4))
        subscription_pause(subscription=sub(e), actor=ACTOR, now=at(10, 4))
        run(at(15, 4))
        run(at(24, 4))
        traveller.move_to(at(25, 4))
        subscription_resume(subscription=sub(e), actor=ACTOR, now=at(25, 4))
        run(at(25, 4))
        traveller.move_to(SNAPSHOT_NOW)
        revenue_backfill(since=FIRST_DAY, now=SNAPSHOT_NOW)
    return History(a=a, b=b, c=c, d=d, e=e, f=f, g=g,
                   plans={"starter": starter_plan, "pro": pro_plan, "business": business_plan})
