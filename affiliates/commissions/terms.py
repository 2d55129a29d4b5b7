"""What an affiliate earns on one paid invoice: small pure functions of its terms (affiliates.program.commission_terms),
the invoice's month in the customer's life and its amount before tax. No database here.

- recurring: the rate on every paid invoice, forever;
- recurring for N months: the rate on invoices of months 0 .. N-1, nothing after;
- one time: the rate on the referral's first commissioned invoice only;
- scheme: steps in order, e.g. [{"months": 3, "rate": "40"}, {"months": null, "rate": "20"}]: 40 % in months
  0-2, then 20 % for ever (a last step with months null); without one, nothing after the last step.

Month n is the number of calendar months between the issue date of the referral's first commissioned invoice and
this invoice's (January 31 to February 1 is one month): a customer billed monthly is in month 0, 1, 2... on its
successive invoices, whatever day they are paid. The amount is base × rate / 100 rounded half up to the
currency's minor units, once per commission (config.money.money_round)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation

from affiliates.models.program import CommissionType
from affiliates.program import CommissionTerms
from config.money import Money, money_round

HUNDRED = Decimal(100)


class SchemeInvalid(ValueError):
    """A scheme that is not a list of {"months": int or null, "rate": "decimal"} steps."""


@dataclass(frozen=True)
class SchemeStep:
    months: int | None  # None: for ever
    rate: Decimal


def scheme_parse(raw: list) -> tuple[SchemeStep, ...]:
    """The steps of a scheme as stored in JSON; SchemeInvalid when a step is malformed."""
    if not isinstance(raw, list):
        raise SchemeInvalid("A scheme is a list of steps.")
    steps = []
    for step in raw:
        if not isinstance(step, dict) or "rate" not in step:
            raise SchemeInvalid(f"A scheme step is {{'months': n, 'rate': 'r'}}, not {step!r}.")
        months = step.get("months")
        if months is not None and (not isinstance(months, int) or isinstance(months, bool) or months <= 0):
            raise SchemeInvalid(f"A step's months is a positive whole number or null, not {months!r}.")
        try:
            rate = Decimal(str(step["rate"]))
        except InvalidOperation as error:
            raise SchemeInvalid(f"A step's rate is a decimal percentage, not {step['rate']!r}.") from error
        if not rate.is_finite() or rate < 0 or rate > HUNDRED:
            raise SchemeInvalid(f"A step's rate is between 0 and 100, not {rate}.")
        steps.append(SchemeStep(months=months, rate=rate))
    return tuple(steps)


def calendar_months_between(start: datetime, end: datetime) -> int:
    """Calendar months from `start` to `end` (never negative)."""
    return max((end.year - start.year) * 12 + end.month - start.month, 0)


def rate_for(terms: CommissionTerms, *, month: int, first: bool) -> Decimal | None:
    """The percentage earned on an invoice of month `month` (`first`: the referral's first commissioned invoice),
    or None when these terms earn nothing on it."""
    if terms.type == CommissionType.RECURRING:
        return terms.rate
    if terms.type == CommissionType.RECURRING_MONTHS:
        return terms.rate if terms.recurring_months and month < terms.recurring_months else None
    if terms.type == CommissionType.ONE_TIME:
        return terms.rate if first else None
    if terms.type == CommissionType.SCHEME:
        return _scheme_rate(scheme_parse(terms.scheme), month)
    raise ValueError(f"Unknown commission type {terms.type!r}.")


def commission_amount(*, base: Decimal, rate: Decimal, currency: str) -> Decimal:
    """base × rate / 100, half up to the currency's minor units."""
    return money_round(Money(base * rate / HUNDRED, currency)).amount


def _scheme_rate(steps: tuple[SchemeStep, ...], month: int) -> Decimal | None:
    start = 0
    for step in steps:
        if step.months is None or month < start + step.months:
            return step.rate
        start += step.months
    return None
