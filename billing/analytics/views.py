"""The ops revenue dashboard: one page of tables and SVG charts read from the daily snapshots, and the CSV of
each table. Served inside the ops admin (billing.analytics.admin: staff only, the admin's sign-in and MFA), on
the public host only."""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.http import Http404, HttpRequest, HttpResponse
from django.utils.html import format_html_join
from django.utils.safestring import SafeString

from billing.analytics.charts import ChartSeries, MonthChart, month_chart
from billing.analytics.churn_risk import (
    LEVEL_ACTIONS,
    UNMEASURED,
    ChurnFacts,
    churn_risk_score,
    effective_weights,
)
from billing.analytics.forecast import HORIZON_MONTHS, TRAILING_MONTHS, Forecast
from billing.analytics.selectors import (
    CHURN_RISK_ROWS,
    Headline,
    Lifetime,
    MonthFigures,
    churn_risk_levels,
    churn_risk_list,
    headline_currency,
    revenue_currencies,
    revenue_forecast,
    revenue_headlines,
    revenue_lifetime,
    revenue_months,
    revenue_plans,
    snapshot_latest_day,
)
from config.money import Money, money_round

PERCENT_PLACES = Decimal("0.1")
RATIO_PLACES = Decimal("0.0001")


@dataclass(frozen=True)
class Column:
    title: str
    kind: str  # money, count, ratio, text, month

    @property
    def is_number(self) -> bool:
        return self.kind in ("money", "count", "ratio")


@dataclass(frozen=True)
class Table:
    key: str
    title: str
    columns: list[Column]
    rows: list[list]
    currency: str
    note: str = ""

    def body_html(self) -> SafeString:
        """The table's rows as HTML, built here rather than by template loops: the page has a thousand cells."""
        def row_html(row: list) -> SafeString:
            return format_html_join("", '<td class="{}">{}</td>', (
                ("number" if column.is_number else "text", _display(value, column.kind, self.currency))
                for value, column in zip(row, self.columns, strict=True)))

        return format_html_join("", "<tr>{}</tr>", ((row_html(row),) for row in self.rows))


def _display(value, kind: str, currency: str) -> str:
    if value is None:
        return "—"
    if kind == "money":
        return f"{money_round(Money(Decimal(value), currency)).amount:,}"
    if kind == "count":
        return f"{value:,}"
    if kind == "ratio":
        return f"{(value * 100).quantize(PERCENT_PLACES):,} %"
    if kind == "month":
        return f"{value:%b %Y}"
    return str(value)


def _csv_value(value, kind: str, currency: str) -> str:
    if value is None:
        return ""
    if kind == "money":
        return format(money_round(Money(Decimal(value), currency)).amount, "f")
    if kind == "ratio":
        return format(value.quantize(RATIO_PLACES), "f")
    if kind == "month":
        return f"{value:%Y-%m}"
    return str(value)


def _month_rows(figures: list[MonthFigures], *cells: Callable[[MonthFigures], object]) -> list[list]:
    return [[figure.month, *(cell(figure) for cell in cells)] for figure in reversed(figures)]


@dataclass(frozen=True)
class Dashboard:
    day: date | None
    currency: str
    currencies: list[str]
    headlines: list[Headline]
    lifetime: Lifetime | None
    forecast: Forecast | None
    tables: dict[str, Table]
    charts: dict[str, MonthChart]
    churn_levels: dict[str, int]


def dashboard_build(*, currency: str | None, churn_limit: int | None = CHURN_RISK_ROWS) -> Dashboard:
    """Every figure of the page in `currency` (the headline currency by default), from the latest snapshot; the
    `churn_limit` customers most at risk (all with None)."""
    day = snapshot_latest_day()
    if day is None:
        currency = currency or headline_currency()
        return Dashboard(day=None, currency=currency, currencies=[currency], headlines=[], lifetime=None,
                         forecast=None, tables={}, charts={}, churn_levels={})
    currencies = revenue_currencies(day=day)
    currency = currency if currency in currencies else currencies[0]
    headlines = revenue_headlines(day=day)
    headline = next(one for one in headlines if one.currency == currency)
    figures = revenue_months(currency=currency, day=day)
    lifetime = revenue_lifetime(headline=headline, figures=figures)
    forecast = revenue_forecast(headline=headline, figures=figures, day=day)
    tables = _tables(currency=currency, day=day, headlines=headlines, figures=figures, lifetime=lifetime,
                     forecast=forecast, churn_limit=churn_limit)
    return Dashboard(day=day, currency=currency, currencies=currencies, headlines=headlines, lifetime=lifetime,
                     forecast=forecast, tables=tables, charts=_charts(figures, forecast, currency),
                     churn_levels=churn_risk_levels())


