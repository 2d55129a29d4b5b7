"""Revenue snapshots: the writes behind the ops revenue dashboard.

`revenue_snapshot_take(day=...)` records every subscription as it stood at the end of a UTC day (status, plan,
seats, MRR), that day's per-currency figures and MRR movements against the day before, and the per-plan counts,
in a few set-based statements (billing.analytics.sql) inside one transaction. Taking a day again replaces its
rows: never doubled. `revenue_money_refresh` recomputes what the invoices say per day (issued, credited, cash,
usage and AI-token revenue, failed payments and recoveries) from the invoices themselves, so a payment recorded
later lands on its own day. `churn_risks_refresh` scores every current customer as of the latest day.

`revenue_snapshot_daily` is the beat job (02:00 UTC: the day that just ended); `revenue_backfill` takes a range
of days in order (`manage.py revenue_backfill --since YYYY-MM-DD`)."""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as day_time
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Count, Max, Q, Sum
from psycopg.types.json import Jsonb

from accounts.selectors import member_counts
from billing.analytics import sql
from billing.analytics.churn_risk import ChurnFacts, churn_risk_score
from billing.analytics.selectors import failed_payments, failed_payments_recovered
from billing.models import (
    InvoiceLine,
    RevenueMoneyDay,
    RevenueSnapshot,
    SubscriptionRevenueDay,
    TenantChurnRisk,
)
from metering.usage.selectors import usage_activity
from tenants.models import Tenant

logger = logging.getLogger(__name__)

Kind = InvoiceLine.Kind
# Usage revenue: what metered usage billed (its minimum top-ups included). AI-token revenue: tokens billed on
# an invoice (those the wallet could not cover) and the token packs sold (on the day their invoice is issued).
USAGE_KINDS = [Kind.USAGE.value, Kind.MINIMUM.value]
TOKEN_KINDS = [Kind.WALLET_SHORTFALL.value, Kind.TOKEN_PACK.value]
# The windows the churn-risk factors look back over.
ACTIVITY_DAYS = 30
CHURN_RISK_COLUMNS = ("tenant_id", "day", "score", "level", "low_usage", "failed_payments", "no_team",
                      "oldest_features_only", "active_days", "failed_payment_count", "past_due", "members",
                      "meters_used", "mrr", "currency")
FAILED_PAYMENT_DAYS = 90


def day_end(day: date) -> datetime:
    """The instant a UTC day ends (the next day's first instant): a snapshot describes the state then."""
    return datetime.combine(day + timedelta(days=1), day_time.min, tzinfo=UTC)


def last_ended_day(now: datetime) -> date:
    """The last UTC day that has ended at `now`: yesterday."""
    return now.astimezone(UTC).date() - timedelta(days=1)


@transaction.atomic
def revenue_snapshot_take(*, day: date, now: datetime) -> RevenueSnapshot:
    """Snapshot `day` (UTC): every trialing, active, past-due or paused subscription as it stood at the day's end
    with its MRR, the day's per-currency figures and movements (against the day before: its stored snapshot,
    or computed when that day was never taken), and the per-plan counts. Replaces the day's rows if it was
    taken before, in one transaction: a reader sees the old day or the new one, never half."""
    started = time.perf_counter()
    previous = day - timedelta(days=1)
    params = {"day": day, "at": day_end(day), "previous": previous, "previous_at": day_end(previous)}
    previous_source = (sql.PREVIOUS_STORED if RevenueSnapshot.objects.filter(day=previous).exists()
                       else sql.PREVIOUS_COMPUTED)
    with connection.cursor() as cursor:
        cursor.execute(sql.SUBSCRIPTION_DAYS_DELETE, params)
        cursor.execute(sql.SUBSCRIPTION_DAYS_INSERT, params)
        rows = cursor.rowcount
        cursor.execute(sql.REVENUE_DAY_DELETE, params)
        cursor.execute(sql.REVENUE_DAY_INSERT.format(previous=previous_source), params)
        cursor.execute(sql.PLAN_DAYS_DELETE, params)
        cursor.execute(sql.PLAN_DAYS_INSERT, params)
    duration_ms = round((time.perf_counter() - started) * 1000)
    snapshot, _ = RevenueSnapshot.objects.update_or_create(
        day=day, defaults={"taken_at": now, "subscriptions": rows, "duration_ms": duration_ms})
    logger.info("revenue_snapshot day=%s subscriptions=%s duration_ms=%s", day, rows, duration_ms)
    return snapshot


