"""Every dashboard figure of the hand-built history (conftest), worked out by hand in the comments."""

from datetime import date
from decimal import Decimal

import pytest

from billing.analytics.selectors import (
    revenue_forecast,
    revenue_headlines,
    revenue_lifetime,
    revenue_months,
    revenue_plans,
)

D = Decimal
LAST_DAY = date(2026, 4, 30)

pytestmark = pytest.mark.django_db


def months_usd() -> dict[date, object]:
    return {figure.month: figure for figure in revenue_months(currency="USD", day=LAST_DAY)}


def usd_headline():
    return next(one for one in revenue_headlines(day=LAST_DAY) if one.currency == "USD")


def test_mrr_and_arr_at_the_end_of_each_month(history):
    months = months_usd()
    # Jan: A 100 + B 20 + C 1,200 / 12 + E 100 (converted Jan 24) = 320.
    # Feb: A 300 (Business) + C 100 + E 120 (5 seats); B canceled = 520.
    # Mar: + B again 20 + G 90 (10 % off 100) = 630.
    # Apr: A back to 100 (-200); E paused and resumed (120) = 430.
    assert [months[date(2026, m, 1)].mrr for m in (1, 2, 3, 4)] == [D(320), D(520), D(630), D(430)]
    assert months[date(2026, 4, 1)].arr == D(430) * 12 == D(5160)


def test_mrr_is_kept_per_currency_with_the_headline_currency_first(history):
    headlines = revenue_headlines(day=LAST_DAY)
    # USD first (BILLING_DEFAULT_CURRENCY), then D's Pro EUR: 90 EUR a month, 1,080 a year, never converted.
    assert [(one.currency, one.mrr, one.arr, one.customers) for one in headlines] == [
        ("USD", D(430), D(5160), 5), ("EUR", D(90), D(1080), 1)]


def test_mrr_movements_per_month(history):
    months = months_usd()
    rows = {m: (f.new, f.expansion, f.contraction, f.churned, f.reactivation, f.net_new)
            for m, f in months.items() if m >= date(2026, 1, 1)}
    assert rows == {
        # Jan: A 100 + B 20 + C 100 + E 100 new.
        date(2026, 1, 1): (D(320), D(0), D(0), D(0), D(0), D(320)),
        # Feb: A +200 (Business), E +20 (two seats); B -20 churned. Net 200 = 520 - 320.
        date(2026, 2, 1): (D(0), D(220), D(0), D(20), D(0), D(200)),
        # Mar: G 90 new; B back, 20 reactivation. Net 110 = 630 - 520.
        date(2026, 3, 1): (D(90), D(0), D(0), D(0), D(20), D(110)),
        # Apr: A -200 (Pro); E paused (-120 churned) and resumed (+120 reactivation). Net -200 = 430 - 630.
        date(2026, 4, 1): (D(0), D(0), D(200), D(120), D(120), D(-200)),
    }


def test_logo_and_revenue_churn_grr_and_nrr_per_month(history):
    months = months_usd()
    february, march, april = months[date(2026, 2, 1)], months[date(2026, 3, 1)], months[date(2026, 4, 1)]
    # Feb: 4 customers at the start (A, B, C, E), B churned: 1/4. Lost 20 of 320 starting MRR.
    assert (february.customers_start, february.churned_customers, february.logo_churn) == (4, 1, D("0.25"))
    assert february.revenue_churn == D(20) / D(320) == D("0.0625")
    assert february.grr == D("0.9375")
    assert february.nrr == (D(320) - D(20) + D(220)) / D(320) == D("1.625")
    # Mar: nobody left; 520 kept, nothing expanded.
    assert (march.logo_churn, march.revenue_churn, march.grr, march.nrr) == (D(0), D(0), D(1), D(1))
    # Apr: 5 at the start (A, B, C, E, G), E churned (paused): 1/5. Lost 200 contraction + 120 churned of 630.
    assert april.logo_churn == D("0.2")
    assert april.revenue_churn == D(320) / D(630)
    assert april.grr == D(310) / D(630)
    assert april.nrr == D(310) / D(630)
    # Jan started from nothing: no rate.
    assert months[date(2026, 1, 1)].revenue_churn is None