def _tables(*, currency: str, day: date, headlines: list[Headline], figures: list[MonthFigures],
            lifetime: Lifetime, forecast: Forecast | None, churn_limit: int | None) -> dict[str, Table]:
    money, count, ratio, text, month = "money", "count", "ratio", "text", "month"
    tables = [
        Table("headline", "MRR and ARR by currency", [
            Column("Currency", text), Column("MRR", money), Column("ARR", money), Column("Paying customers", count),
            Column("ARPU", money), Column("Trialing", count)],
            [[one.currency, one.mrr, one.arr, one.customers, one.arpu, one.subscriptions_trialing]
             for one in headlines], currency,
            note="Each in its own currency: nothing is converted."),
        Table("movements", "MRR movements per month", [
            Column("Month", month), Column("Starting MRR", money), Column("New", money), Column("Expansion", money),
            Column("Contraction", money), Column("Churned", money), Column("Reactivation", money),
            Column("Net new", money), Column("MRR", money), Column("ARR", money)],
            _month_rows(figures, lambda f: f.start_mrr, lambda f: f.new, lambda f: f.expansion,
                        lambda f: f.contraction, lambda f: f.churned, lambda f: f.reactivation,
                        lambda f: f.net_new, lambda f: f.mrr, lambda f: f.arr), currency),
        Table("retention", "Churn and retention per month", [
            Column("Month", month), Column("Customers at start", count), Column("New customers", count),
            Column("Reactivated", count), Column("Churned customers", count), Column("Logo churn", ratio),
            Column("Revenue churn", ratio), Column("GRR", ratio), Column("NRR", ratio)],
            _month_rows(figures, lambda f: f.customers_start, lambda f: f.new_customers,
                        lambda f: f.reactivated_customers, lambda f: f.churned_customers, lambda f: f.logo_churn,
                        lambda f: f.revenue_churn, lambda f: f.grr, lambda f: f.nrr), currency),
        Table("trials", "Trial-to-paid conversion per month", [
            Column("Month", month), Column("Trials converted", count), Column("Trials lost", count),
            Column("Conversion", ratio)],
            _month_rows(figures, lambda f: f.trials_converted, lambda f: f.trials_lost,
                        lambda f: f.trial_conversion), currency),
        Table("plans", f"Subscriptions by plan on {day:%-d %b %Y}", [
            Column("Plan", text), Column("Active", count), Column("Trialing", count), Column("Paused", count),
            Column("MRR", money)],
            [[row.plan.name, row.active, row.trialing, row.paused, row.mrr]
             for row in revenue_plans(currency=currency, day=day)], currency),
        Table("revenue", "Invoiced, cash collected, usage and AI-token revenue per month", [
            Column("Month", month), Column("Invoiced", money), Column("Credit notes", money),
            Column("Net invoiced", money), Column("Cash collected", money), Column("Usage revenue", money),
            Column("AI-token revenue", money)],
            _month_rows(figures, lambda f: f.invoiced, lambda f: f.credited, lambda f: f.net_invoiced,
                        lambda f: f.cash_collected, lambda f: f.usage_revenue, lambda f: f.token_revenue), currency,
            note="Invoiced: totals of finalised invoices not voided, on their issue day (tax included). Cash: "
                 "amounts paid, on the day paid. Usage and AI tokens: their invoice lines before discounts and tax "
                 "(AI tokens: token packs sold and tokens owed beyond the wallet)."),
        Table("payments", "Failed payments and recoveries per month (by due date)", [
            Column("Month", month), Column("Failed", count), Column("Failed amount", money),
            Column("Recovered", count), Column("Recovered amount", money), Column("Share recovered", ratio)],
            _month_rows(figures, lambda f: f.failed_count, lambda f: f.failed_amount, lambda f: f.recovered_count,
                        lambda f: f.recovered_amount, lambda f: f.recovered_share), currency,
            note="Until card payments land, a failed payment is an invoice unpaid on its due date (manual "
                 "collection); recovered when it was paid later."),
        Table("lifetime", "LTV and its inputs", [Column("Figure", text), Column("Value", text)],
              _lifetime_rows(lifetime, currency), currency),
        _churn_table(currency, churn_limit),
    ]
    if forecast is not None:
        tables += [
            Table("forecast", f"MRR forecast, next {HORIZON_MONTHS} months", [
                Column("Month", month), Column("Expected MRR", money), Column("Low", money), Column("High", money)],
                [[point.month, point.expected, point.low, point.high] for point in forecast.points], currency),
            Table("forecast_inputs", f"Forecast inputs (last {TRAILING_MONTHS} complete months)", [
                Column("Month", month), Column("Starting MRR", money), Column("Lost (churned + contraction)", money),
                Column("Churn rate", ratio), Column("Added (new + expansion + reactivation)", money)],
                [[one.month, one.start_mrr, one.lost, one.churn_rate, one.added] for one in forecast.inputs],
                currency),
        ]
    return {table.key: table for table in tables}