@transaction.atomic
def revenue_money_refresh(*, until: datetime) -> int:
    """Recompute the per-day money figures from the invoices, up to `until` (exclusive), replacing them all;
    returns the number of (day, currency) rows. One grouped statement over the invoices, their usage and token
    lines and the credit notes, plus the failed payments (billing.analytics.selectors.failed_payments)."""
    figures: dict[tuple[date, str], dict[str, Decimal | int]] = defaultdict(dict)
    with connection.cursor() as cursor:
        cursor.execute(sql.MONEY_BY_DAY, {"until": until, "usage_kinds": USAGE_KINDS, "token_kinds": TOKEN_KINDS})
        for day, currency, invoiced, credited, cash, usage, tokens in cursor.fetchall():
            figures[(day, currency)].update(invoiced=invoiced, credited=credited, cash_collected=cash,
                                            usage_revenue=usage, token_revenue=tokens)
    failed = failed_payments(until=until)
    recovered = failed_payments_recovered(failed, until=until)
    for rows, count_name, amount_name in ((failed, "failed_count", "failed_amount"),
                                          (recovered, "recovered_count", "recovered_amount")):
        for row in rows.values("failed_day", "currency").annotate(count=Count("id"), amount=Sum("amount_due")):
            figures[(row["failed_day"], row["currency"])].update({count_name: row["count"], amount_name: row["amount"]})
    RevenueMoneyDay.objects.all().delete()
    RevenueMoneyDay.objects.bulk_create(RevenueMoneyDay(day=day, currency=currency, **values)
                                        for (day, currency), values in figures.items())
    return len(figures)


@dataclass(frozen=True)
class ChurnRiskRefresh:
    day: date
    scored: int


@transaction.atomic
def churn_risks_refresh(*, day: date) -> ChurnRiskRefresh:
    """Score every customer with a current subscription in `day`'s snapshot (billing.analytics.churn_risk),
    replacing the previous scores. Facts: usage in the 30 days to the day's end (metering's rollups, one query
    for every tenant), failed payments in the 90 days before it, a past-due subscription, and active team
    members, counted in each tenant's schema by one query per 500 schemas (accounts.selectors.member_counts)
    rather than by entering each schema in turn."""
    until = day_end(day)
    customers = list(SubscriptionRevenueDay.objects.filter(day=day).values("tenant_id", "currency")
                     .annotate(mrr=Sum("mrr"), past_due=Count("id", filter=Q(status="past_due")))
                     .order_by("tenant_id", "-mrr"))
    activity = usage_activity(start=until - timedelta(days=ACTIVITY_DAYS), end=until)
    failures = dict(failed_payments(until=until).filter(failed_at__gte=until - timedelta(days=FAILED_PAYMENT_DAYS))
                    .values("tenant_id").annotate(count=Count("id")).values_list("tenant_id", "count"))
    schemas = dict(Tenant.objects.filter(pk__in={row["tenant_id"] for row in customers})
                   .values_list("pk", "schema_name"))
    members = member_counts(schema_names=list(schemas.values()))
    risks, seen = [], set()
    for row in customers:
        tenant_id = row["tenant_id"]
        if tenant_id in seen:
            continue  # a customer paying in two currencies is scored once, on its larger MRR
        seen.add(tenant_id)
        used = activity.get(tenant_id)
        facts = ChurnFacts(active_days=used.active_days if used else 0,
                           meters_used=frozenset(used.meters) if used else frozenset(),
                           failed_payments=failures.get(tenant_id, 0), past_due=row["past_due"] > 0,
                           members=members.get(schemas[tenant_id]))
        score = churn_risk_score(facts)
        risks.append((tenant_id, day, score.score, score.level, score.low_usage, score.failed_payments,
                      score.no_team, score.oldest_features_only, facts.active_days, facts.failed_payments,
                      facts.past_due, facts.members, Jsonb(sorted(facts.meters_used)), row["mrr"], row["currency"]))
    TenantChurnRisk.objects.all().delete()
    # One COPY for every customer: building 10,000 model instances and their INSERT costs seconds.
    with connection.cursor() as cursor, cursor.cursor.copy(
            f"COPY billing_tenantchurnrisk ({', '.join(CHURN_RISK_COLUMNS)}) FROM STDIN") as copy:
        for risk in risks:
            copy.write_row(risk)
    return ChurnRiskRefresh(day=day, scored=len(risks))


@dataclass(frozen=True)
class SnapshotRun:
    days: list[date]
    money_rows: int
    churn_scored: int
    seconds: float


def revenue_snapshot_daily(*, now: datetime) -> SnapshotRun:
    """The beat job (02:00 UTC): snapshot the UTC day that ended before `now`, refresh the money figures up to
    its end and the churn-risk scores."""
    return revenue_backfill(since=last_ended_day(now), now=now)


def revenue_backfill(*, since: date, now: datetime) -> SnapshotRun:
    """Snapshot every UTC day from `since` to the last one that has ended before `now`, in order (each day's
    movements are against the day before), then refresh the money figures and, when the last day is the
    latest snapshot, the churn-risk scores. Idempotent: a day taken again is replaced."""
    started = time.perf_counter()
    last = last_ended_day(now)
    days = [since + timedelta(days=n) for n in range((last - since).days + 1)]
    for day in days:
        revenue_snapshot_take(day=day, now=now)
    money_rows = revenue_money_refresh(until=day_end(last)) if days else 0
    churn_scored = 0
    latest = RevenueSnapshot.objects.aggregate(latest=Max("day"))["latest"]
    if days and latest == days[-1]:
        churn_scored = churn_risks_refresh(day=latest).scored
    return SnapshotRun(days=days, money_rows=money_rows, churn_scored=churn_scored,
                       seconds=time.perf_counter() - started)
