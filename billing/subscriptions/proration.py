"""Billing periods and proration: pure arithmetic on aware UTC datetimes and Decimals. No database, no clock.

Periods are half-open, [start, end). Period N of a subscription runs from `period_add(anchor, months, N)` to
`period_add(anchor, months, N + 1)`, always computed from the anchor rather than by chaining one period onto the
last: adding months keeps the anchor's day, clamped to the month's last day, so an anchor on January 31 gives
February 28 (29 in a leap year), then March 31, April 30, and never drifts to the 28th for good.

A subscription's anchor is kept in `Subscription.created_at` (`subscription_anchor`): the services move it when
a new cycle starts (a trial converts, the interval changes, a subscription resumes after its period ended).
With the calendar-month anchor it is the first instant of a month, which may lie in the future while the first,
partial period runs.

Proration is `amount × remaining seconds / period seconds`, to the microsecond the datetimes carry; a credit
for unused time takes only the share of the fees that was paid (`paid_share`: the discount of the invoice that
billed them), so a month made free by a coupon gives nothing back. A ratio of
durations rarely has a finite decimal expansion, so the result is rounded once, half away from zero, to
PRORATION_PLACES decimals (what `amount_exact` columns hold): ten orders of magnitude below a cent, so the
rounding that matters still happens once per invoice line (config.money.money_round).
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, localcontext

from billing.models import Price, Subscription

PRORATION_PLACES = 10
_MICROSECOND = timedelta(microseconds=1)


def period_add(*, anchor: datetime, months: int, n: int) -> datetime:
    """The boundary `n` periods of `months` months after `anchor` (before it when `n` is negative): the anchor's
    day of month, clamped to the last day of the target month, at the anchor's time of day."""
    total = anchor.year * 12 + (anchor.month - 1) + months * n
    year, month = divmod(total, 12)
    month += 1
    day = min(anchor.day, calendar.monthrange(year, month)[1])
    return anchor.replace(year=year, month=month, day=day)


def period_bounds_for(*, price: Price, anchor: datetime, at: datetime) -> tuple[datetime, datetime]:
    """The period of `price`'s interval, counted from `anchor`, that contains `at` (before or after the anchor)."""
    months = price.interval_months
    elapsed_months = (at.year - anchor.year) * 12 + (at.month - anchor.month)
    n = elapsed_months // months
    # The month count is only an estimate (the day and time decide): step until `at` falls inside.
    while period_add(anchor=anchor, months=months, n=n) > at:
        n -= 1
    while period_add(anchor=anchor, months=months, n=n + 1) <= at:
        n += 1
    return period_add(anchor=anchor, months=months, n=n), period_add(anchor=anchor, months=months, n=n + 1)


def prorate(*, amount: Decimal, period_start: datetime, period_end: datetime, at: datetime,
            paid: PaidShare | None = None) -> Decimal:
    """The part of `amount` (the price of the whole period) that falls on the rest of the period from `at`:
    amount × remaining / period length, and with `paid` only the share of it that was paid (a credit for unused
    time gives back what the tenant paid, not the list price: see paid_share). `at` at or before the start gives
    the whole amount; at or after the end, nothing. Rounded once to PRORATION_PLACES decimals, half away from
    zero."""
    if period_end <= period_start:
        raise ValueError("A period must end after it starts.")
    at = min(max(at, period_start), period_end)
    return _share(amount, period_end - at, period_end - period_start, paid=paid or FULL_PRICE)


@dataclass(frozen=True)
class PaidShare:
    """What the tenant paid for a period's fees as a fraction, `paid` / `charged`, kept exact (an amount off
    spread over several lines rarely divides evenly)."""

    paid: Decimal
    charged: Decimal


FULL_PRICE = PaidShare(paid=Decimal(1), charged=Decimal(1))


def paid_share(*, charged: Decimal, discount: Decimal) -> PaidShare:
    """The share of its discountable lines that an invoice charged once its discount is taken off: `charged`
    is their sum, `discount` the discount line (zero or negative). A period whose fees were billed on an invoice
    with a 20 % coupon was paid at 80 %; a month made free by a coupon at nothing. Between 0 and 1."""
    if charged <= 0:
        return FULL_PRICE
    return PaidShare(paid=min(max(charged + discount, Decimal(0)), charged), charged=charged)


def _share(amount: Decimal, part: timedelta, whole: timedelta, *, paid: PaidShare = FULL_PRICE) -> Decimal:
    with localcontext() as context:
        # Enough digits that the one rounding below is the only one: the product is exact (integers and
        # Decimals), and the quotient is carried well past PRORATION_PLACES before it is rounded.
        context.prec = 60
        share = amount * paid.paid * (part // _MICROSECOND) / (paid.charged * (whole // _MICROSECOND))
        return share.quantize(Decimal(1).scaleb(-PRORATION_PLACES), rounding=ROUND_HALF_UP)


def subscription_anchor(subscription: Subscription) -> datetime:
    """The instant the subscription's billing periods are counted from (kept in `created_at`; see the module)."""
    return subscription.created_at


def subscription_next_period(*, subscription: Subscription) -> tuple[datetime, datetime]:
    """The period that follows the current one: from its end to the next boundary counted from the anchor. A
    scheduled price always has the subscription's interval (interval changes are immediate), so the anchor holds
    for it too."""
    start = subscription.current_period_end
    price = subscription.scheduled_price or subscription.price
    _, end = period_bounds_for(price=price, anchor=subscription_anchor(subscription), at=start)
    return start, end


def period_fraction(*, subscription: Subscription) -> Decimal:
    """The share of a full period that the current period covers: 1 for a full period, less for the first,
    partial period of a calendar-month anchor (e.g. November 16 to December 1 is half of November's period).
    What the start invoice multiplies the fixed fee and seats by."""
    start, end = subscription.current_period_start, subscription.current_period_end
    full_start, full_end = period_bounds_for(price=subscription.price, anchor=subscription_anchor(subscription),
                                             at=end - _MICROSECOND)
    return _share(Decimal(1), end - start, full_end - full_start)


def first_period(*, price: Price, billing_anchor: str, start: datetime) -> tuple[datetime, datetime, datetime]:
    """(anchor, start, end) of a subscription's first paid period from `start` (a start without trial, a trial's
    conversion): a whole interval of `price` anchored at `start` (anniversary), or up to the start of the next
    month (calendar month; a whole interval when `start` is that instant). The services start periods with it
    and the upcoming invoice of a trial previews its conversion with it, so the two cannot disagree."""
    if billing_anchor == Subscription.BillingAnchor.CALENDAR_MONTH:
        anchor = calendar_month_anchor(start)
    else:
        anchor = start
    end = anchor if anchor > start else period_add(anchor=anchor, months=price.interval_months, n=1)
    return anchor, start, end


def calendar_month_anchor(at: datetime) -> datetime:
    """The first instant (UTC) of the month after `at`, or `at` itself when it is that instant already."""
    at = at.astimezone(UTC)
    month_start = at.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    if month_start == at:
        return at
    return period_add(anchor=month_start, months=1, n=1)