def test_trial_to_paid_conversion(history):
    months = months_usd()
    # Jan 24: E's trial converted, F's was canceled: 1 of 2.
    january = months[date(2026, 1, 1)]
    assert (january.trials_converted, january.trials_lost, january.trial_conversion) == (1, 1, D("0.5"))
    assert all(months[date(2026, m, 1)].trial_conversion is None for m in (2, 3, 4))


def test_active_subscriptions_by_plan(history):
    plans = {row.plan.name: (row.active, row.trialing, row.paused, row.mrr)
             for row in revenue_plans(currency="USD", day=LAST_DAY)}
    # Pro: A 100, C 100 (yearly), E 120, G 90; Starter: B 20 (past due counts as active). No Business left.
    assert plans == {"Pro": (4, 0, 0, D(410)), "Starter": (1, 0, 0, D(20))}


def test_arpu_and_ltv_with_their_inputs(history):
    lifetime = revenue_lifetime(headline=usd_headline(), figures=revenue_months(currency="USD", day=LAST_DAY))
    # ARPU = 430 / 5 paying customers = 86.
    assert lifetime.arpu == D(86)
    # The last three complete months, Feb to Apr: lost 20 + 0 + 320 = 340 of 320 + 520 + 630 = 1,470 starting.
    assert lifetime.months == [date(2026, 2, 1), date(2026, 3, 1), date(2026, 4, 1)]
    assert (lifetime.lost, lifetime.start_mrr) == (D(340), D(1470))
    # LTV = 86 / (340 / 1,470) = 371.82...
    assert lifetime.ltv == D(86) / (D(340) / D(1470))
    assert lifetime.ltv.quantize(D("0.01")) == D("371.82")


def test_forecast_compounds_churn_and_adds_the_average_additions(history):
    forecast = revenue_forecast(headline=usd_headline(), figures=revenue_months(currency="USD", day=LAST_DAY),
                                day=LAST_DAY)
    # Additions: Feb 220, Mar 90 + 20 = 110, Apr 120: 150 on average. Churn: 340 / 1,470.
    churn = D(340) / D(1470)
    assert (forecast.additions, forecast.churn_rate) == (D(150), churn)
    first = forecast.points[0]
    assert first.month == date(2026, 5, 1)
    # May: 430 × (1 - 340/1,470) + 150 = 480.54...
    assert first.expected == D(430) * (1 - churn) + D(150)
    # Low: the worst churn (Apr, 320/630) and the fewest additions (Mar, 110); high: no churn (Mar), 220 (Feb).
    assert first.low == D(430) * (1 - D(320) / D(630)) + D(110)
    assert first.high == D(430) + D(220)
    assert len(forecast.points) == 12 and forecast.points[-1].month == date(2027, 4, 1)


def test_usage_revenue_credit_notes_and_failed_payments(history):
    months = months_usd()
    february, march, april = months[date(2026, 2, 1)], months[date(2026, 3, 1)], months[date(2026, 4, 1)]
    # B's 500 January calls on the Feb 1 invoice (5.00) and 100 February calls on its cancel invoice (1.00).
    assert february.usage_revenue == D("6.00")
    # A's 1,000,000-token pack on Mar 12 (its token_pack line, 100.00 before tax).
    assert (february.token_revenue, march.token_revenue, april.token_revenue) == (D(0), D("100.00"), D(0))
    # The 10.00 credit note on A's first invoice, on Mar 20.
    assert (february.credited, march.credited) == (D(0), D("10.00"))
    # Due in March and unpaid then: B's 20.00 (never paid) and G's 90.00 (paid Apr 5): 90 of 110 recovered.
    assert (march.failed_count, march.failed_amount, march.recovered_count, march.recovered_amount) == (
        2, D("110.00"), 1, D("90.00"))
    assert march.recovered_share == D(90) / D(110)
    # Due in April: B's Apr 5 invoice (20.00 fee + 0.00 usage), never paid.
    assert (april.failed_count, april.failed_amount, april.recovered_count) == (1, D("20.00"), 0)
