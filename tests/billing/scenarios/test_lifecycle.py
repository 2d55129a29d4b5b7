"""End-to-end scenarios of a subscription's life under a moving frozen clock: signup, trials, anchors, missed
periods, changes (upgrade, seats, interval, downgrade), pause, cancel, reactivate and past due. Every invoice is
asserted line by line and to the cent, and goes through invoice_check.

The clock starts on March 1 2026, 00:00 UTC (conftest). March has 31 days: a change on March 16 at 00:00 leaves
16/31 of the period. Pro is 99.00 a month with 3 seats included (12.00 per extra seat) and bills API calls beyond
1,000 at 0.50 per started 100."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.test import override_settings

from billing.invoicing.credit import account_credit_balance
from billing.invoicing.run import billing_run
from billing.models import Invoice, InvoiceLine, Subscription
from billing.selectors import entitlements_for
from billing.subscriptions.services import (
    subscription_cancel,
    subscription_change,
    subscription_pause,
    subscription_reactivate,
    subscription_resume,
)
from tests.support.billing import (
    ACTOR,
    billing_profile,
    invoice_lines,
    invoice_pay,
    invoice_totals,
    invoices_checked,
    subscription_started,
    totals_expected,
    usage_record,
)

D = Decimal
Kind = InvoiceLine.Kind
Status = Subscription.Status
MAR_1 = datetime(2026, 3, 1, tzinfo=UTC)
MAR_16 = datetime(2026, 3, 16, tzinfo=UTC)
APR_1 = datetime(2026, 4, 1, tzinfo=UTC)
MAY_1 = datetime(2026, 5, 1, tzinfo=UTC)
JUN_1 = datetime(2026, 6, 1, tzinfo=UTC)
PRO = "Pro (monthly)"
STARTER = "Starter (monthly)"
NO_CALLS = (Kind.USAGE, "API calls: 0 calls (1,000 included)", "0.00")

pytestmark = pytest.mark.django_db


def calls_line(calls: int, amount: str) -> tuple[str, str, str]:
    return (Kind.USAGE, f"API calls: {calls:,} calls (1,000 included)", amount)


def at(clock, when: datetime) -> datetime:
    clock.move_to(when)
    return when


# --- Signup and trials --------------------------------------------------------------------------------------

def test_signup_without_trial_invoices_the_first_month_at_once_and_the_next_at_its_end(tenant_alpha, clock,
                                                                                      catalogue, calls):
    subscription_started(tenant_alpha, catalogue.pro, at=MAR_1)
    usage_record(tenant_alpha, calls, 1250, at=at(clock, datetime(2026, 3, 10, tzinfo=UTC)))

    billing_run(now=at(clock, APR_1))

    start, april = invoices_checked(tenant_alpha)
    assert (start.billing_reason, start.status, start.period_start, start.period_end) == (
        Invoice.Reason.SUBSCRIPTION_CREATE, Invoice.Status.OPEN, MAR_1, APR_1)
    assert invoice_lines(start) == [(Kind.FIXED, PRO, "99.00")]
    assert invoice_totals(start) == totals_expected("99.00")
    assert start.due_at == MAR_1 + timedelta(days=14)
    # 250 calls beyond the 1,000 included: three started packages of 100.
    assert (april.billing_reason, april.period_start, april.period_end) == (
        Invoice.Reason.SUBSCRIPTION_CYCLE, MAR_1, APR_1)
    assert invoice_lines(april) == [calls_line(1250, "1.50"), (Kind.FIXED, PRO, "99.00")]
    assert invoice_totals(april) == totals_expected("100.50")


def test_a_trial_is_free_and_converts_into_a_first_paid_period_at_its_end(tenant_alpha, clock, catalogue, calls):
    subscription = subscription_started(tenant_alpha, catalogue.pro_trial, at=MAR_1, trial=True)
    usage_record(tenant_alpha, calls, 5000, at=at(clock, datetime(2026, 3, 10, tzinfo=UTC)))
    trial_end = MAR_1 + timedelta(days=14)

    billing_run(now=at(clock, trial_end - timedelta(seconds=1)))
    assert invoices_checked(tenant_alpha) == []
    billing_run(now=at(clock, trial_end))
    invoice_pay(invoices_checked(tenant_alpha)[0])
    usage_record(tenant_alpha, calls, 1100, at=at(clock, APR_1))
    billing_run(now=at(clock, datetime(2026, 4, 15, tzinfo=UTC)))

    start, cycle = invoices_checked(tenant_alpha)
    assert (start.billing_reason, start.period_start, start.period_end) == (
        Invoice.Reason.SUBSCRIPTION_CREATE, trial_end, datetime(2026, 4, 15, tzinfo=UTC))
    assert invoice_lines(start) == [(Kind.FIXED, PRO, "99.00")]
    # The 5,000 calls of the trial are not billed; the 1,100 of the paid period are.
    assert invoice_lines(cycle) == [calls_line(1100, "0.50"), (Kind.FIXED, PRO, "99.00")]
    assert invoice_totals(cycle) == totals_expected("99.50")
    subscription.refresh_from_db()
    assert subscription.status == Status.ACTIVE


def test_a_trial_on_a_plan_needing_a_payment_method_expires_to_free_without_invoices(tenant_alpha, clock,
                                                                                    catalogue):
    catalogue.pro_trial.plan.payment_method_required = True
    catalogue.pro_trial.plan.save()
    subscription = subscription_started(tenant_alpha, catalogue.pro_trial, at=MAR_1, trial=True)

    billing_run(now=at(clock, MAR_1 + timedelta(days=14)))

    subscription.refresh_from_db()
    assert (subscription.status, invoices_checked(tenant_alpha)) == (Status.EXPIRED, [])
    assert entitlements_for(tenant=tenant_alpha).plan_code == "free"


def test_a_trial_converts_when_ops_approved_manual_collection(tenant_alpha, clock, catalogue):
    catalogue.pro_trial.plan.payment_method_required = True
    catalogue.pro_trial.plan.save()
    billing_profile(tenant_alpha, country="", manual_collection_approved=True)
    subscription_started(tenant_alpha, catalogue.pro_trial, at=MAR_1, trial=True, quantity=4)

    billing_run(now=at(clock, MAR_1 + timedelta(days=14)))

    [start] = invoices_checked(tenant_alpha)
    assert invoice_lines(start) == [(Kind.FIXED, PRO, "99.00"),
                                    (Kind.SEATS, f"{PRO}: 1 seat beyond the 3 included", "12.00")]
    assert invoice_totals(start) == totals_expected("111.00")


# --- Anchors and periods ------------------------------------------------------------------------------------

def test_a_calendar_month_anchor_prorates_the_first_period_then_bills_whole_months(tenant_alpha, clock, catalogue):
    subscription_started(tenant_alpha, catalogue.pro, at=at(clock, MAR_16), billing_anchor="calendar_month")

    billing_run(now=at(clock, APR_1))

    start, april = invoices_checked(tenant_alpha)
    assert (start.period_start, start.period_end) == (MAR_16, APR_1)
    # 16 of March's 31 days: 99.00 × 16/31 = 51.0967…
    [(kind, description, amount)] = invoice_lines(start)
    assert (kind, amount) == (Kind.FIXED, "51.10")
    assert description.startswith(f"{PRO}, 51.6129")
    assert invoice_totals(start) == totals_expected("51.10")
    assert invoice_lines(april) == [NO_CALLS, (Kind.FIXED, PRO, "99.00")]
    assert invoice_totals(april) == totals_expected("99.00")
    assert april.lines.get(kind=Kind.FIXED).period_start == APR_1
    assert april.lines.get(kind=Kind.FIXED).period_end == MAY_1


def test_a_january_31_anchor_bills_through_february_and_keeps_its_day(tenant_alpha, clock, catalogue):
    jan_31 = datetime(2026, 1, 31, 12, tzinfo=UTC)
    clock.move_to(jan_31)
    subscription_started(tenant_alpha, catalogue.pro, at=jan_31)
    ends = [datetime(2026, 2, 28, 12, tzinfo=UTC), datetime(2026, 3, 31, 12, tzinfo=UTC),
            datetime(2026, 4, 30, 12, tzinfo=UTC)]
    for end in ends:
        billing_run(now=at(clock, end))

    start, *cycles = invoices_checked(tenant_alpha)
    assert (start.period_start, start.period_end) == (jan_31, ends[0])
    assert invoice_lines(start) == [(Kind.FIXED, PRO, "99.00")]
    assert [invoice_totals(invoice) for invoice in [start, *cycles]] == [totals_expected("99.00")] * 4
    assert [(invoice.period_start, invoice.period_end) for invoice in cycles] == [
        (jan_31, ends[0]), (ends[0], ends[1]), (ends[1], ends[2])]
    # Each invoice charges the period that follows in advance, a whole 99.00 however long the month.
    fees = [invoice.lines.get(kind=Kind.FIXED) for invoice in cycles]
    assert [(fee.period_start, fee.period_end, fee.amount) for fee in fees] == [
        (ends[0], ends[1], 99), (ends[1], ends[2], 99), (ends[2], datetime(2026, 5, 31, 12, tzinfo=UTC), 99)]
    assert [invoice_lines(invoice) for invoice in cycles] == [[NO_CALLS, (Kind.FIXED, PRO, "99.00")]] * 3


def test_missed_periods_are_caught_up_one_by_one_each_with_its_own_usage(tenant_alpha, clock, catalogue, calls):
    subscription = subscription_started(tenant_alpha, catalogue.pro, at=MAR_1)
    usage_record(tenant_alpha, calls, 1500, at=at(clock, datetime(2026, 3, 20, tzinfo=UTC)))
    usage_record(tenant_alpha, calls, 2000, at=at(clock, datetime(2026, 4, 20, tzinfo=UTC)))
    usage_record(tenant_alpha, calls, 500, at=at(clock, datetime(2026, 5, 20, tzinfo=UTC)))

    result = billing_run(now=at(clock, JUN_1))

    start, march, april, may = invoices_checked(tenant_alpha)
    assert invoice_lines(start) == [(Kind.FIXED, PRO, "99.00")]
    assert [(invoice.period_start, invoice.period_end) for invoice in (march, april, may)] == [
        (MAR_1, APR_1), (APR_1, MAY_1), (MAY_1, JUN_1)]
    assert invoice_lines(march) == [calls_line(1500, "2.50"), (Kind.FIXED, PRO, "99.00")]
    assert invoice_lines(april) == [calls_line(2000, "5.00"), (Kind.FIXED, PRO, "99.00")]
    assert invoice_lines(may) == [calls_line(500, "0.00"), (Kind.FIXED, PRO, "99.00")]
    assert [invoice.total for invoice in (march, april, may)] == [D("101.50"), D("104.00"), D("99.00")]
    subscription.refresh_from_db()
    assert (result.invoices_created, subscription.current_period_start) == (3, JUN_1)


# --- Changes ------------------------------------------------------------------------------------------------

def test_an_upgrade_mid_period_is_prorated_to_the_second_on_an_immediate_invoice(tenant_alpha, clock, catalogue,
                                                                                 calls):
    subscription = subscription_started(tenant_alpha, catalogue.starter, at=MAR_1)

    subscription_change(subscription=subscription, price=catalogue.pro, actor=ACTOR, now=at(clock, MAR_16))
    usage_record(tenant_alpha, calls, 1200, at=at(clock, datetime(2026, 3, 20, tzinfo=UTC)))
    billing_run(now=at(clock, APR_1))

    start, upgrade, april = invoices_checked(tenant_alpha)
    assert invoice_lines(start) == [(Kind.FIXED, STARTER, "19.00")]
    # 16/31 of March left: 19.00 × 16/31 = 9.806… credited, 99.00 × 16/31 = 51.096… charged.
    assert upgrade.billing_reason == Invoice.Reason.SUBSCRIPTION_UPDATE
    assert invoice_lines(upgrade) == [
        (Kind.PRORATION, f"Unused time on {STARTER} from 16 Mar 2026", "-9.81"),
        (Kind.PRORATION, f"Remaining time on {PRO} from 16 Mar 2026", "51.10")]
    assert invoice_totals(upgrade) == totals_expected("41.29")
    assert invoice_lines(april) == [calls_line(1200, "1.00"), (Kind.FIXED, PRO, "99.00")]
    assert invoice_totals(april) == totals_expected("100.00")


@override_settings(BILLING_PRORATION_INVOICING="next_invoice")
def test_an_upgrade_prorated_on_the_next_invoice_adds_its_lines_to_the_cycle_invoice(tenant_alpha, clock,
                                                                                     catalogue):
    subscription = subscription_started(tenant_alpha, catalogue.starter, at=MAR_1)

    subscription_change(subscription=subscription, price=catalogue.pro, actor=ACTOR, now=at(clock, MAR_16))
    billing_run(now=at(clock, APR_1))

    start, april = invoices_checked(tenant_alpha)
    assert invoice_lines(april) == [
        NO_CALLS, (Kind.FIXED, PRO, "99.00"),
        (Kind.PRORATION, f"Unused time on {STARTER} from 16 Mar 2026", "-9.81"),
        (Kind.PRORATION, f"Remaining time on {PRO} from 16 Mar 2026", "51.10")]
    assert invoice_totals(april) == totals_expected("140.29")


def test_more_seats_mid_period_are_charged_for_the_rest_of_it_then_in_full(tenant_alpha, clock, catalogue):
    subscription = subscription_started(tenant_alpha, catalogue.pro, at=MAR_1, quantity=3)

    subscription_change(subscription=subscription, quantity=5, actor=ACTOR, now=at(clock, MAR_16))
    billing_run(now=at(clock, APR_1))

    start, seats, april = invoices_checked(tenant_alpha)
    assert invoice_lines(start) == [(Kind.FIXED, PRO, "99.00")]
    # Two extra seats, 24.00 a month, for 16/31 of March: 12.387…
    assert invoice_lines(seats) == [
        (Kind.PRORATION, f"Remaining time on 2 extra seat(s) on {PRO} from 16 Mar 2026", "12.39")]
    assert invoice_lines(april) == [NO_CALLS, (Kind.FIXED, PRO, "99.00"),
                                    (Kind.SEATS, f"{PRO}: 2 seats beyond the 3 included", "24.00")]
    assert invoice_totals(april) == totals_expected("123.00")


def test_fewer_seats_take_effect_at_the_period_end_without_a_credit(tenant_alpha, clock, catalogue):
    subscription = subscription_started(tenant_alpha, catalogue.pro, at=MAR_1, quantity=5)

    subscription_change(subscription=subscription, quantity=3, actor=ACTOR, now=at(clock, MAR_16))
    billing_run(now=at(clock, APR_1))

    start, april = invoices_checked(tenant_alpha)
    assert invoice_lines(start) == [(Kind.FIXED, PRO, "99.00"),
                                    (Kind.SEATS, f"{PRO}: 2 seats beyond the 3 included", "24.00")]
    assert invoice_totals(start) == totals_expected("123.00")
    assert invoice_lines(april) == [NO_CALLS, (Kind.FIXED, PRO, "99.00")]
    subscription.refresh_from_db()
    assert (subscription.quantity, subscription.scheduled_quantity) == (3, None)


def test_an_interval_change_closes_the_month_and_starts_a_year_paid_in_advance(tenant_alpha, clock, catalogue,
                                                                                 calls):
    subscription = subscription_started(tenant_alpha, catalogue.pro, at=MAR_1)
    usage_record(tenant_alpha, calls, 1300, at=at(clock, datetime(2026, 3, 10, tzinfo=UTC)))

    subscription_change(subscription=subscription, price=catalogue.pro_year, actor=ACTOR, now=at(clock, MAR_16))

    start, change = invoices_checked(tenant_alpha)
    assert (change.billing_reason, change.period_start, change.period_end) == (
        Invoice.Reason.SUBSCRIPTION_UPDATE, MAR_1, MAR_16)
    assert invoice_lines(change) == [
        calls_line(1300, "1.50"),
        (Kind.PRORATION, f"Unused time on {PRO} from 16 Mar 2026", "-51.10"),
        (Kind.FIXED, "Pro (yearly) (16 Mar 2026 to 16 Mar 2027)", "990.00")]
    assert invoice_totals(change) == totals_expected("940.40")
    subscription.refresh_from_db()
    assert (subscription.current_period_start, subscription.current_period_end) == (
        MAR_16, datetime(2027, 3, 16, tzinfo=UTC))


def test_a_downgrade_waits_for_the_period_end_and_the_cheaper_plan_bills_from_then(tenant_alpha, clock, catalogue,
                                                                                    calls):
    subscription = subscription_started(tenant_alpha, catalogue.pro, at=MAR_1)

    subscription_change(subscription=subscription, price=catalogue.starter, actor=ACTOR, now=at(clock, MAR_16))
    usage_record(tenant_alpha, calls, 1600, at=at(clock, datetime(2026, 3, 20, tzinfo=UTC)))
    billing_run(now=at(clock, APR_1))
    billing_run(now=at(clock, MAY_1))

    start, april, may = invoices_checked(tenant_alpha)
    # March's usage is Pro's; April is paid at Starter's price in advance.
    assert invoice_lines(april) == [calls_line(1600, "3.00"), (Kind.FIXED, STARTER, "19.00")]
    assert invoice_totals(april) == totals_expected("22.00")
    assert invoice_lines(may) == [(Kind.FIXED, STARTER, "19.00")]
    subscription.refresh_from_db()
    assert subscription.price == catalogue.starter


def test_a_downgrade_forced_now_by_ops_leaves_a_credit_the_next_invoices_consume(tenant_alpha, clock, catalogue):
    subscription = subscription_started(tenant_alpha, catalogue.pro, at=MAR_1)
    invoice_pay(invoices_checked(tenant_alpha)[0], at=MAR_1)

    subscription_change(subscription=subscription, price=catalogue.starter, actor="ops", now=at(clock, MAR_16),
                        force_now=True)
    for month in (APR_1, MAY_1, JUN_1):
        billing_run(now=at(clock, month))

    start, change, april, may, june = invoices_checked(tenant_alpha)
    assert invoice_lines(start) == [(Kind.FIXED, PRO, "99.00")]
    assert [invoice_lines(invoice) for invoice in (april, may, june)] == [[(Kind.FIXED, STARTER, "19.00")]] * 3
    # 99.00 × 16/31 = 51.097 credited, 19.00 × 16/31 = 9.806 charged: 41.29 to the tenant's credit.
    assert invoice_lines(change) == [
        (Kind.PRORATION, f"Unused time on {PRO} from 16 Mar 2026", "-51.10"),
        (Kind.PRORATION, f"Remaining time on {STARTER} from 16 Mar 2026", "9.81")]
    assert invoice_totals(change) == totals_expected("-41.29", due="0.00")
    assert change.status == Invoice.Status.PAID
    assert invoice_totals(april) == totals_expected("19.00", credit="19.00")
    assert invoice_totals(may) == totals_expected("19.00", credit="19.00")
    assert invoice_totals(june) == totals_expected("19.00", credit="3.29")
    assert [invoice.status for invoice in (april, may, june)] == [Invoice.Status.PAID] * 2 + [Invoice.Status.OPEN]
    assert account_credit_balance(tenant=tenant_alpha, currency="USD").amount == 0


# --- Pause, cancel, reactivate ------------------------------------------------------------------------------

def test_a_pause_stops_invoices_and_a_resume_after_the_period_bills_it_and_starts_anew(tenant_alpha, clock,
                                                                                     catalogue, calls):
    subscription = subscription_started(tenant_alpha, catalogue.pro, at=MAR_1)
    invoice_pay(invoices_checked(tenant_alpha)[0], at=MAR_1)
    usage_record(tenant_alpha, calls, 1500, at=at(clock, datetime(2026, 3, 5, tzinfo=UTC)))
    subscription_pause(subscription=subscription, actor=ACTOR, now=at(clock, datetime(2026, 3, 10, tzinfo=UTC)))

    billing_run(now=at(clock, APR_1))
    assert len(invoices_checked(tenant_alpha)) == 1
    apr_10 = datetime(2026, 4, 10, tzinfo=UTC)
    subscription_resume(subscription=subscription, actor=ACTOR, now=at(clock, apr_10))
    billing_run(now=apr_10)

    start, closing = invoices_checked(tenant_alpha)
    assert invoice_lines(start) == [(Kind.FIXED, PRO, "99.00")]
    assert (closing.period_start, closing.period_end) == (MAR_1, apr_10)
    assert invoice_lines(closing) == [calls_line(1500, "2.50"), (Kind.FIXED, PRO, "99.00")]
    assert invoice_totals(closing) == totals_expected("101.50")
    subscription.refresh_from_db()
    assert (subscription.current_period_start, subscription.current_period_end) == (
        apr_10, datetime(2026, 5, 10, tzinfo=UTC))


def test_a_pause_resumed_within_the_period_changes_nothing_on_the_invoices(tenant_alpha, clock, catalogue):
    subscription = subscription_started(tenant_alpha, catalogue.pro, at=MAR_1)
    invoice_pay(invoices_checked(tenant_alpha)[0], at=MAR_1)

    subscription_pause(subscription=subscription, actor=ACTOR, now=at(clock, datetime(2026, 3, 10, tzinfo=UTC)))
    subscription_resume(subscription=subscription, actor=ACTOR, now=at(clock, datetime(2026, 3, 20, tzinfo=UTC)))
    billing_run(now=at(clock, APR_1))

    start, april = invoices_checked(tenant_alpha)
    assert invoice_lines(start) == [(Kind.FIXED, PRO, "99.00")]
    assert invoice_lines(april) == [NO_CALLS, (Kind.FIXED, PRO, "99.00")]
    assert (april.period_start, april.period_end) == (MAR_1, APR_1)


def test_a_cancellation_at_period_end_bills_only_the_last_usage_and_ends(tenant_alpha, clock, catalogue, calls):
    subscription = subscription_started(tenant_alpha, catalogue.pro, at=MAR_1)
    usage_record(tenant_alpha, calls, 1250, at=at(clock, datetime(2026, 3, 10, tzinfo=UTC)))

    subscription_cancel(subscription=subscription, actor=ACTOR, now=at(clock, MAR_16), at_period_end=True)
    billing_run(now=at(clock, APR_1))
    billing_run(now=at(clock, MAY_1))

    start, last = invoices_checked(tenant_alpha)
    assert invoice_lines(start) == [(Kind.FIXED, PRO, "99.00")]
    assert invoice_lines(last) == [calls_line(1250, "1.50")]
    assert invoice_totals(last) == totals_expected("1.50")
    subscription.refresh_from_db()
    assert (subscription.status, subscription.ended_at) == (Status.CANCELED, APR_1)


def test_a_cancellation_now_with_credit_bills_the_usage_and_credits_the_unused_time(tenant_alpha, clock,
                                                                                    catalogue, calls):
    subscription = subscription_started(tenant_alpha, catalogue.pro, at=MAR_1)
    invoice_pay(invoices_checked(tenant_alpha)[0], at=MAR_1)
    usage_record(tenant_alpha, calls, 1250, at=at(clock, datetime(2026, 3, 10, tzinfo=UTC)))

    subscription_cancel(subscription=subscription, actor=ACTOR, now=at(clock, MAR_16), at_period_end=False,
                        prorate_credit=True)

    start, closing = invoices_checked(tenant_alpha)
    assert invoice_lines(start) == [(Kind.FIXED, PRO, "99.00")]
    assert (closing.period_start, closing.period_end) == (MAR_1, MAR_16)
    assert invoice_lines(closing) == [calls_line(1250, "1.50"),
                                      (Kind.PRORATION, f"Unused time on {PRO} from 16 Mar 2026", "-51.10")]
    assert invoice_totals(closing) == totals_expected("-49.60", due="0.00")
    assert account_credit_balance(tenant=tenant_alpha, currency="USD").amount == D("49.60")
    subscription.refresh_from_db()
    assert (subscription.status, subscription.ended_at) == (Status.CANCELED, MAR_16)


def test_a_cancellation_now_without_credit_bills_only_the_usage_so_far(tenant_alpha, clock, catalogue, calls):
    subscription = subscription_started(tenant_alpha, catalogue.pro, at=MAR_1)
    usage_record(tenant_alpha, calls, 1250, at=at(clock, datetime(2026, 3, 10, tzinfo=UTC)))

    subscription_cancel(subscription=subscription, actor=ACTOR, now=at(clock, MAR_16), at_period_end=False)
    billing_run(now=at(clock, APR_1))

    start, closing = invoices_checked(tenant_alpha)
    assert invoice_lines(start) == [(Kind.FIXED, PRO, "99.00")]
    assert invoice_lines(closing) == [calls_line(1250, "1.50")]
    assert invoice_totals(closing) == totals_expected("1.50")


def test_a_reactivated_subscription_renews_as_if_never_canceled(tenant_alpha, clock, catalogue):
    subscription = subscription_started(tenant_alpha, catalogue.pro, at=MAR_1)
    invoice_pay(invoices_checked(tenant_alpha)[0], at=MAR_1)

    subscription_cancel(subscription=subscription, actor=ACTOR, now=at(clock, MAR_16), at_period_end=True)
    subscription_reactivate(subscription=subscription, actor=ACTOR, now=at(clock, datetime(2026, 3, 20, tzinfo=UTC)))
    billing_run(now=at(clock, APR_1))

    start, april = invoices_checked(tenant_alpha)
    assert invoice_lines(start) == [(Kind.FIXED, PRO, "99.00")]
    assert invoice_lines(april) == [NO_CALLS, (Kind.FIXED, PRO, "99.00")]
    subscription.refresh_from_db()
    assert (subscription.status, subscription.current_period_end) == (Status.ACTIVE, MAY_1)


def test_a_scheduled_downgrade_is_dropped_by_a_cancellation_and_not_restored_by_reactivating(tenant_alpha, clock,
                                                                                             catalogue):
    # Canceling at period end replaces whatever was scheduled; reactivating undoes the cancellation only.
    subscription = subscription_started(tenant_alpha, catalogue.pro, at=MAR_1)
    subscription_change(subscription=subscription, price=catalogue.starter, actor=ACTOR,
                        now=at(clock, datetime(2026, 3, 10, tzinfo=UTC)))

    subscription_cancel(subscription=subscription, actor=ACTOR, now=at(clock, MAR_16), at_period_end=True)
    subscription_reactivate(subscription=subscription, actor=ACTOR, now=at(clock, datetime(2026, 3, 20, tzinfo=UTC)))
    billing_run(now=at(clock, APR_1))

    start, april = invoices_checked(tenant_alpha)
    assert invoice_lines(start) == [(Kind.FIXED, PRO, "99.00")]
    assert invoice_lines(april) == [NO_CALLS, (Kind.FIXED, PRO, "99.00")]
    subscription.refresh_from_db()
    assert subscription.price == catalogue.pro


def test_a_scheduled_downgrade_is_undone_by_choosing_the_current_plan_again(tenant_alpha, clock, catalogue):
    subscription = subscription_started(tenant_alpha, catalogue.pro, at=MAR_1)
    subscription_change(subscription=subscription, price=catalogue.starter, actor=ACTOR,
                        now=at(clock, datetime(2026, 3, 10, tzinfo=UTC)))

    subscription_change(subscription=subscription, price=catalogue.pro, actor=ACTOR, now=at(clock, MAR_16))
    billing_run(now=at(clock, APR_1))

    start, april = invoices_checked(tenant_alpha)
    assert invoice_lines(start) == [(Kind.FIXED, PRO, "99.00")]
    assert invoice_lines(april) == [NO_CALLS, (Kind.FIXED, PRO, "99.00")]


# --- Past due -----------------------------------------------------------------------------------------------

def test_an_unpaid_invoice_makes_the_tenant_past_due_then_free_after_the_grace_until_it_pays(
        tenant_alpha, clock, catalogue, django_capture_on_commit_callbacks):
    subscription = subscription_started(tenant_alpha, catalogue.pro, at=MAR_1)
    [start] = invoices_checked(tenant_alpha)
    due = MAR_1 + timedelta(days=14)

    billing_run(now=at(clock, due))
    subscription.refresh_from_db()
    assert (subscription.status, subscription.past_due_since) == (Status.PAST_DUE, due)
    grace_end = due + timedelta(days=7)
    assert entitlements_for(tenant=tenant_alpha, now=grace_end - timedelta(seconds=1)).plan_code == "scenario-pro"
    assert entitlements_for(tenant=tenant_alpha, now=grace_end).plan_code == "free"

    with django_capture_on_commit_callbacks(execute=True):
        invoice_pay(start, at=at(clock, datetime(2026, 3, 25, tzinfo=UTC)))

    subscription.refresh_from_db()
    assert (subscription.status, subscription.past_due_since) == (Status.ACTIVE, None)
    assert entitlements_for(tenant=tenant_alpha).plan_code == "scenario-pro"
    [start] = invoices_checked(tenant_alpha)
    assert invoice_lines(start) == [(Kind.FIXED, PRO, "99.00")]
    assert invoice_totals(start) == totals_expected("99.00") and start.amount_paid == 99
