"""The catalogue and clock every billing scenario starts from: Starter, Pro and Business prices in USD (Pro also
yearly, with a trial, and in EUR), API calls billed in packages beyond an allowance, and the clock stopped at
the first instant of March 2026 (a 31-day month: prorations divide by it)."""

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import time_machine

from billing.models import Price
from metering.models import Meter
from tests.support.billing import price_with_usage
from tests.support.factories import MeterFactory, PlanFactory, PriceFactory

MAR_1 = datetime(2026, 3, 1, tzinfo=UTC)
D = Decimal


@dataclass(frozen=True)
class Catalogue:
    starter: Price
    pro: Price
    pro_year: Price
    pro_trial: Price
    pro_eur: Price
    business: Price


@pytest.fixture
def clock():
    """The clock stopped at MAR_1; scenarios move it with clock.move_to(when) before each step."""
    with time_machine.travel(MAR_1, tick=False) as traveller:
        yield traveller


@pytest.fixture
def calls(db) -> Meter:
    """API calls reported in batches: each event carries how many calls it stands for."""
    return MeterFactory(code="scenario_calls", aggregation=Meter.Aggregation.SUM, event_property="calls")


@pytest.fixture
def catalogue(calls) -> Catalogue:
    """Pro's prices bill API calls beyond 1,000 a period at 0.50 per started 100 (package model)."""
    api_calls = {"meter": calls, "name": "API calls", "unit_name": "calls", "charge_model": "package",
                 "properties": {"amount": "0.50", "package_size": "100"}, "included_units": D(1000)}
    starter_plan = PlanFactory(code="scenario-starter", name="Starter", sort_order=1)
    pro_plan = PlanFactory(code="scenario-pro", name="Pro", sort_order=2)
    business_plan = PlanFactory(code="scenario-business", name="Business", sort_order=3)
    pro_seats = {"plan": pro_plan, "per_seat_amount": D("12.00"), "included_seats": 3}
    return Catalogue(
        starter=PriceFactory(plan=starter_plan, code="scenario-starter-month", fixed_amount=D("19.00")),
        pro=price_with_usage(code="scenario-pro-month", charges=[api_calls], **pro_seats),
        pro_year=price_with_usage(code="scenario-pro-year", interval=Price.Interval.YEAR,
                                  fixed_amount=D("990.00"), charges=[api_calls], **pro_seats),
        pro_trial=price_with_usage(code="scenario-pro-month-trial", trial_days=14, charges=[api_calls],
                                   **pro_seats),
        pro_eur=PriceFactory(plan=pro_plan, code="scenario-pro-month-eur", currency="EUR",
                             fixed_amount=D("89.00")),
        business=PriceFactory(plan=business_plan, code="scenario-business-month", fixed_amount=D("299.99"),
                              included_seats=5, per_seat_amount=D("10.00")),
    )
