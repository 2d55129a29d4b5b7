"""The 12-month MRR forecast: a pure function of today's MRR and the last three complete months' movements.

Method (stated on the dashboard): each month's MRR is the month before's, less the churn rate (churned and
contraction MRR over the MRR the month started with), plus the additions (new, expansion and reactivation MRR):
MRR(k+1) = MRR(k) × (1 - churn) + additions. Churn compounds; additions are added as they came. The expected
line uses the three months' averages (total lost over total starting MRR; mean additions); the low band the
worst month of the three for each input (highest churn, lowest additions), the high band the best."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

HORIZON_MONTHS = 12
TRAILING_MONTHS = 3


@dataclass(frozen=True)
class ForecastMonth:
    """One month of inputs: the MRR it started with, what it lost (churned + contraction) and what it added."""

    month: date
    start_mrr: Decimal
    lost: Decimal
    added: Decimal

    @property
    def churn_rate(self) -> Decimal:
        return self.lost / self.start_mrr if self.start_mrr else Decimal(0)


@dataclass(frozen=True)
class ForecastPoint:
    month: date
    expected: Decimal
    low: Decimal
    high: Decimal


@dataclass(frozen=True)
class Forecast:
    base_mrr: Decimal
    inputs: list[ForecastMonth]
    churn_rate: Decimal
    additions: Decimal
    churn_rate_low: Decimal
    churn_rate_high: Decimal
    additions_low: Decimal
    additions_high: Decimal
    points: list[ForecastPoint]


def mrr_forecast(*, base_mrr: Decimal, first_month: date, inputs: list[ForecastMonth]) -> Forecast | None:
    """The forecast for the HORIZON_MONTHS months from `first_month`, from `base_mrr` (the MRR now), or None
    without complete months to learn from."""
    if not inputs:
        return None
    starting = sum((month.start_mrr for month in inputs), Decimal(0))
    churn = sum((month.lost for month in inputs), Decimal(0)) / starting if starting else Decimal(0)
    additions = sum((month.added for month in inputs), Decimal(0)) / len(inputs)
    rates = [month.churn_rate for month in inputs]
    added = [month.added for month in inputs]
    points = []
    expected = low = high = base_mrr
    for step in range(HORIZON_MONTHS):
        expected = expected * (1 - churn) + additions
        low = low * (1 - max(rates)) + min(added)
        high = high * (1 - min(rates)) + max(added)
        points.append(ForecastPoint(month=_month_add(first_month, step), expected=expected, low=low, high=high))
    return Forecast(base_mrr=base_mrr, inputs=inputs, churn_rate=churn, additions=additions,
                    churn_rate_low=min(rates), churn_rate_high=max(rates), additions_low=min(added),
                    additions_high=max(added), points=points)


def _month_add(month: date, months: int) -> date:
    index = month.year * 12 + month.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)
