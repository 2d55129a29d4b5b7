"""Usage while a subscription is paused is never rated at the paused plan's prices: a period is billed on its time
less the pauses (from the subscription's pause and resume history), whether the billing run closes it in a chunk
or alone, an early close (cancel now) bills it, or the upcoming invoice previews it. The clock starts on March 1
2026 (conftest); Pro bills API calls beyond 1,000 at 0.50 per started 100."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from billing.invoicing.drafting import _active_ranges, cycle_invoice_draft, cycle_invoice_drafts, upcoming_invoice
from billing.invoicing.run import billing_run
from billing.models import InvoiceLine, Subscription
from billing.subscriptions.services import subscription_cancel, subscription_pause, subscription_resume
from metering.models import Meter
from metering.usage.selectors import usage_for_ranges
from tests.support.billing import (
    ACTOR,
    invoice_lines,
    invoice_pay,
    invoices_checked,
    subscription_started,
    usage_record,
)
from tests.support.factories import MeterFactory

D = Decimal
Kind = InvoiceLine.Kind
MAR_1, APR_1 = datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC)
MAR_5, MAR_10, MAR_20, MAR_24 = (datetime(2026, 3, day, tzinfo=UTC) for day in (5, 10, 20, 24))
PRO = "Pro (monthly)"

pytestmark = pytest.mark.django_db


def at(clock, when: datetime) -> datetime:
    clock.move_to(when)
    return when


def paused_from_10_to_24(tenant, clock, catalogue, calls) -> Subscription:
    """Pro from March 1; 1,200 calls on the 5th, paused on the 10th, 5,000 calls on the 20th, resumed on the 24th,
    300 calls on the 28th."""
    subscription = subscription_started(tenant, catalogue.pro, at=MAR_1)
    invoice_pay(invoices_checked(tenant)[0], at=MAR_1)
    usage_record(tenant, calls, 1200, at=at(clock, MAR_5))
    subscription_pause(subscription=subscription, actor=ACTOR, now=at(clock, MAR_10))
    usage_record(tenant, calls, 5000, at=at(clock, MAR_20))
    subscription_resume(subscription=subscription, actor=ACTOR, now=at(clock, MAR_24))
    usage_record(tenant, calls, 300, at=at(clock, datetime(2026, 3, 28, tzinfo=UTC)))
    subscription.refresh_from_db()
    return subscription


def test_the_active_ranges_of_a_period_leave_out_every_pause():
    pauses = [(datetime(2026, 2, 20, tzinfo=UTC), MAR_5), (MAR_10, MAR_20), (MAR_24, None)]

    assert _active_ranges(MAR_1, APR_1, pauses=pauses) == [(MAR_5, MAR_10), (MAR_20, MAR_24)]
    assert _active_ranges(MAR_1, APR_1, pauses=[]) == [(MAR_1, APR_1)]


def test_usage_over_ranges_counts_each_range_once_and_distinct_values_once(tenant_alpha, clock, calls):
    users = MeterFactory(code="scenario_users", aggregation=Meter.Aggregation.UNIQUE_COUNT, event_property="user")
    for day, value, user in ((5, 10, "ann"), (12, 20, "bob"), (22, 40, "ann")):
        usage_record(tenant_alpha, calls, value, at=at(clock, datetime(2026, 3, day, 10, 30, tzinfo=UTC)))
        usage_record(tenant_alpha, users, user, at=at(clock, datetime(2026, 3, day, 10, 30, tzinfo=UTC)))
    ranges = [(datetime(2026, 3, 20, tzinfo=UTC), APR_1), (MAR_1, MAR_10)]

    assert usage_for_ranges(tenant=tenant_alpha, meter=calls, ranges=ranges) == D(50)
    assert usage_for_ranges(tenant=tenant_alpha, meter=users, ranges=ranges) == D(1)
    assert usage_for_ranges(tenant=tenant_alpha, meter=calls, ranges=[]) == D(0)


def test_a_period_with_a_pause_is_billed_on_its_active_time_by_the_run(tenant_alpha, clock, catalogue, calls):
    paused_from_10_to_24(tenant_alpha, clock, catalogue, calls)

    billing_run(now=at(clock, APR_1))

    start, april = invoices_checked(tenant_alpha)
    # 1,200 + 300 calls while active; the 5,000 while paused are not billed.
    assert invoice_lines(april) == [(Kind.USAGE, "API calls: 1,500 calls (1,000 included)", "2.50"),
                                    (Kind.FIXED, PRO, "99.00")]


def test_a_chunk_drafts_a_paused_period_as_the_subscription_alone_would(tenant_alpha, tenant_beta, clock, catalogue,
                                                                         calls):
    paused = paused_from_10_to_24(tenant_alpha, clock, catalogue, calls)
    plain = subscription_started(tenant_beta, catalogue.pro, at=MAR_1)
    usage_record(tenant_beta, calls, 2500, at=MAR_20)
    now = at(clock, APR_1)

    chunk = cycle_invoice_drafts(subscriptions=[paused, plain], now=now)

    for subscription in (paused, plain):
        alone = cycle_invoice_draft(subscription=subscription, now=now)
        assert [(line.description, line.quantity, line.amount) for line in chunk[subscription.pk].lines] == [
            (line.description, line.quantity, line.amount) for line in alone.lines]
    assert chunk[paused.pk].lines[0].quantity == D(1500)
    assert chunk[plain.pk].lines[0].quantity == D(2500)


def test_the_upcoming_invoice_leaves_out_the_paused_time_too(tenant_alpha, clock, catalogue, calls):
    paused_from_10_to_24(tenant_alpha, clock, catalogue, calls)

    preview = upcoming_invoice(tenant=tenant_alpha, now=at(clock, datetime(2026, 3, 30, tzinfo=UTC)))

    assert (preview.lines[0].description, preview.lines[0].amount) == (
        "API calls: 1,500 calls (1,000 included)", D("2.50"))


def test_canceling_a_paused_subscription_now_bills_only_the_time_before_the_pause(tenant_alpha, clock, catalogue,
                                                                                 calls):
    subscription = subscription_started(tenant_alpha, catalogue.pro, at=MAR_1)
    usage_record(tenant_alpha, calls, 1200, at=at(clock, MAR_5))
    subscription_pause(subscription=subscription, actor=ACTOR, now=at(clock, MAR_10))
    usage_record(tenant_alpha, calls, 5000, at=at(clock, MAR_20))

    subscription_cancel(subscription=subscription, actor=ACTOR, now=at(clock, MAR_24), at_period_end=False)

    start, close = invoices_checked(tenant_alpha)
    assert invoice_lines(close) == [(Kind.USAGE, "API calls: 1,200 calls (1,000 included)", "1.00")]
