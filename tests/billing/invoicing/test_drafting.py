"""What invoices say, line by line and to the cent, under a frozen clock: fixed fees and seats in advance, usage in
arrears, minimums, coupons, tax, pending items, owed AI tokens; the start and early-close invoices, the upcoming
invoice, writing a draft, and the plan comparison."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import count

import pytest
from django.db import IntegrityError
from django.test import override_settings

from billing.errors import BillingError
from billing.invoicing.drafting import (
    cycle_invoice_draft,
    invoice_create,
    invoice_issue,
    period_close_invoice_draft,
    plan_comparison,
    prorations_invoice_draft,
    start_invoice_draft,
    upcoming_invoice,
)
from billing.invoicing.tax import REVERSE_CHARGE_LEGEND
from billing.invoicing.totals import invoice_totals_compute
from billing.models import (
    BillingProfile,
    Coupon,
    CouponRedemption,
    Invoice,
    InvoiceLine,
    PendingInvoiceItem,
    Price,
    Subscription,
    TaxRate,
    UsageCharge,
)
from metering.models import Meter, Wallet
from metering.usage.services import event_ingest
from metering.wallets.services import wallet_debit_or_owe
from tests.support.clock import NOW
from tests.support.factories import MeterFactory, PlanFactory

D = Decimal
Kind = InvoiceLine.Kind
PERIOD_START = datetime(2026, 10, 20, 12, tzinfo=UTC)
PERIOD_END = NOW
NEXT_END = datetime(2026, 12, 20, 12, tzinfo=UTC)
MID = datetime(2026, 11, 5, 14, tzinfo=UTC)
GRADUATED_TIERS = {"tiers": [{"up_to": "10", "unit_amount": "0.05", "flat_amount": "1.00"},
                             {"up_to": "100", "unit_amount": "0.04", "flat_amount": "1.00"},
                             {"up_to": None, "unit_amount": "0.03", "flat_amount": "0"}]}
_sequence = count()

pytestmark = pytest.mark.usefixtures("frozen_now")


# --- Setup --------------------------------------------------------------------------------------------------

def pro_price(**fields) -> Price:
    """Pro, monthly: 99.00 USD in advance, 5 seats included, 12.00 per extra seat."""
    values = {"currency": "USD", "interval": Price.Interval.MONTH, "fixed_amount": D("99.00"),
              "per_seat_amount": D("12.00"), "included_seats": 5, **fields}
    plan = values.pop("plan", None) or PlanFactory(name="Pro")
    return Price.objects.create(plan=plan, code=f"drafting-{next(_sequence)}", **values)


def subscribe(tenant, price: Price, **fields) -> Subscription:
    """Active on `price` for [PERIOD_START, PERIOD_END), anchored at its start, 5 seats."""
    values = {"status": Subscription.Status.ACTIVE, "quantity": 5, "current_period_start": PERIOD_START,
              "current_period_end": PERIOD_END, "created_at": PERIOD_START, **fields}
    return Subscription.objects.create(tenant=tenant, plan=price.plan, price=price, **values)


def charge(price: Price, meter: Meter, model: str, properties: dict, **fields) -> UsageCharge:
    return UsageCharge.objects.create(price=price, meter_code=meter.code, name="Usage", unit_name="units",
                                      charge_model=model, properties=properties, **fields)


def record(tenant, meter: Meter, *values, at: datetime = MID) -> None:
    """One event per value (a count meter's values are ignored), at `at` or a (moment, value) pair's moment."""
    events = []
    for value in values:
        moment, value = value if isinstance(value, tuple) else (at, value)
        properties = {meter.event_property: value} if meter.is_numeric else {}
        events.append({"transaction_id": f"drafting-{next(_sequence)}", "meter": meter.code,
                       "timestamp": moment.isoformat(), "properties": properties})
    assert event_ingest(tenant=tenant, events=events, now=NOW).accepted == len(events)


def coupon_on(subscription: Subscription, *, periods_left: int | None = 1, **fields) -> CouponRedemption:
    coupon = Coupon.objects.create(code=f"coupon-{next(_sequence)}", name="Launch",
                                   **{"duration": Coupon.Duration.ONCE, **fields})
    return CouponRedemption.objects.create(tenant_id=subscription.tenant_id, subscription=subscription,
                                           coupon=coupon, periods_left=periods_left, redeemed_at=PERIOD_START)


def lines(draft) -> list[tuple[str, Decimal]]:
    return [(line.kind, line.amount) for line in draft.lines]


def totals(draft) -> tuple[Decimal, Decimal, Decimal, Decimal]:
    return (draft.totals.subtotal, draft.totals.discount_total, draft.totals.tax_total, draft.totals.total)


def draft_of(subscription: Subscription):
    return cycle_invoice_draft(subscription=subscription, now=NOW)


@pytest.fixture
def calls(db) -> Meter:
    return MeterFactory(code="drafting_calls")


@pytest.fixture
def volume(db) -> Meter:
    return MeterFactory(code="drafting_volume", aggregation=Meter.Aggregation.SUM, event_property="amount")


# --- Fixed fee and seats ------------------------------------------------------------------------------------

def test_the_cycle_invoice_charges_the_next_periods_fixed_fee_in_advance(tenant_alpha):
    draft = draft_of(subscribe(tenant_alpha, pro_price()))

    assert lines(draft) == [(Kind.FIXED, D("99.00"))]
    assert (draft.lines[0].period_start, draft.lines[0].period_end) == (PERIOD_END, NEXT_END)
    assert totals(draft) == (D("99.00"), D(0), D(0), D("99.00"))


def test_the_invoice_closes_the_period_that_ended(tenant_alpha):
    draft = draft_of(subscribe(tenant_alpha, pro_price()))

    assert (draft.period_start, draft.period_end, draft.currency) == (PERIOD_START, PERIOD_END, "USD")


def test_seats_beyond_the_included_ones_are_charged_per_seat(tenant_alpha):
    draft = draft_of(subscribe(tenant_alpha, pro_price(), quantity=8))

    assert lines(draft) == [(Kind.FIXED, D("99.00")), (Kind.SEATS, D("36.00"))]
    assert (draft.lines[1].quantity, draft.lines[1].unit_amount) == (D(3), D("12.00"))
    assert draft.totals.total == D("135.00")


def test_a_free_plan_still_has_its_zero_fixed_line(tenant_alpha):
    draft = draft_of(subscribe(tenant_alpha, pro_price(fixed_amount=D(0), per_seat_amount=D(0))))

    assert lines(draft) == [(Kind.FIXED, D("0.00"))]


def test_a_subscription_ending_with_its_period_has_no_fee_in_advance(tenant_alpha, calls):
    price = pro_price()
    charge(price, calls, "standard", {"unit_amount": "0.50"})
    record(tenant_alpha, calls, 1, 1)

    draft = draft_of(subscribe(tenant_alpha, price, cancel_at_period_end=True))

    assert lines(draft) == [(Kind.USAGE, D("1.00"))]


def test_a_scheduled_downgrade_charges_the_next_period_at_the_scheduled_price_and_seats(tenant_alpha):
    starter = pro_price(plan=PlanFactory(name="Starter"), fixed_amount=D("19.00"), per_seat_amount=D("5.00"),
                        included_seats=3)
    subscription = subscribe(tenant_alpha, pro_price(), quantity=8, scheduled_price=starter, scheduled_quantity=4)

    draft = draft_of(subscription)

    assert lines(draft) == [(Kind.FIXED, D("19.00")), (Kind.SEATS, D("5.00"))]
    assert draft.lines[0].description == "Starter (monthly)"


# --- Usage in arrears ---------------------------------------------------------------------------------------

def test_usage_across_a_package_boundary_bills_every_started_package(tenant_alpha, calls):
    price = pro_price()
    charge(price, calls, "package", {"amount": "1.50", "package_size": "10"}, included_units=D(5))
    record(tenant_alpha, calls, *[1] * 16)

    draft = draft_of(subscribe(tenant_alpha, price))

    # 16 calls, 5 included: 11 billed, two packages started.
    assert lines(draft) == [(Kind.USAGE, D("3.00")), (Kind.FIXED, D("99.00"))]
    usage = draft.lines[0]
    assert (usage.quantity, usage.period_start, usage.period_end) == (D(16), PERIOD_START, PERIOD_END)
    assert usage.description == "Usage: 16 units (5 included)"
    assert totals(draft) == (D("102.00"), D(0), D(0), D("102.00"))


def test_a_usage_line_separates_thousands_in_its_quantity_and_allowance(tenant_alpha, volume):
    price = pro_price()
    charge(price, volume, "standard", {"unit_amount": "0.001"}, included_units=D(100000))
    record(tenant_alpha, volume, 112500)

    draft = draft_of(subscribe(tenant_alpha, price))

    assert draft.lines[0].description == "Usage: 112,500 units (100,000 included)"


def test_a_usage_line_keeps_the_fraction_of_a_fractional_quantity(tenant_alpha, volume):
    price = pro_price()
    charge(price, volume, "standard", {"unit_amount": "0.10"}, minimum_amount=D("1500"))
    record(tenant_alpha, volume, 1234.5)

    draft = draft_of(subscribe(tenant_alpha, price))

    assert [line.description for line in draft.lines[:2]] == [
        "Usage: 1,234.5 units", "Usage: minimum of 1,500 USD per period"]


def test_graduated_usage_across_tiers_is_priced_per_tier_and_explained(tenant_alpha, volume):
    price = pro_price()
    charge(price, volume, "graduated", GRADUATED_TIERS)
    record(tenant_alpha, volume, 100, 50)

    draft = draft_of(subscribe(tenant_alpha, price))

    assert lines(draft) == [(Kind.USAGE, D("7.60")), (Kind.FIXED, D("99.00"))]
    assert [part["tier"] for part in draft.lines[0].breakdown] == [1, 2, 3]
    assert draft.totals.total == D("106.60")


def test_a_percentage_charge_bills_each_event_after_the_free_ones(tenant_alpha, volume):
    price = pro_price()
    charge(price, volume, "percentage", {"rate": "2.5", "fixed_amount": "0.30", "free_events": "1"})
    record(tenant_alpha, volume, (MID, 40), (MID + timedelta(hours=1), 200))

    draft = draft_of(subscribe(tenant_alpha, price))

    # The first event is free; 200 × 2.5 % + 0.30.
    assert lines(draft) == [(Kind.USAGE, D("5.30")), (Kind.FIXED, D("99.00"))]


def test_a_charge_below_its_minimum_gets_a_minimum_line_for_the_difference(tenant_alpha, calls):
    price = pro_price()
    charge(price, calls, "standard", {"unit_amount": "0.25"}, minimum_amount=D("2.00"))
    record(tenant_alpha, calls, 1, 1, 1)

    draft = draft_of(subscribe(tenant_alpha, price))

    assert lines(draft) == [(Kind.USAGE, D("0.75")), (Kind.MINIMUM, D("1.25")), (Kind.FIXED, D("99.00"))]
    assert draft.totals.total == D("101.00")


def test_zero_usage_still_shows_its_usage_line_at_zero(tenant_alpha, calls):
    price = pro_price()
    charge(price, calls, "standard", {"unit_amount": "0.25"})

    draft = draft_of(subscribe(tenant_alpha, price))

    assert lines(draft) == [(Kind.USAGE, D("0.00")), (Kind.FIXED, D("99.00"))]
    assert draft.lines[0].quantity == 0


def test_each_line_is_rounded_once_and_the_total_is_the_sum_of_rounded_lines(tenant_alpha, volume):
    price = pro_price(fixed_amount=D(0))
    # Two charges of 0.005 each: each line rounds half away from zero to 0.01, the total is 0.02.
    charge(price, volume, "standard", {"unit_amount": "0.001"})
    second = MeterFactory(code="drafting_second", aggregation=Meter.Aggregation.SUM, event_property="amount")
    charge(price, second, "standard", {"unit_amount": "0.001"})
    record(tenant_alpha, volume, 5)
    record(tenant_alpha, second, 5)

    draft = draft_of(subscribe(tenant_alpha, price))

    assert [line.amount_exact for line in draft.lines[:2]] == [D("0.005")] * 2
    assert lines(draft)[:2] == [(Kind.USAGE, D("0.01"))] * 2
    assert draft.totals.total == D("0.02")


def test_usage_while_trialing_is_not_billed(tenant_alpha, calls):
    price = pro_price()
    charge(price, calls, "standard", {"unit_amount": "1"})
    record(tenant_alpha, calls, 1, 1)

    draft = draft_of(subscribe(tenant_alpha, price, status=Subscription.Status.TRIALING, trial_end=PERIOD_END))

    assert lines(draft) == [(Kind.FIXED, D("99.00"))]


# --- Pending items and owed tokens -------------------------------------------------------------------------

def pending(subscription: Subscription, amount: str, description: str = "Proration") -> PendingInvoiceItem:
    return PendingInvoiceItem.objects.create(
        tenant_id=subscription.tenant_id, subscription=subscription, kind=Kind.PRORATION, description=description,
        currency="USD", amount_exact=D(amount), period_start=MID, period_end=PERIOD_END, created_at=MID)


def test_unbilled_pending_items_are_added_as_lines(tenant_alpha):
    subscription = subscribe(tenant_alpha, pro_price())
    pending(subscription, "-33.333333", "Unused time on Pro")
    pending(subscription, "50.123456", "Remaining time on Business")

    draft = draft_of(subscription)

    assert lines(draft) == [(Kind.FIXED, D("99.00")), (Kind.PRORATION, D("-33.33")), (Kind.PRORATION, D("50.12"))]
    assert draft.totals.total == D("115.79")


def test_writing_the_invoice_marks_its_pending_items_billed(tenant_alpha):
    subscription = subscribe(tenant_alpha, pro_price())
    item = pending(subscription, "10.00")

    invoice = invoice_create(tenant=tenant_alpha, subscription=subscription, draft=draft_of(subscription),
                             billing_reason=Invoice.Reason.SUBSCRIPTION_CYCLE, now=NOW)

    item.refresh_from_db()
    assert item.invoice == invoice
    assert lines(draft_of(subscription)) == [(Kind.FIXED, D("99.00"))]


def test_pending_items_billed_meanwhile_by_another_invoice_are_not_billed_twice(tenant_alpha):
    subscription = subscribe(tenant_alpha, pro_price())
    pending(subscription, "10.00")
    first, second = draft_of(subscription), draft_of(subscription)
    invoice_create(tenant=tenant_alpha, subscription=subscription, draft=first,
                   billing_reason=Invoice.Reason.SUBSCRIPTION_UPDATE, now=NOW)

    with pytest.raises(BillingError, match="billed by another invoice"):
        invoice_create(tenant=tenant_alpha, subscription=subscription, draft=second,
                       billing_reason=Invoice.Reason.SUBSCRIPTION_UPDATE, now=NOW)


def test_owed_ai_tokens_are_invoiced_at_the_token_price(tenant_alpha):
    wallet_debit_or_owe(tenant=tenant_alpha, tokens=12_345, feature="ai_api", reason="Usage",
                        idempotency_key="drafting-owed", now=NOW)

    draft = draft_of(subscribe(tenant_alpha, pro_price()))

    # 12,345 tokens at 0.10 USD per 1,000: 1.2345, rounded once.
    assert lines(draft) == [(Kind.WALLET_SHORTFALL, D("1.23")), (Kind.FIXED, D("99.00"))]
    assert draft.shortfall_tokens == 12_345


def test_invoicing_owed_tokens_settles_the_debt_in_the_wallet(tenant_alpha):
    wallet_debit_or_owe(tenant=tenant_alpha, tokens=12_345, feature="ai_api", reason="Usage",
                        idempotency_key="drafting-owed", now=NOW)
    subscription = subscribe(tenant_alpha, pro_price())

    invoice_create(tenant=tenant_alpha, subscription=subscription, draft=draft_of(subscription),
                   billing_reason=Invoice.Reason.SUBSCRIPTION_CYCLE, now=NOW)

    wallet = Wallet.objects.get(tenant=tenant_alpha)
    assert (wallet.owed, wallet.balance) == (0, 0)
    assert Kind.WALLET_SHORTFALL not in [kind for kind, _ in lines(draft_of(subscription))]


# --- Coupons ------------------------------------------------------------------------------------------------

def test_a_percentage_coupon_takes_its_share_of_the_subscription_lines(tenant_alpha, calls):
    price = pro_price()
    charge(price, calls, "package", {"amount": "1.50", "package_size": "10"}, included_units=D(5))
    record(tenant_alpha, calls, *[1] * 16)
    subscription = subscribe(tenant_alpha, price)
    coupon_on(subscription, percent_off=D("20"))

    draft = draft_of(subscription)

    # 20 % of 99.00 + 3.00.
    assert lines(draft)[-1] == (Kind.DISCOUNT, D("-20.40"))
    assert draft.lines[-1].description == "Launch (20 % off)"
    assert totals(draft) == (D("102.00"), D("20.40"), D(0), D("81.60"))


def test_a_percentage_discount_is_rounded_once_half_away_from_zero(tenant_alpha):
    subscription = subscribe(tenant_alpha, pro_price())
    coupon_on(subscription, percent_off=D("12.5"))

    draft = draft_of(subscription)

    # 12.5 % of 99.00 is 12.375.
    assert lines(draft)[-1] == (Kind.DISCOUNT, D("-12.38"))
    assert draft.totals.total == D("86.62")


def test_an_amount_off_never_takes_more_than_the_subscription_lines(tenant_alpha):
    subscription = subscribe(tenant_alpha, pro_price())
    coupon_on(subscription, amount_off=D("150"), currency="USD")

    draft = draft_of(subscription)

    assert lines(draft)[-1] == (Kind.DISCOUNT, D("-99.00"))
    assert draft.totals.total == D("0.00")


def test_a_coupon_does_not_discount_owed_ai_tokens(tenant_alpha):
    wallet_debit_or_owe(tenant=tenant_alpha, tokens=10_000, feature="ai_api", reason="Usage",
                        idempotency_key="drafting-owed", now=NOW)
    subscription = subscribe(tenant_alpha, pro_price())
    coupon_on(subscription, percent_off=D("100"))

    draft = draft_of(subscription)

    assert lines(draft) == [(Kind.WALLET_SHORTFALL, D("1.00")), (Kind.FIXED, D("99.00")), (Kind.DISCOUNT, D("-99.00"))]
    assert draft.totals.total == D("1.00")


def test_an_amount_off_in_another_currency_does_not_apply(tenant_alpha):
    subscription = subscribe(tenant_alpha, pro_price())
    coupon_on(subscription, amount_off=D("10"), currency="EUR")

    assert Kind.DISCOUNT not in [kind for kind, _ in lines(draft_of(subscription))]


def test_a_coupon_restricted_to_other_plans_does_not_apply(tenant_alpha):
    subscription = subscribe(tenant_alpha, pro_price())
    redemption = coupon_on(subscription, percent_off=D("20"))
    redemption.coupon.plans.add(PlanFactory())

    assert Kind.DISCOUNT not in [kind for kind, _ in lines(draft_of(subscription))]


def test_a_once_coupon_ends_with_the_invoice_that_used_it(tenant_alpha):
    subscription = subscribe(tenant_alpha, pro_price())
    redemption = coupon_on(subscription, percent_off=D("20"))

    invoice_create(tenant=tenant_alpha, subscription=subscription, draft=draft_of(subscription),
                   billing_reason=Invoice.Reason.SUBSCRIPTION_CYCLE, now=NOW)

    redemption.refresh_from_db()
    assert (redemption.periods_left, redemption.ended_at) == (0, NOW)


def test_a_repeating_coupon_counts_down_its_periods(tenant_alpha):
    subscription = subscribe(tenant_alpha, pro_price())
    redemption = coupon_on(subscription, percent_off=D("20"), duration=Coupon.Duration.REPEATING,
                           duration_periods=3, periods_left=3)

    invoice_create(tenant=tenant_alpha, subscription=subscription, draft=draft_of(subscription),
                   billing_reason=Invoice.Reason.SUBSCRIPTION_CYCLE, now=NOW)

    redemption.refresh_from_db()
    assert (redemption.periods_left, redemption.ended_at) == (2, None)


def test_a_forever_coupon_never_runs_out(tenant_alpha):
    subscription = subscribe(tenant_alpha, pro_price())
    redemption = coupon_on(subscription, percent_off=D("20"), duration=Coupon.Duration.FOREVER, periods_left=None)

    invoice_create(tenant=tenant_alpha, subscription=subscription, draft=draft_of(subscription),
                   billing_reason=Invoice.Reason.SUBSCRIPTION_CYCLE, now=NOW)

    redemption.refresh_from_db()
    assert (redemption.periods_left, redemption.ended_at) == (None, None)
    assert lines(draft_of(subscription))[-1] == (Kind.DISCOUNT, D("-19.80"))


def test_a_used_up_coupon_no_longer_discounts(tenant_alpha):
    subscription = subscribe(tenant_alpha, pro_price())
    coupon_on(subscription, percent_off=D("20"))
    invoice_create(tenant=tenant_alpha, subscription=subscription, draft=draft_of(subscription),
                   billing_reason=Invoice.Reason.SUBSCRIPTION_CYCLE, now=NOW)

    assert lines(draft_of(subscription)) == [(Kind.FIXED, D("99.00"))]


def test_a_prorations_invoice_is_discounted_without_using_up_a_coupon_period(tenant_alpha):
    subscription = subscribe(tenant_alpha, pro_price())
    redemption = coupon_on(subscription, percent_off=D("20"))
    pending(subscription, "50.00")
    draft = prorations_invoice_draft(subscription=subscription, now=MID)

    invoice_create(tenant=tenant_alpha, subscription=subscription, draft=draft,
                   billing_reason=Invoice.Reason.SUBSCRIPTION_UPDATE, now=MID)

    assert lines(draft) == [(Kind.PRORATION, D("50.00")), (Kind.DISCOUNT, D("-10.00"))]
    redemption.refresh_from_db()
    assert (redemption.periods_left, redemption.ended_at) == (1, None)


# --- Tax ----------------------------------------------------------------------------------------------------

def billed_in(tenant, country: str, **fields) -> BillingProfile:
    return BillingProfile.objects.create(tenant=tenant, legal_name="Alpha", country=country, **fields)


def test_exclusive_tax_is_added_on_the_rounded_taxable_total(tenant_alpha):
    TaxRate.objects.create(name="VAT", percentage=D("19"), country="DE")
    billed_in(tenant_alpha, "DE")

    draft = draft_of(subscribe(tenant_alpha, pro_price()))

    assert (draft.tax.name, draft.tax.percentage) == ("VAT", D("19"))
    assert totals(draft) == (D("99.00"), D(0), D("18.81"), D("117.81"))


def test_tax_is_on_what_is_left_after_the_discount(tenant_alpha):
    TaxRate.objects.create(name="VAT", percentage=D("19"), country="DE")
    billed_in(tenant_alpha, "DE")
    subscription = subscribe(tenant_alpha, pro_price())
    coupon_on(subscription, percent_off=D("20"))

    draft = draft_of(subscription)

    # (99.00 - 19.80) × 19 % = 15.048.
    assert totals(draft) == (D("99.00"), D("19.80"), D("15.05"), D("94.25"))


def test_inclusive_tax_is_the_part_of_the_total_that_is_tax(tenant_alpha):
    TaxRate.objects.create(name="VAT", percentage=D("7.7"), country="CH", inclusive=True)
    billed_in(tenant_alpha, "CH")

    draft = draft_of(subscribe(tenant_alpha, pro_price()))

    # 99.00 × 7.7 / 107.7 = 7.0779…
    assert totals(draft) == (D("99.00"), D(0), D("7.08"), D("99.00"))


def test_a_reverse_charged_invoice_has_no_tax_and_carries_the_legend(tenant_alpha):
    TaxRate.objects.create(name="VAT", percentage=D("19"), country="DE")
    billed_in(tenant_alpha, "DE", tax_id="DE136695976")

    draft = draft_of(subscribe(tenant_alpha, pro_price()))

    assert (draft.tax.percentage, draft.tax.legend) == (D(0), REVERSE_CHARGE_LEGEND)
    assert totals(draft) == (D("99.00"), D(0), D(0), D("99.00"))


def test_a_tax_exempt_tenant_pays_no_tax(tenant_alpha):
    TaxRate.objects.create(name="VAT", percentage=D("19"), country="DE")
    billed_in(tenant_alpha, "DE", tax_exempt=True)

    draft = draft_of(subscribe(tenant_alpha, pro_price()))

    assert totals(draft) == (D("99.00"), D(0), D(0), D("99.00"))


# --- Start, early close and prorations invoices ------------------------------------------------------------

def test_the_start_invoice_charges_the_first_period_in_advance(tenant_alpha):
    subscription = subscribe(tenant_alpha, pro_price(), quantity=6, current_period_start=NOW,
                             current_period_end=NEXT_END, created_at=NOW)

    draft = start_invoice_draft(subscription=subscription, now=NOW)

    assert lines(draft) == [(Kind.FIXED, D("99.00")), (Kind.SEATS, D("12.00"))]
    assert (draft.period_start, draft.period_end) == (NOW, NEXT_END)


def test_a_partial_first_calendar_month_is_prorated(tenant_alpha):
    december = datetime(2026, 12, 1, tzinfo=UTC)
    subscription = subscribe(tenant_alpha, pro_price(), quantity=6,
                             billing_anchor=Subscription.BillingAnchor.CALENDAR_MONTH,
                             current_period_start=datetime(2026, 11, 16, tzinfo=UTC), current_period_end=december,
                             created_at=december)

    draft = start_invoice_draft(subscription=subscription, now=NOW)

    # 15 of November's 30 days.
    assert lines(draft) == [(Kind.FIXED, D("49.50")), (Kind.SEATS, D("6.00"))]


def test_the_start_invoice_carries_the_coupon(tenant_alpha):
    subscription = subscribe(tenant_alpha, pro_price(), current_period_start=NOW, current_period_end=NEXT_END,
                             created_at=NOW)
    coupon_on(subscription, percent_off=D("50"))

    assert start_invoice_draft(subscription=subscription, now=NOW).totals.total == D("49.50")


def test_a_period_closed_early_bills_its_usage_and_pending_items_without_a_fee(tenant_alpha, calls):
    price = pro_price()
    charge(price, calls, "standard", {"unit_amount": "1"})
    record(tenant_alpha, calls, 1, at=MID - timedelta(days=1))
    record(tenant_alpha, calls, 1, at=MID + timedelta(days=1))
    subscription = subscribe(tenant_alpha, price)
    pending(subscription, "-20.00")

    draft = period_close_invoice_draft(subscription=subscription, period_start=PERIOD_START, period_end=MID,
                                       now=MID)

    assert lines(draft) == [(Kind.USAGE, D("1.00")), (Kind.PRORATION, D("-20.00"))]


def test_prorations_invoiced_now_are_the_pending_items(tenant_alpha):
    subscription = subscribe(tenant_alpha, pro_price())
    pending(subscription, "-33.33")
    pending(subscription, "66.67")

    draft = prorations_invoice_draft(subscription=subscription, now=MID)

    assert lines(draft) == [(Kind.PRORATION, D("-33.33")), (Kind.PRORATION, D("66.67"))]
    assert draft.totals.total == D("33.34")


def test_there_is_no_prorations_invoice_without_pending_items(tenant_alpha):
    assert prorations_invoice_draft(subscription=subscribe(tenant_alpha, pro_price()), now=MID) is None


# --- Upcoming invoice ---------------------------------------------------------------------------------------

def test_the_upcoming_invoice_is_the_cycle_invoice_with_usage_so_far(tenant_alpha, calls):
    price = pro_price()
    charge(price, calls, "standard", {"unit_amount": "0.50"})
    record(tenant_alpha, calls, 1, 1, 1)
    subscribe(tenant_alpha, price, current_period_end=NEXT_END)

    draft = upcoming_invoice(tenant=tenant_alpha, now=NOW)

    assert lines(draft) == [(Kind.USAGE, D("1.50")), (Kind.FIXED, D("99.00"))]


def test_a_tenant_without_a_subscription_has_no_upcoming_invoice(tenant_beta):
    assert upcoming_invoice(tenant=tenant_beta, now=NOW) is None


def test_a_paused_subscription_has_no_upcoming_invoice(tenant_alpha):
    subscribe(tenant_alpha, pro_price(), status=Subscription.Status.PAUSED, current_period_end=NEXT_END)

    assert upcoming_invoice(tenant=tenant_alpha, now=NOW) is None


def test_the_upcoming_invoice_is_only_the_tenants_own(tenant_alpha, tenant_beta):
    subscribe(tenant_beta, pro_price(), current_period_end=NEXT_END)

    assert upcoming_invoice(tenant=tenant_alpha, now=NOW) is None


# --- Writing the draft --------------------------------------------------------------------------------------

def test_the_written_invoice_has_the_drafts_lines_and_totals(tenant_alpha, calls):
    TaxRate.objects.create(name="VAT", percentage=D("19"), country="DE")
    billed_in(tenant_alpha, "DE")
    price = pro_price()
    charge(price, calls, "standard", {"unit_amount": "0.333"})
    record(tenant_alpha, calls, 1, 1, 1)
    subscription = subscribe(tenant_alpha, price, quantity=7)
    draft = draft_of(subscription)

    invoice = invoice_create(tenant=tenant_alpha, subscription=subscription, draft=draft,
                             billing_reason=Invoice.Reason.SUBSCRIPTION_CYCLE, now=NOW)

    assert [(line.kind, line.amount, line.amount_exact) for line in invoice.lines.all()] == [
        (line.kind, line.amount, line.amount_exact) for line in draft.lines]
    saved = invoice_totals_compute(invoice=invoice)
    assert (invoice.subtotal, invoice.discount_total, invoice.tax_total, invoice.total) == totals(draft) == (
        saved.subtotal, saved.discount_total, saved.tax_total, saved.total)
    assert (invoice.status, invoice.number, invoice.tax_name, invoice.tax_percentage) == (
        Invoice.Status.DRAFT, None, "VAT", D("19"))


@override_settings(BILLING_DRAFT_PERIOD_HOURS=24)
def test_the_draft_may_be_finalised_once_its_draft_period_ends(tenant_alpha):
    subscription = subscribe(tenant_alpha, pro_price())

    invoice = invoice_issue(tenant=tenant_alpha, subscription=subscription, draft=draft_of(subscription),
                            billing_reason=Invoice.Reason.SUBSCRIPTION_CYCLE, now=NOW)

    assert (invoice.status, invoice.finalize_after) == (Invoice.Status.DRAFT, NOW + timedelta(hours=24))


def test_without_a_draft_period_the_invoice_is_finalised_at_once(tenant_alpha):
    subscription = subscribe(tenant_alpha, pro_price())

    invoice = invoice_issue(tenant=tenant_alpha, subscription=subscription, draft=draft_of(subscription),
                            billing_reason=Invoice.Reason.SUBSCRIPTION_CYCLE, now=NOW)

    assert (invoice.status, invoice.amount_due, invoice.issued_at) == (Invoice.Status.OPEN, D("99.00"), NOW)
    assert invoice.number.startswith("TG-2026-")


def test_a_second_cycle_invoice_for_the_same_period_is_refused_by_the_database(tenant_alpha):
    subscription = subscribe(tenant_alpha, pro_price())
    invoice_create(tenant=tenant_alpha, subscription=subscription, draft=draft_of(subscription),
                   billing_reason=Invoice.Reason.SUBSCRIPTION_CYCLE, now=NOW)

    with pytest.raises(IntegrityError):
        invoice_create(tenant=tenant_alpha, subscription=subscription, draft=draft_of(subscription),
                       billing_reason=Invoice.Reason.SUBSCRIPTION_CYCLE, now=NOW)


# --- Plan comparison ----------------------------------------------------------------------------------------

def test_the_comparison_rates_the_tenants_usage_on_each_plans_price(tenant_alpha, calls):
    pro = pro_price()
    charge(pro, calls, "standard", {"unit_amount": "0.50"}, included_units=D(1))
    cheap = pro_price(plan=PlanFactory(name="Cheap", sort_order=1), fixed_amount=D("10.00"),
                      per_seat_amount=D("1.00"), included_seats=1)
    charge(cheap, calls, "standard", {"unit_amount": "2.00"})
    record(tenant_alpha, calls, 1, 1, 1, at=MID)
    record(tenant_alpha, calls, 1, at=PERIOD_START - timedelta(days=2))
    subscribe(tenant_alpha, pro, quantity=6, current_period_end=NEXT_END)

    comparison = plan_comparison(tenant=tenant_alpha, now=NOW)

    costs = {cost.price.pk: cost for cost in comparison.plans}
    # Pro: 99.00 + 1 extra seat 12.00 + 2 calls beyond the included one at 0.50; the period before had 1 call.
    assert (costs[pro.pk].current_period.amount, costs[pro.pk].last_period.amount) == (D("112.00"), D("111.00"))
    # Cheap: 10.00 + 5 extra seats at 1.00 + 3 calls at 2.00; 1 call the period before.
    assert (costs[cheap.pk].current_period.amount, costs[cheap.pk].last_period.amount) == (D("21.00"), D("17.00"))
    assert (costs[pro.pk].is_current, costs[cheap.pk].is_current) == (True, False)
    assert comparison.last_period == (datetime(2026, 9, 20, 12, tzinfo=UTC), PERIOD_START)


def test_the_comparison_leaves_out_private_plans_and_other_currencies(tenant_alpha):
    pro = pro_price()
    private = pro_price(plan=PlanFactory(name="Private", is_public=False))
    euro = pro_price(currency="EUR")
    subscribe(tenant_alpha, pro, current_period_end=NEXT_END)

    shown = {cost.price.pk for cost in plan_comparison(tenant=tenant_alpha, now=NOW).plans}

    assert pro.pk in shown and private.pk not in shown and euro.pk not in shown
    assert all(cost.price.currency == "USD" for cost in plan_comparison(tenant=tenant_alpha, now=NOW).plans)


def test_without_a_subscription_the_comparison_uses_calendar_months_in_usd(tenant_beta):
    comparison = plan_comparison(tenant=tenant_beta, now=NOW)

    assert comparison.current_period == (datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC))
    assert comparison.last_period == (datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC))
    seeded_starter = next(cost for cost in comparison.plans if cost.price.code == "starter-month-usd")
    assert seeded_starter.current_period.amount == D("19.00")
