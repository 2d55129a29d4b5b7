"""End-to-end scenarios at the edges of the lifecycle: trials with a calendar anchor, a coupon or a change before
they convert, an upgrade that changes plan and seats at once, a year given back for a month, two overdue invoices,
and the stories a tenant who wants something for free would try (a once coupon stretched over an interval
change, usage while paused). Every invoice is asserted to the cent and checked by invoice_check. The clock
starts on March 1 2026 (conftest); Pro is 99.00 a month, 990.00 a year."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.test import override_settings

from billing.invoicing.credit import account_credit_balance
from billing.invoicing.drafting import plan_comparison, upcoming_invoice
from billing.invoicing.run import billing_run
from billing.models import Coupon, InvoiceLine, Price, Subscription
from billing.selectors import entitlements_for
from billing.subscriptions.services import (
    promotion_code_redeem,
    subscription_cancel,
    subscription_change,
    subscription_pause,
    subscription_resume,
)
from tests.support.billing import (
    ACTOR,
    coupon_with_code,
    invoice_lines,
    invoice_pay,
    invoice_totals,
    invoices_checked,
    subscription_started,
    totals_expected,
    usage_record,
)
from config.money import Money
from tests.support.factories import PriceFactory

D = Decimal
Kind = InvoiceLine.Kind
Status = Subscription.Status
MAR_1 = datetime(2026, 3, 1, tzinfo=UTC)
MAR_10 = datetime(2026, 3, 10, tzinfo=UTC)
MAR_16 = datetime(2026, 3, 16, tzinfo=UTC)
MAR_24 = datetime(2026, 3, 24, tzinfo=UTC)
APR_1 = datetime(2026, 4, 1, tzinfo=UTC)
MAY_1 = datetime(2026, 5, 1, tzinfo=UTC)
PRO = "Pro (monthly)"
NO_CALLS = (Kind.USAGE, "API calls: 0 calls (1,000 included)", "0.00")

pytestmark = pytest.mark.django_db


def at(clock, when: datetime) -> datetime:
    clock.move_to(when)
    return when


# --- Trials -------------------------------------------------------------------------------------------------

def test_a_trial_on_a_calendar_anchor_converts_into_a_prorated_rest_of_the_month(tenant_alpha, clock, catalogue):
    subscription_started(tenant_alpha, catalogue.pro_trial, at=at(clock, MAR_10), trial=True,
                         billing_anchor="calendar_month")

    billing_run(now=at(clock, MAR_24))
    invoice_pay(invoices_checked(tenant_alpha)[0])
    billing_run(now=at(clock, APR_1))

    start, april = invoices_checked(tenant_alpha)
    assert (start.period_start, start.period_end) == (MAR_24, APR_1)
    # 8 of March's 31 days: 99.00 × 8/31 = 25.548…
    [(kind, description, amount)] = invoice_lines(start)
    assert (kind, amount) == (Kind.FIXED, "25.55") and description.startswith(f"{PRO}, 25.806")
    assert invoice_lines(april) == [NO_CALLS, (Kind.FIXED, PRO, "99.00")]


def test_a_promotion_code_given_at_a_trials_start_discounts_its_first_paid_invoice(tenant_alpha, clock, catalogue):
    coupon_with_code(code="launch20", name="Launch", percent_off=D("20"), duration=Coupon.Duration.ONCE)
    subscription_started(tenant_alpha, catalogue.pro_trial, at=MAR_1, trial=True, promotion_code="LAUNCH20")
    trial_end = MAR_1 + timedelta(days=14)

    billing_run(now=at(clock, trial_end))
    billing_run(now=at(clock, datetime(2026, 4, 15, tzinfo=UTC)))

    start, cycle = invoices_checked(tenant_alpha)
    assert invoice_lines(start) == [(Kind.FIXED, PRO, "99.00"), (Kind.DISCOUNT, "Launch (20 % off)", "-19.80")]
    assert invoice_totals(start) == totals_expected("79.20", subtotal="99.00", discount="19.80")
    assert invoice_lines(cycle) == [NO_CALLS, (Kind.FIXED, PRO, "99.00")]


def test_a_plan_changed_during_the_trial_is_what_the_conversion_invoices(tenant_alpha, clock, catalogue):
    subscription = subscription_started(tenant_alpha, catalogue.pro_trial, at=MAR_1, trial=True)

    subscription_change(subscription=subscription, price=catalogue.business, actor=ACTOR, now=at(clock, MAR_10))
    assert invoices_checked(tenant_alpha) == []
    billing_run(now=at(clock, MAR_1 + timedelta(days=14)))

    [start] = invoices_checked(tenant_alpha)
    assert invoice_lines(start) == [(Kind.FIXED, "Business (monthly)", "299.99")]
    assert invoice_totals(start) == totals_expected("299.99")


def test_a_trial_canceled_now_ends_without_any_invoice(tenant_alpha, clock, catalogue, calls):
    subscription = subscription_started(tenant_alpha, catalogue.pro_trial, at=MAR_1, trial=True)
    usage_record(tenant_alpha, calls, 5000, at=at(clock, MAR_10))

    subscription_cancel(subscription=subscription, actor=ACTOR, now=at(clock, MAR_16 - timedelta(days=4)),
                        at_period_end=False)
    billing_run(now=at(clock, APR_1))

    subscription.refresh_from_db()
    assert (subscription.status, invoices_checked(tenant_alpha)) == (Status.CANCELED, [])


def test_the_upcoming_invoice_of_a_trial_is_the_invoice_its_conversion_issues(tenant_alpha, clock, catalogue):
    subscription_started(tenant_alpha, catalogue.pro_trial, at=at(clock, MAR_10), trial=True,
                         billing_anchor="calendar_month")

    preview = upcoming_invoice(tenant=tenant_alpha, now=at(clock, MAR_16))
    billing_run(now=at(clock, MAR_24))

    [start] = invoices_checked(tenant_alpha)
    assert [(line.kind, line.description, line.amount, line.period_start, line.period_end)
            for line in start.lines.order_by("sort_order")] == [
        (line.kind, line.description, line.amount, line.period_start, line.period_end) for line in preview.lines]
    assert preview.totals.total == start.total


# --- Changes ------------------------------------------------------------------------------------------------

def test_an_upgrade_to_a_plan_including_more_seats_credits_the_old_fee_and_seats(tenant_alpha, clock, catalogue):
    subscription = subscription_started(tenant_alpha, catalogue.pro, at=MAR_1, quantity=5)

    subscription_change(subscription=subscription, price=catalogue.business, actor=ACTOR, now=at(clock, MAR_16))
    billing_run(now=at(clock, APR_1))

    start, upgrade, april = invoices_checked(tenant_alpha)
    assert invoice_totals(start) == totals_expected("123.00")
    # 16/31 of: 99.00 and 24.00 of seats credited; Business's 299.99 (five seats included) charged.
    assert invoice_lines(upgrade) == [
        (Kind.PRORATION, f"Unused time on {PRO} from 16 Mar 2026", "-51.10"),
        (Kind.PRORATION, f"Unused time on 2 extra seat(s) on {PRO} from 16 Mar 2026", "-12.39"),
        (Kind.PRORATION, "Remaining time on Business (monthly) from 16 Mar 2026", "154.83")]
    assert invoice_totals(upgrade) == totals_expected("91.34")
    assert invoice_lines(april) == [(Kind.FIXED, "Business (monthly)", "299.99")]


def test_a_year_given_back_for_a_month_leaves_a_credit_the_months_consume(tenant_alpha, clock, catalogue):
    subscription = subscription_started(tenant_alpha, catalogue.pro_year, at=MAR_1)
    invoice_pay(invoices_checked(tenant_alpha)[0], at=MAR_1)

    subscription_change(subscription=subscription, price=catalogue.pro, actor=ACTOR, now=at(clock, MAR_16))
    billing_run(now=at(clock, datetime(2026, 4, 16, tzinfo=UTC)))

    start, change, april = invoices_checked(tenant_alpha)
    assert invoice_lines(start) == [(Kind.FIXED, "Pro (yearly)", "990.00")]
    # 350 of the year's 365 days unused: 990.00 × 350/365 = 949.315…
    assert invoice_lines(change) == [
        NO_CALLS, (Kind.PRORATION, "Unused time on Pro (yearly) from 16 Mar 2026", "-949.32"),
        (Kind.FIXED, f"{PRO} (16 Mar 2026 to 16 Apr 2026)", "99.00")]
    assert invoice_totals(change) == totals_expected("-850.32", due="0.00")
    assert invoice_lines(april) == [NO_CALLS, (Kind.FIXED, PRO, "99.00")]
    assert invoice_totals(april) == totals_expected("99.00", credit="99.00")
    assert account_credit_balance(tenant=tenant_alpha, currency="USD").amount == D("751.32")


# --- Past due -----------------------------------------------------------------------------------------------

def test_a_past_due_tenant_stays_past_due_until_every_overdue_invoice_is_paid(tenant_alpha, clock, catalogue,
                                                                              django_capture_on_commit_callbacks):
    subscription = subscription_started(tenant_alpha, catalogue.pro, at=MAR_1)
    for moment in (MAR_1 + timedelta(days=14), APR_1, APR_1 + timedelta(days=14)):
        billing_run(now=at(clock, moment))
    start, april = invoices_checked(tenant_alpha)

    with django_capture_on_commit_callbacks(execute=True):
        invoice_pay(april, at=at(clock, datetime(2026, 4, 16, tzinfo=UTC)))
    subscription.refresh_from_db()
    assert subscription.status == Status.PAST_DUE
    with django_capture_on_commit_callbacks(execute=True):
        invoice_pay(start, at=at(clock, datetime(2026, 4, 17, tzinfo=UTC)))

    subscription.refresh_from_db()
    assert subscription.status == Status.ACTIVE
    start, april = invoices_checked(tenant_alpha)
    assert invoice_lines(start) == [(Kind.FIXED, PRO, "99.00")]
    assert invoice_lines(april) == [NO_CALLS, (Kind.FIXED, PRO, "99.00")]
    assert (invoice_totals(start), invoice_totals(april)) == (totals_expected("99.00"), totals_expected("99.00"))
    assert (start.amount_paid, april.amount_paid) == (D("99.00"), D("99.00"))


# --- What a tenant who wants it for free would try ----------------------------------------------------------

def test_a_once_coupon_spent_on_an_interval_changes_new_year_is_not_spent_again(tenant_alpha, clock, catalogue):
    subscription = subscription_started(tenant_alpha, catalogue.pro, at=MAR_1)
    invoice_pay(invoices_checked(tenant_alpha)[0], at=MAR_1)
    coupon_with_code(code="half", name="Half", percent_off=D("50"), duration=Coupon.Duration.ONCE)
    promotion_code_redeem(subscription=subscription, code="HALF", actor=ACTOR, now=at(clock, MAR_10))

    subscription_change(subscription=subscription, price=catalogue.pro_year, actor=ACTOR, now=at(clock, MAR_16))
    invoice_pay(invoices_checked(tenant_alpha)[1])
    billing_run(now=at(clock, datetime(2027, 3, 16, tzinfo=UTC)))

    start, change, renewal = invoices_checked(tenant_alpha)
    assert invoice_lines(start) == [(Kind.FIXED, PRO, "99.00")]
    # (0.00 - 51.10 + 990.00) × 50 %.
    assert invoice_totals(change) == totals_expected("469.45", subtotal="938.90", discount="469.45")
    assert invoice_lines(renewal) == [NO_CALLS, (Kind.FIXED, "Pro (yearly)", "990.00")]


def test_usage_while_paused_is_not_billed_at_the_paused_plans_prices(tenant_alpha, clock, catalogue, calls):
    subscription = subscription_started(tenant_alpha, catalogue.pro, at=MAR_1)
    invoice_pay(invoices_checked(tenant_alpha)[0], at=MAR_1)
    usage_record(tenant_alpha, calls, 800, at=at(clock, datetime(2026, 3, 5, tzinfo=UTC)))
    subscription_pause(subscription=subscription, actor=ACTOR, now=at(clock, MAR_10))
    usage_record(tenant_alpha, calls, 900, at=at(clock, datetime(2026, 3, 20, tzinfo=UTC)))

    subscription_resume(subscription=subscription, actor=ACTOR, now=at(clock, MAR_24))
    billing_run(now=at(clock, APR_1))

    start, april = invoices_checked(tenant_alpha)
    assert invoice_lines(start) == [(Kind.FIXED, PRO, "99.00")]
    assert invoice_lines(april) == [(Kind.USAGE, "API calls: 800 calls (1,000 included)", "0.00"),
                                    (Kind.FIXED, PRO, "99.00")]


# --- More trials, anchors and years -------------------------------------------------------------------------

def test_an_interval_change_during_the_trial_converts_into_a_paid_year(tenant_alpha, clock, catalogue):
    subscription = subscription_started(tenant_alpha, catalogue.pro_trial, at=MAR_1, trial=True)
    trial_end = MAR_1 + timedelta(days=14)

    subscription_change(subscription=subscription, price=catalogue.pro_year, actor=ACTOR, now=at(clock, MAR_10))
    billing_run(now=at(clock, trial_end))

    [start] = invoices_checked(tenant_alpha)
    assert (start.period_start, start.period_end) == (trial_end, datetime(2027, 3, 15, tzinfo=UTC))
    assert invoice_lines(start) == [(Kind.FIXED, "Pro (yearly)", "990.00")]
    assert invoice_totals(start) == totals_expected("990.00")


def test_a_trial_that_ended_while_the_run_was_down_converts_then_catches_up(tenant_alpha, clock, catalogue, calls):
    subscription = subscription_started(tenant_alpha, catalogue.pro_trial, at=MAR_1, trial=True)
    usage_record(tenant_alpha, calls, 5000, at=at(clock, MAR_10))
    usage_record(tenant_alpha, calls, 1300, at=at(clock, datetime(2026, 4, 20, tzinfo=UTC)))

    billing_run(now=at(clock, datetime(2026, 5, 20, tzinfo=UTC)))

    mar_15, apr_15, may_15 = (datetime(2026, month, 15, tzinfo=UTC) for month in (3, 4, 5))
    start, first, second = invoices_checked(tenant_alpha)
    assert (start.period_start, start.period_end) == (mar_15, apr_15)
    assert invoice_lines(start) == [(Kind.FIXED, PRO, "99.00")]
    # The trial's 5,000 calls are free; April's 1,300 fall in the second paid period.
    assert [(invoice.period_start, invoice.period_end) for invoice in (first, second)] == [
        (mar_15, apr_15), (apr_15, may_15)]
    assert invoice_lines(first) == [NO_CALLS, (Kind.FIXED, PRO, "99.00")]
    assert invoice_lines(second) == [(Kind.USAGE, "API calls: 1,300 calls (1,000 included)", "1.50"),
                                     (Kind.FIXED, PRO, "99.00")]
    subscription.refresh_from_db()
    assert subscription.current_period_end == datetime(2026, 6, 15, tzinfo=UTC)


def test_an_upgrade_in_a_prorated_first_month_credits_at_the_rate_it_was_charged(tenant_alpha, clock, catalogue):
    subscription = subscription_started(tenant_alpha, catalogue.starter, at=at(clock, MAR_16),
                                        billing_anchor="calendar_month")

    subscription_change(subscription=subscription, price=catalogue.pro, actor=ACTOR, now=at(clock, MAR_24))
    billing_run(now=at(clock, APR_1))

    start, upgrade, april = invoices_checked(tenant_alpha)
    # 19.00 × 16/31 charged for 16 to 31 March; 8 of those days unused: 19.00 × 8/31 back, 99.00 × 8/31 charged.
    assert [amount for _, _, amount in invoice_lines(start)] == ["9.81"]
    assert invoice_totals(start) == totals_expected("9.81")
    assert invoice_lines(upgrade) == [
        (Kind.PRORATION, "Unused time on Starter (monthly) from 24 Mar 2026", "-4.90"),
        (Kind.PRORATION, f"Remaining time on {PRO} from 24 Mar 2026", "25.55")]
    assert invoice_totals(upgrade) == totals_expected("20.65")
    assert invoice_lines(april) == [NO_CALLS, (Kind.FIXED, PRO, "99.00")]


def test_invoices_across_new_year_are_numbered_in_each_years_series(tenant_alpha, clock, catalogue):
    nov_1, dec_1, jan_1 = (datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC),
                           datetime(2027, 1, 1, tzinfo=UTC))
    subscription_started(tenant_alpha, catalogue.pro, at=at(clock, nov_1))

    billing_run(now=at(clock, dec_1))
    billing_run(now=at(clock, jan_1))

    start, december, january = invoices_checked(tenant_alpha)
    assert [invoice.number[:8] for invoice in (start, december, january)] == ["TG-2026-", "TG-2026-", "TG-2027-"]
    assert int(december.number[-6:]) == int(start.number[-6:]) + 1
    assert (january.issued_at, january.due_at) == (jan_1, jan_1 + timedelta(days=14))
    assert invoice_lines(start) == [(Kind.FIXED, PRO, "99.00")]
    assert [invoice_lines(invoice) for invoice in (december, january)] == [[NO_CALLS, (Kind.FIXED, PRO, "99.00")]] * 2
    assert [invoice_totals(invoice) for invoice in (start, december, january)] == [totals_expected("99.00")] * 3


# --- Entitlements, comparison and previews follow the invoices ----------------------------------------------

def test_a_downgrade_changes_the_entitlements_with_the_run_that_bills_it(tenant_alpha, clock, catalogue):
    subscription = subscription_started(tenant_alpha, catalogue.pro, at=MAR_1)
    subscription_change(subscription=subscription, price=catalogue.starter, actor=ACTOR, now=at(clock, MAR_16))
    assert entitlements_for(tenant=tenant_alpha).plan_code == "scenario-pro"

    billing_run(now=at(clock, APR_1))

    assert entitlements_for(tenant=tenant_alpha).plan_code == "scenario-starter"
    start, april = invoices_checked(tenant_alpha)
    assert invoice_lines(start) == [(Kind.FIXED, PRO, "99.00")]
    assert invoice_lines(april) == [NO_CALLS, (Kind.FIXED, "Starter (monthly)", "19.00")]


def test_the_plan_comparison_prices_the_closed_period_as_its_invoice_did(tenant_alpha, clock, catalogue, calls):
    subscription_started(tenant_alpha, catalogue.pro, at=MAR_1, quantity=4)
    usage_record(tenant_alpha, calls, 1250, at=at(clock, MAR_10))
    billing_run(now=at(clock, APR_1))
    usage_record(tenant_alpha, calls, 300, at=at(clock, datetime(2026, 4, 5, tzinfo=UTC)))

    comparison = plan_comparison(tenant=tenant_alpha, now=at(clock, datetime(2026, 4, 10, tzinfo=UTC)))

    start, april = invoices_checked(tenant_alpha)
    assert invoice_lines(start) == [(Kind.FIXED, PRO, "99.00"),
                                    (Kind.SEATS, f"{PRO}: 1 seat beyond the 3 included", "12.00")]
    # March's usage (1.50) with a period of fee and seats (99.00 + 12.00): what April's invoice added up to.
    assert invoice_totals(april) == totals_expected("112.50")
    costs = {cost.plan.code: cost for cost in comparison.plans}
    assert (comparison.last_period, comparison.current_period) == ((MAR_1, APR_1), (APR_1, MAY_1))
    assert costs["scenario-pro"].is_current
    assert costs["scenario-pro"].last_period == Money(april.subtotal, "USD")
    assert costs["scenario-pro"].current_period == Money(D("111.00"), "USD")
    assert (costs["scenario-starter"].last_period, costs["scenario-business"].last_period) == (
        Money(D("19.00"), "USD"), Money(D("299.99"), "USD"))


@override_settings(BILLING_PRORATION_INVOICING="next_invoice")
def test_the_upcoming_invoice_shows_the_prorations_waiting_for_it(tenant_alpha, clock, catalogue):
    subscription = subscription_started(tenant_alpha, catalogue.starter, at=MAR_1)
    subscription_change(subscription=subscription, price=catalogue.pro, quantity=4, actor=ACTOR,
                        now=at(clock, MAR_16))

    preview = upcoming_invoice(tenant=tenant_alpha, now=at(clock, datetime(2026, 3, 20, tzinfo=UTC)))
    billing_run(now=at(clock, APR_1))

    start, april = invoices_checked(tenant_alpha)
    assert invoice_lines(start) == [(Kind.FIXED, "Starter (monthly)", "19.00")]
    # 12.00 × 16/31 = 6.19 for the extra seat.
    assert invoice_lines(april) == [
        NO_CALLS, (Kind.FIXED, PRO, "99.00"), (Kind.SEATS, f"{PRO}: 1 seat beyond the 3 included", "12.00"),
        (Kind.PRORATION, "Unused time on Starter (monthly) from 16 Mar 2026", "-9.81"),
        (Kind.PRORATION, f"Remaining time on {PRO} from 16 Mar 2026", "51.10"),
        (Kind.PRORATION, f"Remaining time on 1 extra seat(s) on {PRO} from 16 Mar 2026", "6.19")]
    assert invoice_totals(april) == totals_expected("158.48")
    assert [(line.kind, line.description, line.amount) for line in april.lines.order_by("sort_order")] == [
        (line.kind, line.description, line.amount) for line in preview.lines]
    assert preview.totals.total == april.total


# --- Longer intervals ---------------------------------------------------------------------------------------

def test_a_quarterly_price_anchored_on_the_30th_bills_each_quarter_on_its_day(tenant_alpha, clock, catalogue):
    quarterly = PriceFactory(plan=catalogue.business.plan, code="scenario-business-quarter",
                             interval=Price.Interval.QUARTER, fixed_amount=D("809.97"), included_seats=5)
    nov_30 = datetime(2026, 11, 30, 9, tzinfo=UTC)
    subscription_started(tenant_alpha, quarterly, at=at(clock, nov_30))
    ends = [datetime(2027, 2, 28, 9, tzinfo=UTC), datetime(2027, 5, 30, 9, tzinfo=UTC)]

    for end in ends:
        billing_run(now=at(clock, end))

    start, *quarters = invoices_checked(tenant_alpha)
    assert [(invoice.period_start, invoice.period_end) for invoice in [start, *quarters]] == [
        (nov_30, ends[0]), (nov_30, ends[0]), (ends[0], ends[1])]
    assert [invoice_lines(invoice) for invoice in [start, *quarters]] == [
        [(Kind.FIXED, "Business (quarterly)", "809.97")]] * 3
    assert quarters[-1].lines.get().period_end == datetime(2027, 8, 30, 9, tzinfo=UTC)


def test_a_year_starting_on_february_29_renews_on_the_28th_and_on_the_29th_again_in_a_leap_year(tenant_alpha,
                                                                                               clock, catalogue):
    leap_day = datetime(2028, 2, 29, tzinfo=UTC)
    subscription_started(tenant_alpha, catalogue.pro_year, at=at(clock, leap_day))
    renewals = [datetime(year, 2, 28, tzinfo=UTC) for year in (2029, 2030, 2031)] + [datetime(2032, 2, 29,
                                                                                              tzinfo=UTC)]
    for renewal in renewals:
        billing_run(now=at(clock, renewal))

    start, *cycles = invoices_checked(tenant_alpha)
    assert invoice_lines(start) == [(Kind.FIXED, "Pro (yearly)", "990.00")]
    assert [invoice.period_end for invoice in cycles] == renewals
    assert [invoice.number[:8] for invoice in cycles] == ["TG-2029-", "TG-2030-", "TG-2031-", "TG-2032-"]
    assert {invoice_totals(invoice)["total"] for invoice in cycles} == {"990.00"}


def test_an_upgrade_under_a_forever_coupon_credits_the_discounted_fee(tenant_alpha, clock, catalogue):
    coupon_with_code(code="always20", name="Always", percent_off=D("20"), duration=Coupon.Duration.FOREVER)
    subscription = subscription_started(tenant_alpha, catalogue.pro, at=MAR_1, promotion_code="ALWAYS20")

    subscription_change(subscription=subscription, price=catalogue.business, actor=ACTOR, now=at(clock, MAR_16))

    start, upgrade = invoices_checked(tenant_alpha)
    assert invoice_totals(start) == totals_expected("79.20", subtotal="99.00", discount="19.80")
    # 79.20 paid for March, 16 of 31 days unused: 40.88 back (not 99.00 × 16/31 = 51.10); 20 % off the net.
    assert invoice_lines(upgrade) == [
        (Kind.PRORATION, f"Unused time on {PRO} from 16 Mar 2026", "-40.88"),
        (Kind.PRORATION, "Remaining time on Business (monthly) from 16 Mar 2026", "154.83"),
        (Kind.DISCOUNT, "Always (20 % off)", "-22.79")]
    assert invoice_totals(upgrade) == totals_expected("91.16", subtotal="113.95", discount="22.79")


def test_a_month_made_free_by_a_coupon_is_not_credited_when_the_tenant_switches_to_yearly(tenant_alpha, clock,
                                                                                       catalogue):
    coupon_with_code(code="free-month", name="Free month", percent_off=D("100"), duration=Coupon.Duration.ONCE)
    subscription = subscription_started(tenant_alpha, catalogue.pro, at=MAR_1, promotion_code="FREE-MONTH")

    subscription_change(subscription=subscription, price=catalogue.pro_year, actor=ACTOR,
                        now=at(clock, datetime(2026, 3, 2, tzinfo=UTC)))

    start, change = invoices_checked(tenant_alpha)
    assert invoice_totals(start) == totals_expected("0.00", subtotal="99.00", discount="99.00")
    assert invoice_totals(change)["total"] == "990.00"


def test_a_tenant_that_had_a_trial_starts_its_next_subscription_paid_at_once(tenant_alpha, clock, catalogue):
    first = subscription_started(tenant_alpha, catalogue.pro_trial, at=MAR_1, trial=True)
    subscription_cancel(subscription=first, actor=ACTOR, now=at(clock, MAR_10), at_period_end=False)

    second = subscription_started(tenant_alpha, catalogue.pro_trial, at=at(clock, MAR_16), trial=True)

    assert (second.status, second.trial_end) == (Status.ACTIVE, None)
    [start] = invoices_checked(tenant_alpha)
    assert (start.subscription, start.period_start, start.period_end) == (second, MAR_16, APR_1 + timedelta(days=15))
    assert (invoice_lines(start), invoice_totals(start)) == ([(Kind.FIXED, PRO, "99.00")], totals_expected("99.00"))
