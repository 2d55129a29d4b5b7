"""Usage at the edges of billing periods, end to end: periods are half-open [start, end) to the microsecond,
whether they start at midnight or mid-hour (whole hours come from the rollups, the partial ones from the raw
events), for summed, percentage, peak (max) and distinct-count (unique_count) meters. Every invoice is asserted
to the cent and checked by invoice_check. The clock starts on March 1 2026 (conftest)."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from billing.invoicing.run import billing_run
from billing.models import InvoiceLine
from metering.models import Meter
from tests.support.billing import (
    invoice_lines,
    invoice_totals,
    invoices_checked,
    price_with_usage,
    subscription_started,
    totals_expected,
    usage_record,
)
from tests.support.factories import MeterFactory, PlanFactory

D = Decimal
Kind = InvoiceLine.Kind
MAR_1 = datetime(2026, 3, 1, tzinfo=UTC)
APR_1 = datetime(2026, 4, 1, tzinfo=UTC)
MAY_1 = datetime(2026, 5, 1, tzinfo=UTC)
PRO = "Pro (monthly)"
METERED = "Metered (monthly)"
JUST_BEFORE = timedelta(microseconds=1)

pytestmark = pytest.mark.django_db


def at(clock, when: datetime) -> datetime:
    clock.move_to(when)
    return when


def metered_price(**charge):
    """10.00 a month in advance and one standard usage charge."""
    return price_with_usage(plan=PlanFactory(code="scenario-metered", name="Metered"), fixed_amount=D("10.00"),
                            charges=[{"charge_model": "standard", **charge}])


def test_usage_in_the_last_microsecond_of_a_period_is_billed_in_it_and_the_next_instant_in_the_next(
        tenant_alpha, clock, catalogue, calls):
    subscription_started(tenant_alpha, catalogue.pro, at=MAR_1)
    usage_record(tenant_alpha, calls, 1100, at=at(clock, APR_1 - JUST_BEFORE))
    usage_record(tenant_alpha, calls, 1100, at=at(clock, APR_1))

    billing_run(now=APR_1)
    billing_run(now=at(clock, MAY_1))

    start, march, april = invoices_checked(tenant_alpha)
    assert invoice_lines(start) == [(Kind.FIXED, PRO, "99.00")]
    for invoice in (march, april):
        assert invoice_lines(invoice) == [(Kind.USAGE, "API calls: 1,100 calls (1,000 included)", "0.50"),
                                          (Kind.FIXED, PRO, "99.00")]
        assert invoice_totals(invoice) == totals_expected("99.50")


def test_a_period_starting_mid_hour_takes_its_partial_hours_from_the_raw_events(tenant_alpha, clock, catalogue,
                                                                                calls):
    start = datetime(2026, 3, 1, 14, 37, 12, tzinfo=UTC)
    end = datetime(2026, 4, 1, 14, 37, 12, tzinfo=UTC)
    subscription_started(tenant_alpha, catalogue.pro, at=at(clock, start))
    usage_record(tenant_alpha, calls, 700, at=at(clock, start))
    usage_record(tenant_alpha, calls, 250, at=at(clock, datetime(2026, 3, 20, 9, tzinfo=UTC)))
    usage_record(tenant_alpha, calls, 160, at=at(clock, end - timedelta(seconds=1)))
    usage_record(tenant_alpha, calls, 4000, at=at(clock, end))

    billing_run(now=end)

    start, march = invoices_checked(tenant_alpha)
    assert invoice_lines(start) == [(Kind.FIXED, PRO, "99.00")]
    # 700 + 250 + 160 = 1,110, two started packages: the 4,000 at the period's end belong to the next one.
    assert invoice_lines(march) == [(Kind.USAGE, "API calls: 1,110 calls (1,000 included)", "1.00"),
                                    (Kind.FIXED, PRO, "99.00")]


def test_a_percentage_charge_takes_the_payments_of_its_period_only(tenant_alpha, clock):
    payments = MeterFactory(code="scenario_payments", aggregation=Meter.Aggregation.SUM, event_property="amount")
    price = price_with_usage(plan=PlanFactory(code="scenario-metered", name="Metered"), fixed_amount=D("10.00"),
                             charges=[{"meter": payments, "name": "Card payments", "unit_name": "USD",
                                       "charge_model": "percentage", "properties": {"rate": "1.5"}}])
    subscription_started(tenant_alpha, price, at=MAR_1)
    usage_record(tenant_alpha, payments, 1000, at=at(clock, MAR_1))
    usage_record(tenant_alpha, payments, 2000, at=at(clock, APR_1 - JUST_BEFORE))
    usage_record(tenant_alpha, payments, 4000, at=at(clock, APR_1))

    billing_run(now=APR_1)
    billing_run(now=at(clock, MAY_1))

    start, march, april = invoices_checked(tenant_alpha)
    assert invoice_lines(start) == [(Kind.FIXED, METERED, "10.00")]
    assert invoice_lines(march) == [(Kind.USAGE, "Card payments: 3,000 USD", "45.00"), (Kind.FIXED, METERED, "10.00")]
    assert invoice_lines(april) == [(Kind.USAGE, "Card payments: 4,000 USD", "60.00"), (Kind.FIXED, METERED, "10.00")]


def test_a_peak_meter_bills_each_periods_own_peak(tenant_alpha, clock):
    storage = MeterFactory(code="scenario_storage", aggregation=Meter.Aggregation.MAX, event_property="gb")
    price = metered_price(meter=storage, name="Storage", unit_name="GB at peak", properties={"unit_amount": "0.10"})
    subscription_started(tenant_alpha, price, at=MAR_1)
    usage_record(tenant_alpha, storage, 10, 50, at=at(clock, datetime(2026, 3, 5, tzinfo=UTC)))
    usage_record(tenant_alpha, storage, 30, at=at(clock, datetime(2026, 3, 25, 16, 30, tzinfo=UTC)))
    usage_record(tenant_alpha, storage, 20, at=at(clock, datetime(2026, 4, 5, tzinfo=UTC)))

    billing_run(now=at(clock, APR_1 + timedelta(days=5)))
    billing_run(now=at(clock, MAY_1))

    start, march, april = invoices_checked(tenant_alpha)
    assert invoice_lines(start) == [(Kind.FIXED, METERED, "10.00")]
    assert invoice_lines(march) == [(Kind.USAGE, "Storage: 50 GB at peak", "5.00"), (Kind.FIXED, METERED, "10.00")]
    assert invoice_lines(april) == [(Kind.USAGE, "Storage: 20 GB at peak", "2.00"), (Kind.FIXED, METERED, "10.00")]


@pytest.mark.parametrize("start", [MAR_1, datetime(2026, 3, 15, 8, 30, tzinfo=UTC)],
                         ids=["calendar-month-period", "mid-month-period"])
def test_a_distinct_count_meter_bills_each_user_once_per_period(tenant_alpha, clock, start):
    users = MeterFactory(code="scenario_active_users", aggregation=Meter.Aggregation.UNIQUE_COUNT,
                         event_property="user")
    price = metered_price(meter=users, name="Active users", unit_name="users", properties={"unit_amount": "2.50"})
    subscription_started(tenant_alpha, price, at=at(clock, start))
    usage_record(tenant_alpha, users, "ana", "bo", "ana", at=at(clock, start + timedelta(days=3)))
    usage_record(tenant_alpha, users, "cy", "bo", at=at(clock, start + timedelta(days=20)))

    billing_run(now=at(clock, start.replace(month=4)))

    start, first = invoices_checked(tenant_alpha)
    assert invoice_lines(start) == [(Kind.FIXED, METERED, "10.00")]
    assert invoice_lines(first) == [(Kind.USAGE, "Active users: 3 users", "7.50"), (Kind.FIXED, METERED, "10.00")]
    assert invoice_totals(first) == totals_expected("17.50")
