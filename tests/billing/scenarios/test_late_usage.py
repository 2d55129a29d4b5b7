"""Late usage: metering accepts events up to 35 days old (metering.usage.services.PAST_WINDOW), so usage for a
period can arrive after the billing run invoiced it. The next period's close re-rates the earlier period and bills
the difference with what was billed for it as a "late usage" line, exactly once. The clock starts on March 1 2026
(conftest); Pro bills API calls beyond 1,000 a period at 0.50 per started 100."""

from datetime import UTC, datetime
from decimal import Decimal
from itertools import count

import pytest

from billing.invoicing.drafting import cycle_invoice_draft, cycle_invoice_drafts, upcoming_invoice
from billing.invoicing.run import billing_run
from billing.models import Invoice, InvoiceLine, Subscription
from billing.subscriptions.services import subscription_pause, subscription_resume
from metering.models import Meter
from metering.usage.services import event_ingest
from tests.support.billing import (
    ACTOR,
    invoice_lines,
    invoice_pay,
    invoice_totals,
    invoices_checked,
    subscription_started,
    totals_expected,
    usage_record,
)

Kind = InvoiceLine.Kind
MAR_1, MAR_10, MAR_20, MAR_30 = (datetime(2026, 3, day, tzinfo=UTC) for day in (1, 10, 20, 30))
APR_1, APR_5 = datetime(2026, 4, 1, tzinfo=UTC), datetime(2026, 4, 5, tzinfo=UTC)
MAY_1, MAY_3, JUN_1, JUL_1 = (datetime(2026, month, day, tzinfo=UTC) for month, day in ((5, 1), (5, 3), (6, 1),
                                                                                       (7, 1)))
PRO = "Pro (monthly)"
NO_CALLS = (Kind.USAGE, "API calls: 0 calls (1,000 included)", "0.00")
_late = count(1)

pytestmark = pytest.mark.django_db


def at(clock, when: datetime) -> datetime:
    clock.move_to(when)
    return when


def late_calls(tenant, meter: Meter, calls: int, *, stamped: datetime, received: datetime) -> None:
    """`calls` API calls that happened at `stamped` and reached metering at `received` (later)."""
    result = event_ingest(tenant=tenant, now=received, events=[{
        "transaction_id": f"late-{next(_late)}", "meter": meter.code, "timestamp": stamped.isoformat(),
        "properties": {meter.event_property: calls}}])
    assert result.accepted == 1, result.rejected


def march_invoiced_then_2000_late_calls(tenant, clock, catalogue, calls) -> None:
    """Pro from March 1 with 800 calls on March 10, March invoiced on April 1, then 2,000 calls of March 20
    received on April 5."""
    subscription_started(tenant, catalogue.pro, at=MAR_1)
    invoice_pay(invoices_checked(tenant)[0], at=MAR_1)
    usage_record(tenant, calls, 800, at=at(clock, MAR_10))
    billing_run(now=at(clock, APR_1))
    late_calls(tenant, calls, 2000, stamped=MAR_20, received=at(clock, APR_5))


def test_usage_received_after_its_period_was_invoiced_is_billed_by_the_next_close(tenant_alpha, clock, catalogue,
                                                                                  calls):
    march_invoiced_then_2000_late_calls(tenant_alpha, clock, catalogue, calls)

    billing_run(now=at(clock, MAY_1))

    start, april, may = invoices_checked(tenant_alpha)
    assert invoice_lines(april) == [(Kind.USAGE, "API calls: 800 calls (1,000 included)", "0.00"),
                                    (Kind.FIXED, PRO, "99.00")]
    # March re-rated: 2,800 calls, 1,800 beyond the 1,000 included = 18 packages of 0.50; 0.00 billed before.
    assert invoice_lines(may) == [
        NO_CALLS, (Kind.LATE_USAGE, "API calls: 2,000 calls received late for 1 Mar – 1 Apr 2026", "9.00"),
        (Kind.FIXED, PRO, "99.00")]
    assert invoice_totals(may) == totals_expected("108.00")
    late = may.lines.get(kind=Kind.LATE_USAGE)
    assert (late.period_start, late.period_end, late.quantity, late.meter_code) == (MAR_1, APR_1, 2000, calls.code)


def test_late_usage_is_billed_once_by_a_rerun_and_by_later_closes(tenant_alpha, clock, catalogue, calls):
    march_invoiced_then_2000_late_calls(tenant_alpha, clock, catalogue, calls)

    billing_run(now=at(clock, MAY_1))
    billing_run(now=MAY_1)
    billing_run(now=at(clock, JUN_1))
    billing_run(now=at(clock, JUL_1))

    start, april, may, june, july = invoices_checked(tenant_alpha)
    assert Invoice.objects.filter(tenant=tenant_alpha, lines__kind=Kind.LATE_USAGE).distinct().get() == may
    assert [invoice_lines(invoice) for invoice in (june, july)] == [[NO_CALLS, (Kind.FIXED, PRO, "99.00")]] * 2


