"""End-to-end scenarios of coupons (once, repeating, forever, amount off, promotion codes) and tax (exclusive,
inclusive, reverse charge, regional sales tax, exempt, tax on a credit), every invoice asserted to the cent and
checked by invoice_check. The clock starts on March 1 2026 (conftest); Pro is 99.00 a month."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from billing.errors import CouponInvalid
from billing.invoicing.credit import account_credit_balance
from billing.invoicing.run import billing_run
from billing.invoicing.tax import REVERSE_CHARGE_LEGEND, TAX_EXEMPT_LEGEND
from billing.models import Coupon, InvoiceLine, Subscription
from billing.subscriptions.services import coupon_apply, subscription_cancel, subscription_change
from tests.support.billing import (
    ACTOR,
    billing_profile,
    coupon_with_code,
    invoice_lines,
    invoice_pay,
    invoice_totals,
    invoices_checked,
    subscription_started,
    tax_rate,
    totals_expected,
    usage_record,
)
from tests.support.factories import CouponFactory

D = Decimal
Kind = InvoiceLine.Kind
MAR_1 = datetime(2026, 3, 1, tzinfo=UTC)
MAR_16 = datetime(2026, 3, 16, tzinfo=UTC)
APR_1 = datetime(2026, 4, 1, tzinfo=UTC)
MAY_1 = datetime(2026, 5, 1, tzinfo=UTC)
JUN_1 = datetime(2026, 6, 1, tzinfo=UTC)
PRO = "Pro (monthly)"
STARTER = "Starter (monthly)"
NO_CALLS = (Kind.USAGE, "API calls: 0 calls (1,000 included)", "0.00")
CALLS_1250 = (Kind.USAGE, "API calls: 1,250 calls (1,000 included)", "1.50")

pytestmark = pytest.mark.django_db


def at(clock, when: datetime) -> datetime:
    clock.move_to(when)
    return when


def monthly_runs(clock, *months: datetime) -> None:
    for month in months:
        billing_run(now=at(clock, month))


# --- Coupons ------------------------------------------------------------------------------------------------

def test_a_once_coupon_from_a_promotion_code_discounts_the_first_invoice_only(tenant_alpha, clock, catalogue):
    coupon_with_code(code="launch20", name="Launch", percent_off=D("20"), duration=Coupon.Duration.ONCE)

    subscription_started(tenant_alpha, catalogue.pro, at=MAR_1, promotion_code="launch20")
    monthly_runs(clock, APR_1)

    start, april = invoices_checked(tenant_alpha)
    assert invoice_lines(start) == [(Kind.FIXED, PRO, "99.00"), (Kind.DISCOUNT, "Launch (20 % off)", "-19.80")]
    assert invoice_totals(start) == totals_expected("79.20", subtotal="99.00", discount="19.80")
    assert invoice_lines(april) == [NO_CALLS, (Kind.FIXED, PRO, "99.00")]
    assert invoice_totals(april) == totals_expected("99.00")


def test_a_repeating_coupon_discounts_fees_and_usage_for_its_periods_then_stops(tenant_alpha, clock, catalogue,
                                                                                calls):
    coupon_with_code(code="loyal", name="Loyal", percent_off=D("10"), duration=Coupon.Duration.REPEATING,
                     duration_periods=3)
    subscription_started(tenant_alpha, catalogue.pro, at=MAR_1, promotion_code="LOYAL")
    usage_record(tenant_alpha, calls, 1250, at=at(clock, datetime(2026, 3, 10, tzinfo=UTC)))

    monthly_runs(clock, APR_1, MAY_1, JUN_1)

    start, april, may, june = invoices_checked(tenant_alpha)
    discount = "Loyal (10 % off)"
    assert invoice_lines(start) == [(Kind.FIXED, PRO, "99.00"), (Kind.DISCOUNT, discount, "-9.90")]
    # 10 % of the fee and the usage: 100.50 → 10.05.
    assert invoice_lines(april) == [CALLS_1250, (Kind.FIXED, PRO, "99.00"), (Kind.DISCOUNT, discount, "-10.05")]
    assert invoice_totals(april) == totals_expected("90.45", subtotal="100.50", discount="10.05")
    assert invoice_lines(may) == [NO_CALLS, (Kind.FIXED, PRO, "99.00"), (Kind.DISCOUNT, discount, "-9.90")]
    assert invoice_lines(june) == [NO_CALLS, (Kind.FIXED, PRO, "99.00")]
    assert [invoice.total for invoice in (start, april, may, june)] == [
        D("89.10"), D("90.45"), D("89.10"), D("99.00")]


def test_a_forever_amount_off_coupon_discounts_every_invoice(tenant_alpha, clock, catalogue):
    coupon_with_code(code="ten-off", name="Ten off", percent_off=None, amount_off=D("10.00"), currency="USD",
                     duration=Coupon.Duration.FOREVER)
    subscription = subscription_started(tenant_alpha, catalogue.pro, at=MAR_1, promotion_code="TEN-OFF")

    monthly_runs(clock, APR_1, MAY_1, JUN_1)

    invoices = invoices_checked(tenant_alpha)
    discount = (Kind.DISCOUNT, "Ten off (10 USD off)", "-10.00")
    assert [invoice_lines(invoice) for invoice in invoices] == [[(Kind.FIXED, PRO, "99.00"), discount]] + [
        [NO_CALLS, (Kind.FIXED, PRO, "99.00"), discount]] * 3
    assert [invoice_totals(invoice) for invoice in invoices] == [
        totals_expected("89.00", subtotal="99.00", discount="10.00")] * 4
    assert subscription.redemptions.get().ended_at is None


def test_an_amount_off_larger_than_the_invoice_takes_it_to_zero_and_it_is_paid_at_once(tenant_alpha, clock,
                                                                                      catalogue):
    coupon_with_code(code="big", name="Big", percent_off=None, amount_off=D("25.00"), currency="USD",
                     duration=Coupon.Duration.FOREVER)

    subscription_started(tenant_alpha, catalogue.starter, at=MAR_1, promotion_code="BIG")
    monthly_runs(clock, APR_1)

    start, april = invoices_checked(tenant_alpha)
    for invoice in (start, april):
        assert invoice_lines(invoice) == [(Kind.FIXED, STARTER, "19.00"), (Kind.DISCOUNT, "Big (25 USD off)",
                                                                           "-19.00")]
        assert invoice_totals(invoice) == totals_expected("0.00", subtotal="19.00", discount="19.00")
        assert (invoice.status, invoice.paid_at) == ("paid", invoice.issued_at)


def test_a_first_subscription_promotion_code_is_refused_to_the_tenants_second_subscription(tenant_alpha, clock,
                                                                                            catalogue):
    coupon_with_code(code="welcome", first_subscription_only=True, name="Welcome", percent_off=D("20"),
                     duration=Coupon.Duration.ONCE)
    first = subscription_started(tenant_alpha, catalogue.pro, at=MAR_1, promotion_code="WELCOME")
    subscription_cancel(subscription=first, actor=ACTOR, now=at(clock, MAR_16), at_period_end=False)

    returning = at(clock, datetime(2026, 3, 20, tzinfo=UTC))
    with pytest.raises(CouponInvalid, match="first subscription only"):
        subscription_started(tenant_alpha, catalogue.pro, at=returning, promotion_code="WELCOME")
    subscription_started(tenant_alpha, catalogue.pro, at=returning)

    first_start, closing, second_start = invoices_checked(tenant_alpha)
    assert invoice_totals(first_start) == totals_expected("79.20", subtotal="99.00", discount="19.80")
    assert invoice_lines(closing) == [NO_CALLS]
    assert invoice_totals(closing) == totals_expected("0.00")
    assert invoice_lines(second_start) == [(Kind.FIXED, PRO, "99.00")]
    assert invoice_totals(second_start) == totals_expected("99.00")
    assert Subscription.objects.filter(tenant=tenant_alpha).count() == 2


# --- Tax ----------------------------------------------------------------------------------------------------

def test_exclusive_vat_is_added_on_the_rounded_subtotal_rounding_half_away_from_zero(tenant_alpha, clock,
                                                                                       catalogue, calls):
    tax_rate(percentage="19", country="DE")
    billing_profile(tenant_alpha, country="DE")
    subscription_started(tenant_alpha, catalogue.pro, at=MAR_1)
    usage_record(tenant_alpha, calls, 1250, at=at(clock, datetime(2026, 3, 10, tzinfo=UTC)))

    monthly_runs(clock, APR_1)

    start, april = invoices_checked(tenant_alpha)
    assert (start.tax_name, start.tax_percentage, start.tax_inclusive) == ("VAT", D("19"), False)
    assert invoice_lines(start) == [(Kind.FIXED, PRO, "99.00")]
    assert invoice_totals(start) == totals_expected("117.81", subtotal="99.00", tax="18.81")
    # 100.50 × 19 % = 19.095 exactly: half away from zero gives 19.10.
    assert invoice_lines(april) == [CALLS_1250, (Kind.FIXED, PRO, "99.00")]
    assert invoice_totals(april) == totals_expected("119.60", subtotal="100.50", tax="19.10")


def test_inclusive_vat_is_the_part_of_the_total_that_is_tax(tenant_alpha, clock, catalogue):
    tax_rate(percentage="7.7", country="CH", inclusive=True)
    billing_profile(tenant_alpha, country="CH")

    subscription_started(tenant_alpha, catalogue.pro, at=MAR_1)
    monthly_runs(clock, APR_1)

    start, april = invoices_checked(tenant_alpha)
    assert invoice_lines(start) == [(Kind.FIXED, PRO, "99.00")]
    assert invoice_lines(april) == [NO_CALLS, (Kind.FIXED, PRO, "99.00")]
    for invoice in (start, april):
        # 99.00 × 7.7 / 107.7 = 7.0779…
        assert invoice_totals(invoice) == totals_expected("99.00", tax="7.08")
        assert invoice.tax_inclusive


def test_an_eu_business_with_a_valid_vat_id_is_reverse_charged_with_the_legend(tenant_alpha, clock, catalogue):
    tax_rate(percentage="19", country="DE")
    billing_profile(tenant_alpha, country="DE", tax_id="DE136695976")

    subscription_started(tenant_alpha, catalogue.pro, at=MAR_1)
    monthly_runs(clock, APR_1)

    start, april = invoices_checked(tenant_alpha)
    assert invoice_lines(start) == [(Kind.FIXED, PRO, "99.00")]
    assert invoice_lines(april) == [NO_CALLS, (Kind.FIXED, PRO, "99.00")]
    for invoice in (start, april):
        assert (invoice.tax_percentage, invoice.tax_legend) == (D(0), REVERSE_CHARGE_LEGEND)
        assert invoice_totals(invoice) == totals_expected("99.00")


def test_a_regional_sales_tax_applies_over_the_countrys_on_the_discounted_amount(tenant_alpha, clock, catalogue):
    tax_rate(percentage="5", country="US", name="Sales tax")
    tax_rate(percentage="7.25", country="US", region="CA", name="Sales tax")
    billing_profile(tenant_alpha, country="US", region="CA")
    coupon_with_code(code="launch20", name="Launch", percent_off=D("20"))

    subscription_started(tenant_alpha, catalogue.pro, at=MAR_1, promotion_code="LAUNCH20")

    [start] = invoices_checked(tenant_alpha)
    assert (start.tax_name, start.tax_percentage) == ("Sales tax", D("7.25"))
    assert invoice_lines(start) == [(Kind.FIXED, PRO, "99.00"), (Kind.DISCOUNT, "Launch (20 % off)", "-19.80")]
    # (99.00 - 19.80) × 7.25 % = 5.742
    assert invoice_totals(start) == totals_expected("84.94", subtotal="99.00", discount="19.80", tax="5.74")


def test_a_tax_exempt_tenant_pays_no_tax_and_its_invoice_says_why(tenant_alpha, clock, catalogue):
    tax_rate(percentage="19", country="DE")
    billing_profile(tenant_alpha, country="DE", tax_exempt=True)

    subscription_started(tenant_alpha, catalogue.pro, at=MAR_1)

    [start] = invoices_checked(tenant_alpha)
    assert (start.tax_percentage, start.tax_legend) == (None, TAX_EXEMPT_LEGEND)
    assert invoice_lines(start) == [(Kind.FIXED, PRO, "99.00")]
    assert invoice_totals(start) == totals_expected("99.00")


def test_a_credit_carries_back_the_vat_paid_on_it(tenant_alpha, clock, catalogue):
    tax_rate(percentage="19", country="DE")
    billing_profile(tenant_alpha, country="DE")
    subscription = subscription_started(tenant_alpha, catalogue.pro, at=MAR_1)
    invoice_pay(invoices_checked(tenant_alpha)[0], at=MAR_1)

    subscription_change(subscription=subscription, price=catalogue.starter, actor="ops", now=at(clock, MAR_16),
                        force_now=True)
    monthly_runs(clock, APR_1)

    start, change, april = invoices_checked(tenant_alpha)
    assert invoice_lines(start) == [(Kind.FIXED, PRO, "99.00")]
    assert invoice_totals(start) == totals_expected("117.81", subtotal="99.00", tax="18.81")
    assert invoice_lines(change) == [(Kind.PRORATION, f"Unused time on {PRO} from 16 Mar 2026", "-51.10"),
                                     (Kind.PRORATION, f"Remaining time on {STARTER} from 16 Mar 2026", "9.81")]
    assert invoice_lines(april) == [(Kind.FIXED, STARTER, "19.00")]
    # -41.29 × 19 % = -7.8451: the tenant gets back the VAT it paid on the unused time.
    assert invoice_totals(change) == totals_expected("-49.14", subtotal="-41.29", tax="-7.85", due="0.00")
    # Starter's 19.00 + 3.61 VAT, paid from the 49.14 of credit.
    assert invoice_totals(april) == totals_expected("22.61", subtotal="19.00", tax="3.61", credit="22.61")
    assert account_credit_balance(tenant=tenant_alpha, currency="USD").amount == D("26.53")


def test_a_coupon_applied_by_ops_mid_period_discounts_the_next_invoice(tenant_alpha, clock, catalogue):
    subscription = subscription_started(tenant_alpha, catalogue.pro, at=MAR_1)
    goodwill = CouponFactory(code="goodwill", name="Goodwill", percent_off=D("15"), duration=Coupon.Duration.ONCE)

    coupon_apply(subscription=subscription, coupon=goodwill, actor="ops", now=at(clock, MAR_16))
    monthly_runs(clock, APR_1, MAY_1)

    start, april, may = invoices_checked(tenant_alpha)
    assert invoice_lines(start) == [(Kind.FIXED, PRO, "99.00")]
    # 15 % of 99.00 = 14.85.
    assert invoice_lines(april) == [NO_CALLS, (Kind.FIXED, PRO, "99.00"), (Kind.DISCOUNT, "Goodwill (15 % off)",
                                                                         "-14.85")]
    assert invoice_totals(april) == totals_expected("84.15", subtotal="99.00", discount="14.85")
    assert (invoice_lines(may), invoice_totals(may)) == ([NO_CALLS, (Kind.FIXED, PRO, "99.00")],
                                                         totals_expected("99.00"))


def test_the_tenants_net_terms_set_the_due_date_and_when_it_falls_past_due(tenant_alpha, clock, catalogue):
    billing_profile(tenant_alpha, country="", net_terms_days=30)
    subscription = subscription_started(tenant_alpha, catalogue.pro, at=MAR_1)
    due = MAR_1 + timedelta(days=30)

    billing_run(now=at(clock, due - timedelta(seconds=1)))
    subscription.refresh_from_db()
    assert subscription.status == Subscription.Status.ACTIVE
    billing_run(now=at(clock, due))

    subscription.refresh_from_db()
    assert (subscription.status, subscription.past_due_since) == (Subscription.Status.PAST_DUE, due)
    [start] = invoices_checked(tenant_alpha)
    assert (start.due_at, invoice_lines(start), invoice_totals(start)) == (
        due, [(Kind.FIXED, PRO, "99.00")], totals_expected("99.00"))
