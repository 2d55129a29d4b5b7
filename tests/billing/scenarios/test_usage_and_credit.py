"""End-to-end scenarios of usage charges (zero usage, tier and package boundaries, volume, percentage, minimum,
owed AI tokens), EUR prices, account credit and credit notes, a quote accepted into a one-time invoice, the draft
period, and the upcoming invoice, every invoice asserted to the cent and checked by invoice_check. The clock
starts on March 1 2026 (conftest)."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.test import override_settings

from billing.invoicing.credit import account_credit_add, account_credit_balance
from billing.invoicing.drafting import upcoming_invoice
from billing.invoicing.run import billing_run
from billing.invoicing.services import credit_note_issue, draft_invoice_line_add, invoice_void
from billing.models import AccountCreditEntry, Coupon, CreditNote, Invoice, InvoiceLine, Product
from billing.quotes.services import service_quote_accept, service_quote_request, service_quote_send
from config.money import Money
from metering.models import Meter
from metering.wallets.services import wallet_debit_or_owe
from tests.support.billing import (
    billing_profile,
    coupon_with_code,
    invoice_lines,
    invoice_pay,
    invoice_totals,
    invoices_checked,
    price_with_usage,
    subscription_started,
    tax_rate,
    totals_expected,
    usage_record,
)
from tests.support.factories import MeterFactory, PlanFactory

D = Decimal
Kind = InvoiceLine.Kind
MAR_1 = datetime(2026, 3, 1, tzinfo=UTC)
MAR_10 = datetime(2026, 3, 10, tzinfo=UTC)
APR_1 = datetime(2026, 4, 1, tzinfo=UTC)
APR_10 = datetime(2026, 4, 10, tzinfo=UTC)
MAY_1 = datetime(2026, 5, 1, tzinfo=UTC)
JUN_1 = datetime(2026, 6, 1, tzinfo=UTC)
PRO = "Pro (monthly)"
METERED = "Metered (monthly)"
NO_CALLS = (Kind.USAGE, "API calls: 0 calls (1,000 included)", "0.00")
GRADUATED = {"tiers": [{"up_to": "1000", "unit_amount": "0.002", "flat_amount": "2.00"},
                       {"up_to": None, "unit_amount": "0.001", "flat_amount": "1.00"}]}
VOLUME = {"tiers": [{"up_to": "1000", "unit_amount": "0.002", "flat_amount": "0"},
                    {"up_to": None, "unit_amount": "0.0015", "flat_amount": "0.50"}]}

pytestmark = pytest.mark.django_db


def at(clock, when: datetime) -> datetime:
    clock.move_to(when)
    return when


def metered_price(*charges: dict):
    """10.00 a month in advance and the given usage charges."""
    return price_with_usage(plan=PlanFactory(code="scenario-metered", name="Metered"), fixed_amount=D("10.00"),
                            charges=list(charges))


@pytest.fixture
def compute(db) -> Meter:
    return MeterFactory(code="scenario_compute", aggregation=Meter.Aggregation.SUM, event_property="seconds")


@pytest.fixture
def payments(db) -> Meter:
    return MeterFactory(code="scenario_payments", aggregation=Meter.Aggregation.SUM, event_property="amount")


# --- Usage --------------------------------------------------------------------------------------------------

def test_zero_usage_bills_a_graduated_charges_first_flat_fee_and_nothing_for_a_standard_one(tenant_alpha, clock,
                                                                                            calls, compute):
    price = metered_price(
        {"meter": calls, "name": "Requests", "unit_name": "requests", "charge_model": "graduated",
         "properties": GRADUATED},
        {"meter": compute, "name": "Compute", "unit_name": "hours", "charge_model": "standard",
         "properties": {"unit_amount": "0.25"}, "divide_by": D(3600)})
    subscription_started(tenant_alpha, price, at=MAR_1)

    billing_run(now=at(clock, APR_1))

    start, april = invoices_checked(tenant_alpha)
    assert invoice_lines(start) == [(Kind.FIXED, METERED, "10.00")]
    assert invoice_lines(april) == [(Kind.USAGE, "Requests: 0 requests", "2.00"),
                                    (Kind.USAGE, "Compute: 0 hours", "0.00"), (Kind.FIXED, METERED, "10.00")]
    assert invoice_totals(april) == totals_expected("12.00")


def test_usage_across_a_tier_boundary_is_priced_tier_by_tier_with_each_flat_fee(tenant_alpha, clock, calls):
    price = metered_price({"meter": calls, "name": "Requests", "unit_name": "requests",
                           "charge_model": "graduated", "properties": GRADUATED})
    subscription_started(tenant_alpha, price, at=MAR_1)
    usage_record(tenant_alpha, calls, 999, at=at(clock, MAR_10))
    usage_record(tenant_alpha, calls, 501, at=at(clock, datetime(2026, 3, 20, tzinfo=UTC)))

    billing_run(now=at(clock, APR_1))

    start, april = invoices_checked(tenant_alpha)
    assert invoice_lines(start) == [(Kind.FIXED, METERED, "10.00")]
    # 1,000 × 0.002 + 2.00, then 500 × 0.001 + 1.00.
    assert invoice_lines(april) == [(Kind.USAGE, "Requests: 1,500 requests", "5.50"), (Kind.FIXED, METERED, "10.00")]
    assert [part["tier"] for part in april.lines.get(kind=Kind.USAGE).breakdown] == [1, 2]
    assert invoice_totals(april) == totals_expected("15.50")


def test_a_volume_charge_prices_every_unit_at_the_tier_the_total_reaches(tenant_alpha, clock, calls):
    price = metered_price({"meter": calls, "name": "Requests", "unit_name": "requests", "charge_model": "volume",
                           "properties": VOLUME})
    subscription_started(tenant_alpha, price, at=MAR_1)
    usage_record(tenant_alpha, calls, 1000, at=at(clock, MAR_10))
    billing_run(now=at(clock, APR_1))
    usage_record(tenant_alpha, calls, 1500, at=at(clock, APR_10))
    billing_run(now=at(clock, MAY_1))

    start, april, may = invoices_checked(tenant_alpha)
    assert invoice_lines(start) == [(Kind.FIXED, METERED, "10.00")]
    assert invoice_lines(april) == [(Kind.USAGE, "Requests: 1,000 requests", "2.00"), (Kind.FIXED, METERED, "10.00")]
    # 1,500 × 0.0015 + 0.50: the whole quantity at the second tier's rate.
    assert invoice_lines(may) == [(Kind.USAGE, "Requests: 1,500 requests", "2.75"), (Kind.FIXED, METERED, "10.00")]


def test_the_first_call_beyond_a_package_starts_a_whole_new_package(tenant_alpha, clock, catalogue, calls):
    subscription_started(tenant_alpha, catalogue.pro, at=MAR_1)
    usage_record(tenant_alpha, calls, 1100, at=at(clock, MAR_10))
    billing_run(now=at(clock, APR_1))
    usage_record(tenant_alpha, calls, 1101, at=at(clock, APR_10))
    billing_run(now=at(clock, MAY_1))

    start, april, may = invoices_checked(tenant_alpha)
    assert invoice_lines(start) == [(Kind.FIXED, PRO, "99.00")]
    assert invoice_lines(april)[0] == (Kind.USAGE, "API calls: 1,100 calls (1,000 included)", "0.50")
    assert invoice_lines(may)[0] == (Kind.USAGE, "API calls: 1,101 calls (1,000 included)", "1.00")
    assert (april.total, may.total) == (D("99.50"), D("100.00"))


def test_a_percentage_charge_bills_each_payment_its_rate_and_fixed_fee(tenant_alpha, clock, payments):
    price = metered_price({"meter": payments, "name": "Card payments", "unit_name": "USD",
                           "charge_model": "percentage", "properties": {"rate": "2.9", "fixed_amount": "0.30"}})
    subscription_started(tenant_alpha, price, at=MAR_1)
    usage_record(tenant_alpha, payments, 100, 250, 33, at=at(clock, MAR_10))

    billing_run(now=at(clock, APR_1))

    start, april = invoices_checked(tenant_alpha)
    assert invoice_lines(start) == [(Kind.FIXED, METERED, "10.00")]
    # 3.20 + 7.55 + 1.257 = 12.007, rounded once on the line.
    assert invoice_lines(april) == [(Kind.USAGE, "Card payments: 383 USD", "12.01"), (Kind.FIXED, METERED, "10.00")]
    assert april.lines.get(kind=Kind.USAGE).amount_exact == D("12.007")
    assert invoice_totals(april) == totals_expected("22.01")


def test_a_charge_below_its_minimum_is_topped_up_on_a_line_of_its_own(tenant_alpha, clock, compute):
    price = metered_price({"meter": compute, "name": "Compute", "unit_name": "hours", "charge_model": "standard",
                           "properties": {"unit_amount": "0.25"}, "divide_by": D(3600),
                           "minimum_amount": D("5.00")})
    subscription_started(tenant_alpha, price, at=MAR_1)
    usage_record(tenant_alpha, compute, 7200, 3600, at=at(clock, MAR_10))

    billing_run(now=at(clock, APR_1))

    start, april = invoices_checked(tenant_alpha)
    assert invoice_lines(start) == [(Kind.FIXED, METERED, "10.00")]
    assert invoice_lines(april) == [(Kind.USAGE, "Compute: 3 hours", "0.75"),
                                    (Kind.MINIMUM, "Compute: minimum of 5 USD per period", "4.25"),
                                    (Kind.FIXED, METERED, "10.00")]
    assert invoice_totals(april) == totals_expected("15.00")


def test_ai_tokens_the_wallet_could_not_cover_are_invoiced_once(tenant_alpha, clock, catalogue):
    subscription_started(tenant_alpha, catalogue.pro, at=MAR_1)
    wallet_debit_or_owe(tenant=tenant_alpha, tokens=12_345, feature="ai_api", reason="Usage",
                        idempotency_key="scenario-owed", now=at(clock, MAR_10))

    billing_run(now=at(clock, APR_1))
    billing_run(now=at(clock, MAY_1))

    start, april, may = invoices_checked(tenant_alpha)
    assert invoice_lines(start) == [(Kind.FIXED, PRO, "99.00")]
    # 12,345 tokens at 0.10 per 1,000 = 1.2345.
    assert invoice_lines(april) == [
        NO_CALLS, (Kind.WALLET_SHORTFALL, "AI tokens used beyond the wallet's balance: 12,345 tokens at 0.10 USD "
                                          "per 1,000", "1.23"), (Kind.FIXED, PRO, "99.00")]
    assert invoice_totals(april) == totals_expected("100.23")
    assert invoice_lines(may) == [NO_CALLS, (Kind.FIXED, PRO, "99.00")]


# --- EUR ----------------------------------------------------------------------------------------------------

def test_a_eur_subscription_is_invoiced_in_eur_with_a_eur_coupon_and_token_price(tenant_alpha, clock, catalogue):
    tax_rate(percentage="19", country="DE")
    billing_profile(tenant_alpha, country="DE")
    coupon_with_code(code="zehn", name="Ten off", percent_off=None, amount_off=D("10.00"), currency="EUR",
                     duration=Coupon.Duration.FOREVER)
    subscription_started(tenant_alpha, catalogue.pro_eur, at=MAR_1, promotion_code="ZEHN")
    wallet_debit_or_owe(tenant=tenant_alpha, tokens=10_000, feature="ai_api", reason="Usage",
                        idempotency_key="scenario-owed-eur", now=at(clock, MAR_10))

    billing_run(now=at(clock, APR_1))

    start, april = invoices_checked(tenant_alpha)
    assert (start.currency, april.currency) == ("EUR", "EUR")
    assert invoice_lines(start) == [(Kind.FIXED, PRO, "89.00"), (Kind.DISCOUNT, "Ten off (10 EUR off)", "-10.00")]
    assert invoice_totals(start) == totals_expected("94.01", subtotal="89.00", discount="10.00", tax="15.01")
    # The tokens owed at 0.09 EUR per 1,000 are not discounted, but taxed: 79.90 × 19 % = 15.181.
    assert invoice_lines(april) == [
        (Kind.WALLET_SHORTFALL, "AI tokens used beyond the wallet's balance: 10,000 tokens at 0.09 EUR per 1,000",
         "0.90"), (Kind.FIXED, PRO, "89.00"), (Kind.DISCOUNT, "Ten off (10 EUR off)", "-10.00")]
    assert invoice_totals(april) == totals_expected("95.08", subtotal="89.90", discount="10.00", tax="15.18")


# --- Account credit and credit notes ------------------------------------------------------------------------

def test_a_credit_note_goes_to_the_account_credit_and_the_next_invoice_consumes_it(tenant_alpha, clock,
                                                                                  catalogue):
    subscription_started(tenant_alpha, catalogue.pro, at=MAR_1)
    [start] = invoices_checked(tenant_alpha)
    invoice_pay(start, at=at(clock, datetime(2026, 3, 2, tzinfo=UTC)))

    note = credit_note_issue(invoice=start, amount=Money(D("30.00"), "USD"), reason="product_unsatisfactory",
                             memo="Outage on March 4", actor="ops", now=at(clock, datetime(2026, 3, 5, tzinfo=UTC)))
    billing_run(now=at(clock, APR_1))

    start, april = invoices_checked(tenant_alpha)
    assert invoice_lines(start) == [(Kind.FIXED, PRO, "99.00")]
    assert note.number.startswith("CN-2026-") and (start.amount_credited, start.total) == (D("30.00"), D("99.00"))
    assert invoice_lines(april) == [NO_CALLS, (Kind.FIXED, PRO, "99.00")]
    assert invoice_totals(april) == totals_expected("99.00", credit="30.00", due="69.00")
    assert CreditNote.objects.get(tenant=tenant_alpha).amount == D("30.00")
    assert account_credit_balance(tenant=tenant_alpha, currency="USD").amount == 0


def test_account_credit_beyond_one_invoice_carries_over_to_the_next(tenant_alpha, clock, catalogue):
    subscription_started(tenant_alpha, catalogue.pro, at=MAR_1)
    account_credit_add(tenant=tenant_alpha, amount=Money(D("150.00"), "USD"),
                       kind=AccountCreditEntry.Kind.PROMOTION, description="Referral reward", actor="ops",
                       now=at(clock, datetime(2026, 3, 2, tzinfo=UTC)))

    billing_run(now=at(clock, APR_1))
    billing_run(now=at(clock, MAY_1))

    start, april, may = invoices_checked(tenant_alpha)
    # The start invoice was issued before the credit existed.
    assert invoice_lines(start) == [(Kind.FIXED, PRO, "99.00")]
    assert [invoice_lines(invoice) for invoice in (april, may)] == [[NO_CALLS, (Kind.FIXED, PRO, "99.00")]] * 2
    assert invoice_totals(start) == totals_expected("99.00")
    assert invoice_totals(april) == totals_expected("99.00", credit="99.00")
    assert april.status == Invoice.Status.PAID
    assert invoice_totals(may) == totals_expected("99.00", credit="51.00", due="48.00")
    assert account_credit_balance(tenant=tenant_alpha, currency="USD").amount == 0


def test_voiding_an_invoice_returns_the_credit_it_consumed_to_the_next_one(tenant_alpha, clock, catalogue):
    subscription_started(tenant_alpha, catalogue.pro, at=MAR_1)
    account_credit_add(tenant=tenant_alpha, amount=Money(D("50.00"), "USD"),
                       kind=AccountCreditEntry.Kind.ADJUSTMENT, description="Goodwill", actor="ops",
                       now=at(clock, datetime(2026, 3, 2, tzinfo=UTC)))
    billing_run(now=at(clock, APR_1))

    invoice_void(invoice=invoices_checked(tenant_alpha)[1], actor="ops", now=at(clock, datetime(2026, 4, 5,
                                                                                              tzinfo=UTC)))
    billing_run(now=at(clock, MAY_1))

    start, april, may = invoices_checked(tenant_alpha)
    assert invoice_lines(start) == [(Kind.FIXED, PRO, "99.00")]
    assert (april.status, invoice_totals(april)) == (Invoice.Status.VOID,
                                                     totals_expected("99.00", credit="50.00", due="49.00"))
    assert invoice_totals(may) == totals_expected("99.00", credit="50.00", due="49.00")
    assert [invoice_lines(invoice) for invoice in (april, may)] == [[NO_CALLS, (Kind.FIXED, PRO, "99.00")]] * 2


# --- One-time invoices, drafts, the upcoming invoice --------------------------------------------------------

def test_an_accepted_quote_is_invoiced_once_as_a_one_time_invoice_with_tax(tenant_alpha, clock):
    tax_rate(percentage="19", country="DE")
    billing_profile(tenant_alpha, country="DE")
    product = Product.objects.create(code="scenario-micro", name="Micro-Feature Development Package",
                                     min_amount=D("499"), max_amount=D("1499"))
    quote = service_quote_request(tenant=tenant_alpha, product=product, brief="A CSV export of our usage",
                                  actor="owner@alpha.test", now=at(clock, datetime(2026, 3, 3, tzinfo=UTC)))
    service_quote_send(quote=quote, amount=Money(D("899.00"), "USD"), note="Two days of work",
                       valid_until=datetime(2026, 3, 31, tzinfo=UTC), actor="ops",
                       now=at(clock, datetime(2026, 3, 5, tzinfo=UTC)))

    quote = service_quote_accept(quote=quote, actor="owner@alpha.test", now=at(clock, MAR_10))

    [invoice] = invoices_checked(tenant_alpha)
    assert (quote.invoice, invoice.billing_reason, invoice.subscription) == (
        invoice, Invoice.Reason.ONE_TIME, None)
    assert invoice_lines(invoice) == [(Kind.ONE_TIME, f"Micro-Feature Development Package (quote #{quote.pk})",
                                       "899.00")]
    assert invoice_totals(invoice) == totals_expected("1069.81", subtotal="899.00", tax="170.81")


@override_settings(BILLING_DRAFT_PERIOD_HOURS=24)
def test_with_a_draft_period_ops_add_a_line_before_the_run_finalises_the_invoice(tenant_alpha, clock, catalogue):
    subscription_started(tenant_alpha, catalogue.pro, at=MAR_1)
    [start] = invoices_checked(tenant_alpha)
    assert (start.status, start.number) == (Invoice.Status.DRAFT, None)
    billing_run(now=at(clock, datetime(2026, 3, 1, 23, 59, tzinfo=UTC)))
    assert invoices_checked(tenant_alpha)[0].status == Invoice.Status.DRAFT
    billing_run(now=at(clock, datetime(2026, 3, 2, tzinfo=UTC)))

    billing_run(now=at(clock, APR_1))
    draft = invoices_checked(tenant_alpha)[1]
    draft_invoice_line_add(invoice=draft, description="Onboarding call", amount=Money(D("150.00"), "USD"),
                           actor="ops")
    billing_run(now=at(clock, datetime(2026, 4, 2, tzinfo=UTC)))

    start, april = invoices_checked(tenant_alpha)
    assert (invoice_lines(start), invoice_totals(start)) == ([(Kind.FIXED, PRO, "99.00")], totals_expected("99.00"))
    assert (start.status, start.issued_at, start.due_at) == (
        Invoice.Status.OPEN, datetime(2026, 3, 2, tzinfo=UTC), datetime(2026, 3, 16, tzinfo=UTC))
    assert invoice_lines(april) == [NO_CALLS, (Kind.FIXED, PRO, "99.00"), (Kind.ONE_TIME, "Onboarding call",
                                                                           "150.00")]
    assert invoice_totals(april) == totals_expected("249.00")
    assert (april.status, april.issued_at) == (Invoice.Status.OPEN, datetime(2026, 4, 2, tzinfo=UTC))


def test_the_upcoming_invoice_is_the_one_issued_for_an_unchanged_period(tenant_alpha, clock, catalogue, calls):
    tax_rate(percentage="19", country="DE")
    billing_profile(tenant_alpha, country="DE")
    coupon_with_code(code="quarter", name="Quarter off", percent_off=D("25"), duration=Coupon.Duration.REPEATING,
                     duration_periods=3)
    subscription_started(tenant_alpha, catalogue.pro, at=MAR_1, quantity=5, promotion_code="QUARTER")
    usage_record(tenant_alpha, calls, 1250, at=at(clock, MAR_10))

    preview = upcoming_invoice(tenant=tenant_alpha, now=at(clock, datetime(2026, 3, 25, tzinfo=UTC)))
    billing_run(now=at(clock, APR_1))

    start, april = invoices_checked(tenant_alpha)
    assert invoice_lines(start) == [(Kind.FIXED, PRO, "99.00"),
                                    (Kind.SEATS, f"{PRO}: 2 seats beyond the 3 included", "24.00"),
                                    (Kind.DISCOUNT, "Quarter off (25 % off)", "-30.75")]
    assert invoice_totals(start) == totals_expected("109.78", subtotal="123.00", discount="30.75", tax="17.53")
    # 1.50 + 99.00 + 24.00 = 124.50; 25 % off = 31.125 → 31.13; VAT on 93.37 = 17.7403.
    assert invoice_lines(april) == [
        (Kind.USAGE, "API calls: 1,250 calls (1,000 included)", "1.50"), (Kind.FIXED, PRO, "99.00"),
        (Kind.SEATS, f"{PRO}: 2 seats beyond the 3 included", "24.00"),
        (Kind.DISCOUNT, "Quarter off (25 % off)", "-31.13")]
    assert invoice_totals(april) == totals_expected("111.11", subtotal="124.50", discount="31.13", tax="17.74")
    assert [(line.kind, line.description, line.quantity, line.amount_exact, line.amount)
            for line in april.lines.order_by("sort_order")] == [
        (line.kind, line.description, line.quantity, line.amount_exact, line.amount) for line in preview.lines]
    assert (preview.totals.subtotal, preview.totals.discount_total, preview.totals.tax_total,
            preview.totals.total) == (april.subtotal, april.discount_total, april.tax_total, april.total)


def test_the_upcoming_invoice_is_due_net_of_the_account_credit_the_issued_one_takes(tenant_alpha, clock, catalogue,
                                                                                   calls):
    subscription_started(tenant_alpha, catalogue.pro, at=MAR_1)
    invoice_pay(invoices_checked(tenant_alpha)[0], at=MAR_1)
    account_credit_add(tenant=tenant_alpha, amount=Money(D("40.00"), "USD"), kind=AccountCreditEntry.Kind.PROMOTION,
                       description="Referral reward", actor="ops", now=at(clock, MAR_10))
    usage_record(tenant_alpha, calls, 1250, at=MAR_10)

    preview = upcoming_invoice(tenant=tenant_alpha, now=at(clock, datetime(2026, 3, 25, tzinfo=UTC)))
    # Only a preview: the credit is all there for the invoice to take.
    assert account_credit_balance(tenant=tenant_alpha, currency="USD") == Money(D("40.00"), "USD")
    billing_run(now=at(clock, APR_1))

    start, april = invoices_checked(tenant_alpha)
    assert invoice_totals(april) == totals_expected("100.50", credit="40.00")
    assert (preview.total, preview.credit_applied, preview.amount_due) == (
        Money(D("100.50"), "USD"), Money(D("40.00"), "USD"), Money(D("60.50"), "USD"))
    assert preview.amount_due == Money(april.amount_due, "USD")


def test_the_upcoming_invoice_covered_by_credit_is_due_nothing(tenant_alpha, clock, catalogue):
    subscription_started(tenant_alpha, catalogue.pro, at=MAR_1)
    account_credit_add(tenant=tenant_alpha, amount=Money(D("500.00"), "USD"), kind=AccountCreditEntry.Kind.PROMOTION,
                       description="Goodwill", actor="ops", now=at(clock, MAR_10))

    preview = upcoming_invoice(tenant=tenant_alpha, now=at(clock, datetime(2026, 3, 25, tzinfo=UTC)))

    assert (preview.credit_applied, preview.amount_due) == (Money(D("99.00"), "USD"), Money(D("0.00"), "USD"))
    assert account_credit_balance(tenant=tenant_alpha, currency="USD") == Money(D("500.00"), "USD")
