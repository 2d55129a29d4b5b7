"""Reads for the ops revenue dashboard: every figure from the daily snapshots (billing.models.analytics), per
currency, never converted. Definitions (the README's "Revenue analytics" says the same):

- MRR: the sum of the subscriptions' monthly recurring revenue at the end of a day (fixed fee and extra seats,
  after repeating or forever coupons, quarterly ÷ 3, annual ÷ 12; trialing and paused subscriptions count 0);
  ARR = 12 × MRR. A month's MRR is its last snapshotted day's; its starting MRR the previous month's last day's.
- Movements, per customer (tenant) and day against the day before, summed over the month: new, expansion,
  contraction, churned, reactivation (a customer who had paid before); net new = new + expansion +
  reactivation - contraction - churned, which is the month's change in MRR.
- Logo churn = customers churned in the month ÷ customers at its start; revenue churn = (churned + contraction)
  ÷ starting MRR; GRR = 1 - revenue churn; NRR = (starting MRR - churned - contraction + expansion) ÷ starting
  MRR; ARPU = MRR ÷ paying customers; LTV = ARPU ÷ the monthly revenue churn of the last three complete months.
- Trial-to-paid conversion = trials that became paid ÷ trials that ended, in the month.
- Money from the invoices: issued (totals of finalised, non-void invoices), credit notes, cash collected
  (amounts paid), usage and AI-token revenue (their lines before discounts and tax; AI tokens are the tokens
  owed that an invoice billed and the token packs sold), failed payments (card
  attempts declined, or invoices unpaid on their due day; by the day of the first failure) and the share recovered."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, F, Max, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce, TruncDate

from billing.analytics.forecast import TRAILING_MONTHS, Forecast, ForecastMonth, mrr_forecast
from billing.models import (
    Invoice,
    Payment,
    RevenueDay,
    RevenueMoneyDay,
    RevenuePlanDay,
    RevenueSnapshot,
    SubscriptionRevenueDay,
    TenantChurnRisk,
)

ZERO = Decimal(0)
MONTHS_SHOWN = 12
CHURN_RISK_ROWS = 50


# --- Failed payments ----------------------------------------------------------------------------------------

def failed_payments(*, until: datetime) -> QuerySet[Invoice]:
    """The payments that had failed by `until`, one row per invoice, annotated with `failed_at` and its UTC
    `failed_day` (the month a failure counts in).

    An invoice's payment failed when a card attempt on it was declined or left waiting for the cardholder (SCA)
    before `until` (billing.payments; `failed_at` is the first such attempt), or, collected by hand, when it was
    still unpaid on its due day (`failed_at` is the due day; uncollectible invoices included). Either way it counts
    once, however many attempts dunning made."""
    first_failure = Subquery(Payment.objects
                             .filter(invoice=OuterRef("pk"), created_at__lt=until,
                                     status__in=[Payment.Status.FAILED, Payment.Status.REQUIRES_ACTION])
                             .order_by("created_at").values("created_at")[:1])
    unpaid_when_due = Q(due_at__lt=until) & (Q(paid_at__isnull=True) | Q(paid_at__gt=F("due_at")))
    return (Invoice.objects
            .filter(status__in=[Invoice.Status.OPEN, Invoice.Status.PAID, Invoice.Status.UNCOLLECTIBLE],
                    amount_due__gt=0)
            .annotate(first_failure_at=first_failure)
            .filter(unpaid_when_due | Q(first_failure_at__isnull=False))
            .annotate(failed_at=Coalesce("first_failure_at", "due_at"))
            .annotate(failed_day=TruncDate("failed_at", tzinfo=UTC)))


def failed_payments_recovered(failed: QuerySet[Invoice], *, until: datetime) -> QuerySet[Invoice]:
    """Of `failed` (failed_payments), those paid in the end, before `until`."""
    return failed.filter(status=Invoice.Status.PAID, paid_at__lt=until)


# --- Snapshot reads -----------------------------------------------------------------------------------------

def snapshot_latest_day() -> date | None:
    return RevenueSnapshot.objects.aggregate(latest=Max("day"))["latest"]


def headline_currency() -> str:
    return settings.BILLING_DEFAULT_CURRENCY


def revenue_currencies(*, day: date) -> list[str]:
    """The currencies with figures on `day`, the headline currency first."""
    currencies = set(RevenueDay.objects.filter(day=day).values_list("currency", flat=True))
    currencies.add(headline_currency())
    return sorted(currencies, key=lambda code: (code != headline_currency(), code))


@dataclass(frozen=True)
class Headline:
    currency: str
    mrr: Decimal
    customers: int
    subscriptions_paying: int
    subscriptions_trialing: int

    @property
    def arr(self) -> Decimal:
        return self.mrr * 12

    @property
    def arpu(self) -> Decimal | None:
        return self.mrr / self.customers if self.customers else None


def revenue_headlines(*, day: date) -> list[Headline]:
    """MRR, ARR and customers on `day` in each currency, the headline currency (settings) first."""
    rows = {row.currency: row for row in RevenueDay.objects.filter(day=day)}
    return [Headline(currency=currency, mrr=rows[currency].mrr if currency in rows else ZERO,
                     customers=rows[currency].customers if currency in rows else 0,
                     subscriptions_paying=rows[currency].subscriptions_paying if currency in rows else 0,
                     subscriptions_trialing=rows[currency].subscriptions_trialing if currency in rows else 0)
            for currency in revenue_currencies(day=day)]


@dataclass
class MonthFigures:
    """One calendar month in one currency. `complete` when every day of it is snapshotted up to its last; the
    latest month is usually month-to-date."""

    month: date
    complete: bool
    start_mrr: Decimal | None
    mrr: Decimal
    customers_start: int | None
    customers: int
    new: Decimal = ZERO
    expansion: Decimal = ZERO
    contraction: Decimal = ZERO
    churned: Decimal = ZERO
    reactivation: Decimal = ZERO
    new_customers: int = 0
    churned_customers: int = 0
    reactivated_customers: int = 0
    trials_converted: int = 0
    trials_lost: int = 0
    invoiced: Decimal = ZERO
    credited: Decimal = ZERO
    cash_collected: Decimal = ZERO
    usage_revenue: Decimal = ZERO
    token_revenue: Decimal = ZERO
    failed_count: int = 0
    failed_amount: Decimal = ZERO
    recovered_count: int = 0
    recovered_amount: Decimal = ZERO

    @property
    def net_new(self) -> Decimal:
        return self.new + self.expansion + self.reactivation - self.contraction - self.churned

    @property
    def added(self) -> Decimal:
        return self.new + self.expansion + self.reactivation

    @property
    def lost(self) -> Decimal:
        return self.churned + self.contraction

    @property
    def arr(self) -> Decimal:
        return self.mrr * 12

    @property
    def logo_churn(self) -> Decimal | None:
        return _ratio(Decimal(self.churned_customers), self.customers_start)

    @property
    def revenue_churn(self) -> Decimal | None:
        return _ratio(self.lost, self.start_mrr)

    @property
    def grr(self) -> Decimal | None:
        churn = self.revenue_churn
        return None if churn is None else 1 - churn

    @property
    def nrr(self) -> Decimal | None:
        if not self.start_mrr:
            return None
        return (self.start_mrr - self.lost + self.expansion) / self.start_mrr

    @property
    def trial_conversion(self) -> Decimal | None:
        return _ratio(Decimal(self.trials_converted), self.trials_converted + self.trials_lost)

    @property
    def recovered_share(self) -> Decimal | None:
        return _ratio(self.recovered_amount, self.failed_amount)

    @property
    def net_invoiced(self) -> Decimal:
        return self.invoiced - self.credited


def _ratio(part: Decimal, whole: Decimal | int | None) -> Decimal | None:
    return part / whole if whole else None


def month_start(day: date) -> date:
    return day.replace(day=1)


def month_add(month: date, months: int) -> date:
    index = month.year * 12 + month.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


# RevenueDay's daily movements and what MonthFigures calls their sum over a month.
MOVEMENT_FIELDS = {"new_mrr": "new", "expansion_mrr": "expansion", "contraction_mrr": "contraction",
                   "churned_mrr": "churned", "reactivation_mrr": "reactivation", "new_customers": "new_customers",
                   "churned_customers": "churned_customers", "reactivated_customers": "reactivated_customers",
                   "trials_converted": "trials_converted", "trials_lost": "trials_lost"}
MONEY_FIELDS = ("invoiced", "credited", "cash_collected", "usage_revenue", "token_revenue", "failed_count",
                "failed_amount", "recovered_count", "recovered_amount")


def revenue_months(*, currency: str, day: date, months: int = MONTHS_SHOWN) -> list[MonthFigures]:
    """The `months` calendar months up to and including `day`'s, oldest first, from the snapshots in three
    queries (snapshotted days, the day rows and the money rows of the window)."""
    first = month_add(month_start(day), -(months - 1))
    window_start = first - timedelta(days=1)
    snapshotted = set(RevenueSnapshot.objects.filter(day__gte=window_start, day__lte=day)
                      .values_list("day", flat=True))
    days = {row.day: row for row in RevenueDay.objects.filter(currency=currency, day__gte=window_start, day__lte=day)}
    money: dict[date, dict[str, Decimal | int]] = defaultdict(dict)
    for row in RevenueMoneyDay.objects.filter(currency=currency, day__gte=first, day__lte=day).values():
        totals = money[month_start(row["day"])]
        for name in MONEY_FIELDS:
            totals[name] = totals.get(name, 0) + row[name]

    def state_on(on: date) -> tuple[Decimal, int] | None:
        if on in days:
            return days[on].mrr, days[on].customers
        return (ZERO, 0) if on in snapshotted else None

    figures = []
    for step in range(months):
        month = month_add(first, step)
        end = min(month_add(month, 1) - timedelta(days=1), day)
        start_state = state_on(month - timedelta(days=1))
        last_taken = max((on for on in snapshotted if month <= on <= end), default=None)
        end_state = state_on(last_taken) if last_taken else None
        month_days = [days[on] for on in days if month <= on <= end]
        wanted = {month + timedelta(days=n) for n in range((end - month).days + 1)}
        figure = MonthFigures(
            month=month, complete=end == month_add(month, 1) - timedelta(days=1) and wanted <= snapshotted,
            start_mrr=start_state[0] if start_state else None,
            customers_start=start_state[1] if start_state else None,
            mrr=end_state[0] if end_state else ZERO, customers=end_state[1] if end_state else 0,
            **{figure_name: sum((getattr(row, name) for row in month_days), ZERO if "mrr" in name else 0)
               for name, figure_name in MOVEMENT_FIELDS.items()},
            **money.get(month, {}))
        figures.append(figure)
    return figures


@dataclass(frozen=True)
class Lifetime:
    """LTV and its inputs: ARPU now and the revenue churn of the last complete months (lost ÷ starting MRR)."""

    arpu: Decimal | None
    lost: Decimal
    start_mrr: Decimal
    months: list[date] = field(default_factory=list)

    @property
    def monthly_revenue_churn(self) -> Decimal | None:
        return _ratio(self.lost, self.start_mrr)

    @property
    def ltv(self) -> Decimal | None:
        churn = self.monthly_revenue_churn
        return self.arpu / churn if self.arpu is not None and churn else None


def trailing_complete_months(figures: list[MonthFigures]) -> list[MonthFigures]:
    """The last TRAILING_MONTHS complete months with a starting MRR, oldest first."""
    return [figure for figure in figures if figure.complete and figure.start_mrr is not None][-TRAILING_MONTHS:]


def revenue_lifetime(*, headline: Headline, figures: list[MonthFigures]) -> Lifetime:
    trailing = trailing_complete_months(figures)
    return Lifetime(arpu=headline.arpu, lost=sum((figure.lost for figure in trailing), ZERO),
                    start_mrr=sum((figure.start_mrr for figure in trailing), ZERO),
                    months=[figure.month for figure in trailing])


def revenue_forecast(*, headline: Headline, figures: list[MonthFigures], day: date) -> Forecast | None:
    """The 12-month MRR forecast (billing.analytics.forecast) from today's MRR and the last complete months."""
    inputs = [ForecastMonth(month=figure.month, start_mrr=figure.start_mrr, lost=figure.lost, added=figure.added)
              for figure in trailing_complete_months(figures)]
    return mrr_forecast(base_mrr=headline.mrr, first_month=month_add(month_start(day), 1), inputs=inputs)