def test_more_late_usage_bills_only_what_the_earlier_late_line_did_not(tenant_alpha, clock, catalogue, calls):
    march_invoiced_then_2000_late_calls(tenant_alpha, clock, catalogue, calls)
    billing_run(now=at(clock, MAY_1))
    # Within 35 days of March 30, after the May 1 close: the June 1 close still re-rates March.
    late_calls(tenant_alpha, calls, 500, stamped=MAR_30, received=at(clock, MAY_3))

    billing_run(now=at(clock, JUN_1))

    *_, may, june = invoices_checked(tenant_alpha)
    # 3,300 calls: 23 packages = 11.50, of which 0.00 + 9.00 were billed.
    assert invoice_lines(june) == [
        NO_CALLS, (Kind.LATE_USAGE, "API calls: 500 calls received late for 1 Mar – 1 Apr 2026", "2.50"),
        (Kind.FIXED, PRO, "99.00")]
    assert invoice_totals(june) == totals_expected("101.50")


def test_late_usage_within_the_included_units_adds_no_line(tenant_alpha, clock, catalogue, calls):
    subscription_started(tenant_alpha, catalogue.pro, at=MAR_1)
    usage_record(tenant_alpha, calls, 300, at=at(clock, MAR_10))
    billing_run(now=at(clock, APR_1))
    late_calls(tenant_alpha, calls, 400, stamped=MAR_20, received=at(clock, APR_5))

    billing_run(now=at(clock, MAY_1))

    *_, may = invoices_checked(tenant_alpha)
    assert invoice_lines(may) == [NO_CALLS, (Kind.FIXED, PRO, "99.00")]


def test_the_upcoming_invoice_shows_the_late_usage_its_close_will_bill(tenant_alpha, clock, catalogue, calls):
    march_invoiced_then_2000_late_calls(tenant_alpha, clock, catalogue, calls)

    preview = upcoming_invoice(tenant=tenant_alpha, now=at(clock, datetime(2026, 4, 20, tzinfo=UTC)))
    billing_run(now=at(clock, MAY_1))

    *_, may = invoices_checked(tenant_alpha)
    assert [(line.kind, line.description, line.amount) for line in preview.lines] == [
        (line.kind, line.description, line.amount) for line in may.lines.order_by("sort_order")]


def test_a_chunk_bills_late_usage_as_the_subscription_alone_would(tenant_alpha, tenant_beta, clock, catalogue,
                                                                   calls):
    for tenant, late in ((tenant_alpha, 2000), (tenant_beta, 150)):
        subscription_started(tenant, catalogue.pro, at=MAR_1)
        usage_record(tenant, calls, 950, at=at(clock, MAR_10))
    billing_run(now=at(clock, APR_1))
    for tenant, late in ((tenant_alpha, 2000), (tenant_beta, 150)):
        late_calls(tenant, calls, late, stamped=MAR_20, received=at(clock, APR_5))
    subscriptions = [Subscription.objects.select_related("tenant", "plan", "price__plan").get(tenant=tenant)
                     for tenant in (tenant_alpha, tenant_beta)]
    now = at(clock, MAY_1)

    chunk = cycle_invoice_drafts(subscriptions=subscriptions, now=now)

    for subscription in subscriptions:
        alone = cycle_invoice_draft(subscription=subscription, now=now)
        assert [(line.kind, line.description, line.quantity, line.amount_exact, line.period_start)
                for line in chunk[subscription.pk].lines] == [
            (line.kind, line.description, line.quantity, line.amount_exact, line.period_start) for line in alone.lines]
    # 2,950 calls: 20 packages; 1,100 calls: 1 package.
    assert [[line.amount for line in chunk[s.pk].lines if line.kind == Kind.LATE_USAGE] for s in subscriptions] == [
        [Decimal("10.00")], [Decimal("0.50")]]


def test_late_usage_stamped_in_paused_time_is_not_billed(tenant_alpha, clock, catalogue, calls):
    subscription = subscription_started(tenant_alpha, catalogue.pro, at=MAR_1)
    subscription_pause(subscription=subscription, actor=ACTOR, now=at(clock, MAR_10))
    subscription_resume(subscription=subscription, actor=ACTOR, now=at(clock, datetime(2026, 3, 25, tzinfo=UTC)))
    billing_run(now=at(clock, APR_1))
    late_calls(tenant_alpha, calls, 3000, stamped=MAR_20, received=at(clock, APR_5))
    late_calls(tenant_alpha, calls, 1200, stamped=MAR_30, received=APR_5)

    billing_run(now=at(clock, MAY_1))

    *_, may = invoices_checked(tenant_alpha)
    # Only the 1,200 calls of March 30 (active) count: 2 packages beyond the 1,000 included.
    assert invoice_lines(may) == [
        NO_CALLS, (Kind.LATE_USAGE, "API calls: 1,200 calls received late for 1 Mar – 1 Apr 2026", "1.00"),
        (Kind.FIXED, PRO, "99.00")]