def _lifetime_rows(lifetime: Lifetime, currency: str) -> list[list[str]]:
    def amount(value: Decimal | None) -> str:
        return "—" if value is None else f"{_display(value, 'money', currency)} {currency}"

    churn = lifetime.monthly_revenue_churn
    months = ", ".join(f"{month:%b %Y}" for month in lifetime.months) or "none complete yet"
    return [
        ["ARPU (MRR ÷ paying customers)", amount(lifetime.arpu)],
        [f"Lost MRR over {months}", amount(lifetime.lost)],
        ["Starting MRR of those months", amount(lifetime.start_mrr)],
        ["Monthly revenue churn (lost ÷ starting)", "—" if churn is None else _display(churn, "ratio", currency)],
        ["LTV (ARPU ÷ monthly revenue churn)", amount(lifetime.ltv)],
    ]


def _churn_table(currency: str, limit: int | None) -> Table:
    rows = []
    for risk in churn_risk_list(limit=limit):
        score = churn_risk_score(ChurnFacts(active_days=risk.active_days, meters_used=frozenset(risk.meters_used),
                                            failed_payments=risk.failed_payment_count, past_due=risk.past_due,
                                            members=risk.members))
        rows.append([risk.tenant.slug, risk.score, risk.get_level_display(), risk.active_days,
                     risk.failed_payment_count, "yes" if risk.past_due else "no",
                     "unknown" if risk.members is None else risk.members, ", ".join(risk.meters_used) or "none",
                     f"{money_round(Money(risk.mrr, risk.currency)).amount} {risk.currency}",
                     " ".join([LEVEL_ACTIONS[risk.level], *score.actions])])
    return Table("churn_risk", "Churn risk per customer", [
        Column("Tenant", "text"), Column("Score", "text"), Column("Level", "text"), Column("Active days (30)", "count"),
        Column("Failed payments (90 days)", "count"), Column("Past due", "text"), Column("Members", "text"),
        Column("Features used (30 days)", "text"), Column("MRR", "text"), Column("Suggested action", "text")],
        rows, currency, note=f"{' '.join(UNMEASURED.values())} Weights used: {weights_text()}.")


def weights_text() -> str:
    """The weights the score uses, e.g. "low usage 37.5 %, failed payments 37.5 %, ..."."""
    return ", ".join(f"{name.replace('_', ' ')} {weight.quantize(PERCENT_PLACES).normalize():f} %"
                     for name, weight in effective_weights().items())


def _charts(figures: list[MonthFigures], forecast: Forecast | None, currency: str) -> dict[str, MonthChart]:
    months = [figure.month for figure in figures]
    charts = {
        "mrr": month_chart(months=months, series=[ChartSeries("MRR", [figure.mrr for figure in figures])],
                           currency=currency),
        "net_new": month_chart(months=months, series=[
            ChartSeries("Net new MRR", [figure.net_new for figure in figures])], currency=currency),
        "cash": month_chart(months=months, series=[
            ChartSeries("Invoiced", [figure.invoiced for figure in figures]),
            ChartSeries("Cash collected", [figure.cash_collected for figure in figures])], currency=currency),
    }
    if forecast is not None:
        charts["forecast"] = month_chart(
            months=[point.month for point in forecast.points],
            series=[ChartSeries("Expected MRR", [point.expected for point in forecast.points],
                                bands=[(point.low, point.high) for point in forecast.points])],
            currency=currency)
    return charts


def dashboard_csv(*, table_key: str, currency: str | None) -> HttpResponse:
    """One table of the dashboard as CSV (the churn-risk table with every customer, not only the first 50)."""
    dashboard = dashboard_build(currency=currency, churn_limit=None)
    if dashboard.day is None or table_key not in dashboard.tables:
        raise Http404("No such table.")
    table = dashboard.tables[table_key]
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (f'attachment; filename="revenue-{table.key}-{dashboard.currency.lower()}-'
                                       f'{dashboard.day.isoformat()}.csv"')
    writer = csv.writer(response)
    writer.writerow([column.title for column in table.columns])
    for row in table.rows:
        writer.writerow([_csv_value(value, column.kind, table.currency)
                         for value, column in zip(row, table.columns, strict=True)])
    return response


def dashboard_page_context(request: HttpRequest) -> dict:
    dashboard = dashboard_build(currency=request.GET.get("currency"))
    return {
        "dashboard": dashboard,
        "tables": list(dashboard.tables.values()),
        "level_actions": LEVEL_ACTIONS,
        "weights_text": weights_text(),
        "unmeasured": UNMEASURED,
    }