def revenue_plans(*, currency: str, day: date) -> list[RevenuePlanDay]:
    """Subscriptions and MRR per plan on `day`, the plans in the catalogue's order."""
    return list(RevenuePlanDay.objects.filter(day=day, currency=currency).select_related("plan")
                .order_by("plan__sort_order", "plan__code"))


def churn_risk_list(*, limit: int | None = CHURN_RISK_ROWS) -> list[TenantChurnRisk]:
    """The customers most at risk first (all of them with limit=None)."""
    rows = TenantChurnRisk.objects.select_related("tenant").order_by("-score", "tenant_id")
    return list(rows[:limit] if limit else rows)


def churn_risk_levels() -> dict[str, int]:
    """How many customers are at each level."""
    counts = dict(TenantChurnRisk.objects.values("level").annotate(count=Count("id")).values_list("level", "count"))
    return {level: counts.get(level, 0) for level in TenantChurnRisk.Level.values}


# --- Per customer (an agency's dashboard of its clients) ----------------------------------------------------

def tenant_mrr_latest(*, tenant_ids: list[int]) -> dict[int, dict[str, Decimal]]:
    """Each tenant's MRR per currency as of the latest snapshotted day (tenants without a current subscription
    that day are left out): the figure the revenue dashboard sums, one SQL aggregate."""
    day = snapshot_latest_day()
    if day is None or not tenant_ids:
        return {}
    mrr: dict[int, dict[str, Decimal]] = defaultdict(dict)
    rows = (SubscriptionRevenueDay.objects.filter(day=day, tenant_id__in=tenant_ids)
            .values("tenant_id", "currency").annotate(total=Coalesce(Sum("mrr"), ZERO)))
    for row in rows:
        mrr[row["tenant_id"]][row["currency"]] = row["total"]
    return dict(mrr)


def churn_risk_by_tenant(*, tenant_ids: list[int]) -> dict[int, TenantChurnRisk]:
    """The current churn-risk score of each of these tenants that has one."""
    return {risk.tenant_id: risk for risk in TenantChurnRisk.objects.filter(tenant_id__in=tenant_ids)}
