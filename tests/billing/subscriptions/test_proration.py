"""billing.subscriptions.proration: period boundaries from the anchor (clamped month ends) and proration to the
second. Pure arithmetic: no database except where a Price or Subscription instance is needed (unsaved)."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from billing.models import Price, Subscription
from billing.subscriptions.proration import (
    PRORATION_PLACES, calendar_month_anchor, first_period, paid_share, period_add, period_bounds_for,
    period_fraction, prorate, subscription_next_period,
)


def at(year, month, day, hour=0, minute=0, second=0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


MONTHLY = Price(interval=Price.Interval.MONTH)
QUARTERLY = Price(interval=Price.Interval.QUARTER)
YEARLY = Price(interval=Price.Interval.YEAR)


def test_a_month_after_january_31_is_the_last_day_of_february():
    assert period_add(anchor=at(2026, 1, 31), months=1, n=1) == at(2026, 2, 28)


def test_a_month_after_january_31_in_a_leap_year_is_february_29():
    assert period_add(anchor=at(2028, 1, 31), months=1, n=1) == at(2028, 2, 29)


def test_the_anchor_day_comes_back_after_a_short_month():
    boundaries = [period_add(anchor=at(2026, 1, 31, 9, 30), months=1, n=n) for n in range(5)]

    assert boundaries == [at(2026, 1, 31, 9, 30), at(2026, 2, 28, 9, 30), at(2026, 3, 31, 9, 30),
                          at(2026, 4, 30, 9, 30), at(2026, 5, 31, 9, 30)]


def test_quarterly_boundaries_keep_the_31st_after_two_short_quarter_ends():
    boundaries = [period_add(anchor=at(2026, 3, 31), months=3, n=n) for n in range(4)]

    assert boundaries == [at(2026, 3, 31), at(2026, 6, 30), at(2026, 9, 30), at(2026, 12, 31)]


def test_a_yearly_anchor_on_february_29_falls_on_february_28_then_returns_in_the_next_leap_year():
    assert [period_add(anchor=at(2028, 2, 29), months=12, n=n) for n in (1, 4)] == [at(2029, 2, 28), at(2032, 2, 29)]


def test_a_negative_count_goes_back_across_the_year():
    assert period_add(anchor=at(2026, 1, 31), months=1, n=-2) == at(2025, 11, 30)


def test_the_period_containing_an_instant_is_counted_from_the_anchor():
    assert period_bounds_for(price=MONTHLY, anchor=at(2026, 1, 31), at=at(2026, 3, 15)) == (
        at(2026, 2, 28), at(2026, 3, 31))


def test_a_period_includes_its_start_and_excludes_its_end():
    anchor = at(2026, 1, 31)

    assert period_bounds_for(price=MONTHLY, anchor=anchor, at=at(2026, 2, 28))[0] == at(2026, 2, 28)
    assert period_bounds_for(price=MONTHLY, anchor=anchor, at=at(2026, 2, 28) - timedelta(microseconds=1)) == (
        at(2026, 1, 31), at(2026, 2, 28))


def test_the_anchors_time_of_day_decides_on_the_boundary_day():
    anchor = at(2026, 1, 10, 15)

    assert period_bounds_for(price=MONTHLY, anchor=anchor, at=at(2026, 3, 10, 14, 59)) == (
        at(2026, 2, 10, 15), at(2026, 3, 10, 15))


def test_an_instant_before_the_anchor_falls_in_an_earlier_period():
    assert period_bounds_for(price=QUARTERLY, anchor=at(2026, 5, 31), at=at(2026, 1, 1)) == (
        at(2025, 11, 30), at(2026, 2, 28))


def test_a_yearly_period_spans_twelve_months():
    assert period_bounds_for(price=YEARLY, anchor=at(2026, 11, 20, 12), at=at(2027, 11, 20, 11)) == (
        at(2026, 11, 20, 12), at(2027, 11, 20, 12))


@given(anchor=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2090, 12, 31), timezones=st.just(UTC)),
       offset=st.timedeltas(min_value=timedelta(days=-2000), max_value=timedelta(days=2000)),
       months=st.sampled_from([1, 3, 12]))
def test_the_period_found_always_contains_the_instant_and_is_one_interval_long(anchor, offset, months):
    price = Price(interval={1: "month", 3: "quarter", 12: "year"}[months])
    instant = anchor + offset

    start, end = period_bounds_for(price=price, anchor=anchor, at=instant)

    assert start <= instant < end
    assert end == period_add(anchor=anchor, months=months, n=_index(anchor, months, start) + 1)


def _index(anchor, months, start) -> int:
    return next(n for n in range(-100, 1200) if period_add(anchor=anchor, months=months, n=n) == start)


def test_prorate_charges_the_remaining_seconds_over_the_period_seconds():
    # 30-day period, 10 days and 12 hours left: 99.00 × 907,200 / 2,592,000 = 34.65.
    assert prorate(amount=Decimal("99.00"), period_start=at(2026, 11, 1), period_end=at(2026, 12, 1),
                   at=at(2026, 11, 20, 12)) == Decimal("34.65")


def test_prorate_counts_single_seconds():
    one_second_less = prorate(amount=Decimal("86400"), period_start=at(2026, 11, 1), period_end=at(2026, 11, 2),
                              at=at(2026, 11, 1, 0, 0, 1))

    assert one_second_less == Decimal("86399")


def test_prorate_keeps_ten_decimals_of_a_repeating_share():
    third = prorate(amount=Decimal("1"), period_start=at(2026, 11, 1), period_end=at(2026, 11, 4),
                    at=at(2026, 11, 3))

    assert third == Decimal("0.3333333333")
    assert -third.as_tuple().exponent == PRORATION_PLACES


def test_prorate_rounds_the_last_decimal_half_away_from_zero():
    two_thirds = prorate(amount=Decimal("-1"), period_start=at(2026, 11, 1), period_end=at(2026, 11, 4),
                         at=at(2026, 11, 2))

    assert two_thirds == Decimal("-0.6666666667")


def test_prorate_at_or_before_the_start_is_the_whole_amount():
    assert prorate(amount=Decimal("19.00"), period_start=at(2026, 11, 1), period_end=at(2026, 12, 1),
                   at=at(2026, 10, 1)) == Decimal("19.00")


def test_prorate_at_or_after_the_end_is_nothing():
    assert prorate(amount=Decimal("19.00"), period_start=at(2026, 11, 1), period_end=at(2026, 12, 1),
                   at=at(2026, 12, 1)) == Decimal("0")


def test_prorate_of_what_was_paid_takes_the_discount_off_before_the_unused_share():
    # 99.00 billed with 19.80 off (20 %), half the period left: 79.20 × 1/2.
    assert prorate(amount=Decimal("99.00"), period_start=at(2026, 11, 1), period_end=at(2026, 12, 1),
                   at=at(2026, 11, 16), paid=paid_share(charged=Decimal("99.00"), discount=Decimal("-19.80"))
                   ) == Decimal("39.60")


def test_an_amount_off_spread_over_lines_is_taken_off_each_line_exactly():
    # 10.00 off an invoice of 112.50: a 99.00 fee was paid at 102.50/112.50, all of it unused: 90.2 exactly.
    assert prorate(amount=Decimal("99.00"), period_start=at(2026, 11, 1), period_end=at(2026, 12, 1),
                   at=at(2026, 11, 1), paid=paid_share(charged=Decimal("112.50"), discount=Decimal("-10.00"))
                   ) == Decimal("90.2")


def test_a_period_made_free_or_billed_on_nothing_to_discount_has_a_paid_share_within_bounds():
    free = paid_share(charged=Decimal("99.00"), discount=Decimal("-99.00"))
    assert prorate(amount=Decimal("99.00"), period_start=at(2026, 11, 1), period_end=at(2026, 12, 1),
                   at=at(2026, 11, 2), paid=free) == 0
    assert paid_share(charged=Decimal(0), discount=Decimal(0)) == paid_share(charged=Decimal(1), discount=Decimal(0))


def test_a_calendar_anchored_first_period_runs_to_the_next_month_start():
    assert first_period(price=MONTHLY, billing_anchor=Subscription.BillingAnchor.CALENDAR_MONTH,
                        start=at(2026, 3, 24)) == (at(2026, 4, 1), at(2026, 3, 24), at(2026, 4, 1))
    assert first_period(price=MONTHLY, billing_anchor=Subscription.BillingAnchor.ANNIVERSARY,
                        start=at(2026, 3, 24)) == (at(2026, 3, 24), at(2026, 3, 24), at(2026, 4, 24))


def test_prorate_refuses_an_empty_period():
    with pytest.raises(ValueError):
        prorate(amount=Decimal("1"), period_start=at(2026, 11, 1), period_end=at(2026, 11, 1), at=at(2026, 11, 1))


@given(first=st.integers(min_value=-86400, max_value=31 * 86400),
       second=st.integers(min_value=-86400, max_value=31 * 86400))
def test_a_later_change_never_prorates_more_and_stays_within_the_amount(first, second):
    start, end, amount = at(2026, 11, 1), at(2026, 12, 1), Decimal("299.99")
    earlier, later = sorted((start + timedelta(seconds=first), start + timedelta(seconds=second)))

    at_earlier = prorate(amount=amount, period_start=start, period_end=end, at=earlier)
    at_later = prorate(amount=amount, period_start=start, period_end=end, at=later)

    assert amount >= at_earlier >= at_later >= 0


def test_the_calendar_anchor_is_the_first_instant_of_the_next_month():
    assert calendar_month_anchor(at(2026, 12, 20, 12)) == at(2027, 1, 1)


def test_the_calendar_anchor_of_a_month_start_is_that_instant():
    assert calendar_month_anchor(at(2026, 12, 1)) == at(2026, 12, 1)


def _subscription(price, *, anchor, start, end, scheduled=None) -> Subscription:
    return Subscription(price=price, scheduled_price=scheduled, created_at=anchor, current_period_start=start,
                        current_period_end=end)


def test_the_next_period_runs_from_the_current_end_to_the_next_boundary_from_the_anchor():
    subscription = _subscription(MONTHLY, anchor=at(2026, 1, 31), start=at(2026, 1, 31), end=at(2026, 2, 28))

    assert subscription_next_period(subscription=subscription) == (at(2026, 2, 28), at(2026, 3, 31))


def test_a_partial_first_calendar_period_is_its_share_of_the_full_month():
    subscription = _subscription(MONTHLY, anchor=at(2026, 12, 1), start=at(2026, 11, 16), end=at(2026, 12, 1))

    assert period_fraction(subscription=subscription) == Decimal("0.5")


def test_a_full_period_is_a_fraction_of_one():
    subscription = _subscription(YEARLY, anchor=at(2026, 1, 31), start=at(2026, 1, 31), end=at(2027, 1, 31))

    assert period_fraction(subscription=subscription) == Decimal(1)
