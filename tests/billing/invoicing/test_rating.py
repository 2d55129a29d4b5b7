"""Rating a usage charge over a period from metering's reads: units, included units, each charge model, the
minimum, per-event values for percentage, the per-day explanation, and owed AI tokens."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import count

import pytest
from django.test import override_settings

from billing.errors import BillingError
from billing.invoicing.rating import (
    MeterMissing,
    usage_charge_rate,
    usage_daily,
    wallet_shortfall_rate,
    wallet_shortfall_tokens,
)
from billing.models import Price, UsageCharge
from metering.models import Meter
from metering.usage.selectors import usage_event_values
from metering.usage.services import event_ingest
from metering.wallets.services import wallet_debit_or_owe
from tests.support.clock import NOW
from tests.support.factories import MeterFactory, PlanFactory

# A period that starts and ends mid-hour, so its edges are read from raw events and its middle from rollups.
START = datetime(2026, 10, 21, 9, 30, tzinfo=UTC)
END = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
MID = datetime(2026, 11, 5, 14, 0, tzinfo=UTC)
GRADUATED_TIERS = {"tiers": [{"up_to": "10", "unit_amount": "0.05", "flat_amount": "1.00"},
                             {"up_to": "100", "unit_amount": "0.04", "flat_amount": "1.00"},
                             {"up_to": None, "unit_amount": "0.03", "flat_amount": "0"}]}
_transaction_ids = count()


@pytest.fixture
def calls(db) -> Meter:
    return MeterFactory(code="rated_calls")


@pytest.fixture
def volume(db) -> Meter:
    return MeterFactory(code="rated_volume", aggregation=Meter.Aggregation.SUM, event_property="amount")


def record(tenant, meter: Meter, *moments_and_values) -> None:
    """Events at the given instants: (at, value) pairs for a numeric meter, bare instants for a count."""
    events = []
    for item in moments_and_values:
        at, value = item if isinstance(item, tuple) else (item, None)
        properties = {} if value is None else {meter.event_property: value}
        events.append({"transaction_id": f"rating-{next(_transaction_ids)}", "meter": meter.code,
                       "timestamp": at.isoformat(), "properties": properties})
    result = event_ingest(tenant=tenant, events=events, now=NOW)
    assert result.accepted == len(events) and not result.rejected


def charge_on(meter: Meter, model: str, properties: dict, **fields) -> UsageCharge:
    price = Price.objects.create(plan=PlanFactory(), code=f"price-{next(_transaction_ids)}", fixed_amount=Decimal(0))
    return UsageCharge.objects.create(price=price, meter_code=meter.code, name="Usage", charge_model=model,
                                      properties=properties, **fields)


def rate(tenant, charge: UsageCharge):
    return usage_charge_rate(tenant=tenant, charge=charge, start=START, end=END)


# --- The period ---------------------------------------------------------------------------------------------

def test_events_from_the_start_of_the_period_count_and_those_at_its_end_do_not(tenant_alpha, calls):
    record(tenant_alpha, calls, START - timedelta(seconds=1), START, MID, END - timedelta(seconds=1), END)

    rated = rate(tenant_alpha, charge_on(calls, "standard", {"unit_amount": "1"}))

    assert (rated.quantity, rated.amount) == (Decimal(3), Decimal(3))


def test_another_tenants_usage_is_not_rated(tenant_alpha, tenant_beta, calls):
    record(tenant_beta, calls, MID, MID)

    assert rate(tenant_alpha, charge_on(calls, "standard", {"unit_amount": "1"})).amount == 0


def test_divide_by_bills_the_meter_in_bigger_units_to_the_micro_unit(tenant_alpha, volume):
    record(tenant_alpha, volume, (MID, 3600), (MID, 1800), (MID, 1))
    charge = charge_on(volume, "standard", {"unit_amount": "0.12"}, divide_by=Decimal(3600))

    rated = rate(tenant_alpha, charge)

    # 5401 seconds = 1.500277… hours, quantized half up to 1.500278 before it is priced.
    assert (rated.quantity, rated.units, rated.amount) == (Decimal(5401), Decimal("1.500278"),
                                                            Decimal("0.18003336"))


# --- Included units and the charge models ------------------------------------------------------------------

def test_included_units_are_taken_off_before_the_charge_model_and_shown_in_the_breakdown(tenant_alpha, calls):
    record(tenant_alpha, calls, *[MID] * 12)
    charge = charge_on(calls, "standard", {"unit_amount": "0.50"}, included_units=Decimal(5))

    rated = rate(tenant_alpha, charge)

    assert (rated.units, rated.billed_quantity, rated.amount) == (Decimal(12), Decimal(7), Decimal("3.50"))
    assert rated.breakdown[0] == {"kind": "included_units", "units": "5", "amount": "0"}


def test_usage_within_the_included_units_costs_nothing(tenant_alpha, calls):
    record(tenant_alpha, calls, MID, MID)
    charge = charge_on(calls, "standard", {"unit_amount": "0.50"}, included_units=Decimal(5))

    rated = rate(tenant_alpha, charge)

    assert (rated.billed_quantity, rated.amount, rated.breakdown[0]["units"]) == (Decimal(0), Decimal(0), "2")


@pytest.mark.parametrize(("calls_made", "packages"), [(15, 1), (16, 2), (25, 2), (26, 3)])
def test_a_package_charge_bills_every_started_package_beyond_the_included_units(tenant_alpha, calls, calls_made,
                                                                                 packages):
    record(tenant_alpha, calls, *[MID] * calls_made)
    charge = charge_on(calls, "package", {"amount": "1.00", "package_size": "10"}, included_units=Decimal(5))

    assert rate(tenant_alpha, charge).amount == Decimal(packages)


def test_a_graduated_charge_prices_each_unit_at_its_tiers_rate(tenant_alpha, volume):
    record(tenant_alpha, volume, (START, 100), (MID, 50))

    rated = rate(tenant_alpha, charge_on(volume, "graduated", GRADUATED_TIERS))

    # 10 × 0.05 + 1.00, 90 × 0.04 + 1.00, 50 × 0.03.
    assert rated.amount == Decimal("7.60")
    assert [Decimal(part["amount"]) for part in rated.breakdown] == [Decimal("1.50"), Decimal("4.60"),
                                                                     Decimal("1.50")]


def test_a_graduated_charge_with_zero_usage_bills_its_first_tiers_flat_amount(tenant_alpha, volume):
    assert rate(tenant_alpha, charge_on(volume, "graduated", GRADUATED_TIERS)).amount == Decimal("1.00")


def test_a_standard_charge_with_zero_usage_bills_nothing(tenant_alpha, volume):
    rated = rate(tenant_alpha, charge_on(volume, "standard", {"unit_amount": "0.12"}, minimum_amount=Decimal(0)))

    assert (rated.quantity, rated.amount, rated.minimum_topup) == (Decimal(0), Decimal(0), Decimal(0))


def test_a_percentage_charge_prices_each_event_in_the_order_it_happened(tenant_alpha, volume):
    # Recorded out of order: the free first event is the earliest one, not the first written.
    record(tenant_alpha, volume, (MID, 200), (START, 40))
    charge = charge_on(volume, "percentage", {"rate": "2.5", "fixed_amount": "0.30", "free_events": "1"})

    rated = rate(tenant_alpha, charge)

    assert rated.amount == Decimal("200") * Decimal("0.025") + Decimal("0.30")
    assert rated.billed_quantity == Decimal(240)


def test_a_percentage_charge_ignores_included_units_it_has_its_own_free_allowance(tenant_alpha, volume):
    record(tenant_alpha, volume, (MID, 100))
    charge = charge_on(volume, "percentage", {"rate": "10"}, included_units=Decimal(50))

    assert rate(tenant_alpha, charge).amount == Decimal(10)


def test_a_charge_below_its_minimum_is_topped_up_by_the_difference(tenant_alpha, calls):
    record(tenant_alpha, calls, MID, MID, MID)
    charge = charge_on(calls, "standard", {"unit_amount": "0.25"}, minimum_amount=Decimal("2.00"))

    rated = rate(tenant_alpha, charge)

    assert (rated.amount, rated.minimum_topup) == (Decimal("0.75"), Decimal("1.25"))


def test_a_charge_above_its_minimum_has_no_top_up(tenant_alpha, calls):
    record(tenant_alpha, calls, *[MID] * 10)
    charge = charge_on(calls, "standard", {"unit_amount": "0.25"}, minimum_amount=Decimal("2.00"))

    assert rate(tenant_alpha, charge).minimum_topup == 0


def test_a_charge_on_a_meter_that_does_not_exist_is_refused_rather_than_billed_as_zero(tenant_alpha, calls):
    charge = charge_on(calls, "standard", {"unit_amount": "1"})
    charge.meter_code = "no_such_meter"

    with pytest.raises(MeterMissing):
        rate(tenant_alpha, charge)


def test_a_retired_meter_still_bills_the_usage_recorded_on_it(tenant_alpha, calls):
    record(tenant_alpha, calls, MID, MID)
    Meter.objects.filter(pk=calls.pk).update(is_active=False)

    assert rate(tenant_alpha, charge_on(calls, "standard", {"unit_amount": "1"})).amount == 2


# --- Per-event values (metering) ----------------------------------------------------------------------------

def test_event_values_come_in_event_order_and_keep_to_the_period(tenant_alpha, volume):
    record(tenant_alpha, volume, (MID, 3), (START, 1), (END, 99), (MID + timedelta(hours=1), 5))

    values = usage_event_values(tenant=tenant_alpha, meter=volume, start=START, end=END)

    assert values == [Decimal(1), Decimal(3), Decimal(5)]


def test_event_values_of_a_count_meter_are_one_per_event(tenant_alpha, calls):
    record(tenant_alpha, calls, MID, MID)

    assert usage_event_values(tenant=tenant_alpha, meter=calls, start=START, end=END) == [Decimal(1)] * 2


def test_event_values_honour_the_meters_filters(tenant_alpha):
    meter = MeterFactory(code="rated_filtered", aggregation=Meter.Aggregation.SUM, event_property="amount",
                         filters={"billable": True})
    events = [{"transaction_id": f"filtered-{n}", "meter": meter.code, "timestamp": MID.isoformat(),
               "properties": {"amount": n + 1, "billable": n == 0}} for n in range(2)]
    event_ingest(tenant=tenant_alpha, events=events, now=NOW)

    assert usage_event_values(tenant=tenant_alpha, meter=meter, start=START, end=END) == [Decimal(1)]


# --- Per day ------------------------------------------------------------------------------------------------

def test_the_days_of_a_line_add_up_to_its_units(tenant_alpha, volume):
    record(tenant_alpha, volume, (START, 1000), (START + timedelta(hours=20), 7), (MID, 1234),
           (END - timedelta(minutes=1), 1))
    charge = charge_on(volume, "standard", {"unit_amount": "0.12"}, divide_by=Decimal(3600))

    days = usage_daily(tenant=tenant_alpha, charge=charge, start=START, end=END)

    assert sum(value for _, value in days) == rate(tenant_alpha, charge).units
    assert days[0][0] == START.date() and days[-1][0] == END.date()
    assert len(days) == (END.date() - START.date()).days + 1


def test_each_day_shows_the_usage_of_that_day(tenant_alpha, calls):
    record(tenant_alpha, calls, START, START, MID)
    charge = charge_on(calls, "standard", {"unit_amount": "1"})

    days = dict(usage_daily(tenant=tenant_alpha, charge=charge, start=START, end=END))

    assert (days[START.date()], days[MID.date()], days[(MID + timedelta(days=1)).date()]) == (2, 1, 0)


def test_a_period_within_one_day_has_that_one_day(tenant_alpha, calls):
    record(tenant_alpha, calls, MID, MID + timedelta(minutes=30))
    charge = charge_on(calls, "standard", {"unit_amount": "1"})

    days = usage_daily(tenant=tenant_alpha, charge=charge, start=MID, end=MID + timedelta(hours=2))

    assert days == [(MID.date(), Decimal(2))]


# --- AI tokens owed -----------------------------------------------------------------------------------------

def test_owed_ai_tokens_are_what_the_wallet_could_not_cover(tenant_alpha):
    wallet_debit_or_owe(tenant=tenant_alpha, tokens=12_345, feature="ai_api", reason="Usage",
                        idempotency_key="owed-1", now=NOW)

    assert wallet_shortfall_tokens(tenant=tenant_alpha) == 12_345


def test_a_tenant_without_a_wallet_owes_no_tokens(tenant_beta):
    assert wallet_shortfall_tokens(tenant=tenant_beta) == 0


@override_settings(BILLING_TOKEN_PRICE_PER_1000={"USD": "0.10"})
def test_owed_tokens_are_rated_at_the_token_price_per_thousand():
    assert wallet_shortfall_rate(tokens=12_345, currency="USD") == Decimal("1.2345")


@override_settings(BILLING_TOKEN_PRICE_PER_1000={"USD": "0.10"})
def test_owed_tokens_in_a_currency_without_a_token_price_are_refused():
    with pytest.raises(BillingError):
        wallet_shortfall_rate(tokens=1, currency="GBP")
