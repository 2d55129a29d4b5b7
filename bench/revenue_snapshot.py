"""The daily revenue snapshot at scale, and the ops dashboard that reads it: N subscriptions with two years of
history (subscription entries, invoices and their lines), 13 months of earlier snapshots, then the 02:00 UTC job.

Setup (not timed), on its own copy of the migrated test template database:
- N tenant rows (no schemas: the snapshot never enters one) and one subscription each, started at a different day
  and minute over the two years before NOW, on a mix of seeded prices: 30 % Starter monthly, 25 % Pro monthly
  (1 to 9 seats), 10 % Pro yearly, 10 % Business quarterly, 10 % Business monthly, 10 % Pro EUR monthly, 5 %
  Starter canceled after a few months; 2 % trialing, 1 % paused, 1 % past due; 2 % with a 20 % forever coupon;
- their history written by INSERT ... SELECT generate_series, as the services and the billing run write it: a
  "started" entry, one "renewed" entry per period and the "canceled" one; one invoice per period (issued at the
  period start, paid two days later; the past-due ones' last unpaid) with its fixed-fee line;
- one hourly usage rollup a day per tenant for 30 days (API calls; AI tokens for half of them), what churn risk
  reads;
- the days before the timed day snapshotted in bulk, at the subscriptions' prices: their subscription rows for 35
  days (so the timed day is measured against a stored day before, and "paid before?" has rows to search), the
  day and plan aggregates for 400 days (what the dashboard reads: 13 months).

Timed: `revenue_snapshot_daily(now=NOW)`, the beat job: the day that ended (every subscription's state from its
history, MRR, movements against the day before, per plan), the money figures recomputed from every invoice, and
the churn-risk scores; then the dashboard page (GET as an ops user, rendered, through the test client) R times.

Run with `./dev bench revenue_snapshot` (`--subscriptions N`, default 10,000; `--repeat R`, default 30). Prints
`name: value unit`: snapshot_s (the whole job) with snapshot_day_s, money_refresh_s and churn_risk_s, and
dashboard_p50_ms / dashboard_p95_ms; checks snapshot_rows_exact (one row per live subscription) and
snapshot_again_not_doubled. Team members are counted only in existing schemas (here alpha's and beta's); with
real tenants that is one UNION ALL query per 500 schemas."""

import argparse
import json
import os
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

from billing.analytics.services import (  # noqa: E402
    churn_risks_refresh,
    day_end,
    revenue_money_refresh,
    revenue_snapshot_take,
)
from billing.models import (  # noqa: E402
    Coupon,
    CouponRedemption,
    Invoice,
    Price,
    Subscription,
    SubscriptionRevenueDay,
)
from billing.subscriptions.proration import period_add  # noqa: E402
from metering.usage.services import usage_partitions_ensure  # noqa: E402
from tenants.models import Tenant  # noqa: E402
from tests.support.database import bench_database  # noqa: E402
from tests.support.factories import OpsUserFactory  # noqa: E402

DATABASE = "tollgate_bench_revenue_snapshot"
NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
DAY = date(2026, 11, 30)
HISTORY_START = datetime(2024, 12, 1, tzinfo=UTC)
SNAPSHOT_HISTORY_DAYS = 400
MIX = (["starter-month-usd"] * 6 + ["pro-month-usd"] * 5 + ["pro-year-usd"] * 2 + ["business-quarter-usd"] * 2
       + ["business-month-usd"] * 2 + ["pro-month-eur"] * 2 + ["canceled"])

STATE = """jsonb_build_object('status', 'active', 'price', price.code, 'quantity', s.quantity,
                              'current_period_start', s.created_at + make_interval(months => months.n * {k}))"""

EVENTS_SQL = f"""
INSERT INTO billing_subscriptionevent (subscription_id, tenant_id, action, actor, before, after, created_at)
SELECT s.id, s.tenant_id, CASE WHEN k = 0 THEN 'started' ELSE 'renewed' END, 'system',
       CASE WHEN k = 0 THEN '{{}}'::jsonb ELSE {STATE.format(k="(k - 1)")} END,
       CASE WHEN k = 0 AND s.status = 'trialing' THEN {STATE.format(k="0")} || '{{"status": "trialing"}}'::jsonb
            ELSE {STATE.format(k="k")} END,
       s.created_at + make_interval(months => months.n * k)
FROM billing_subscription AS s JOIN billing_price AS price ON price.id = s.price_id
CROSS JOIN LATERAL (SELECT CASE price.interval WHEN 'quarter' THEN 3 WHEN 'year' THEN 12 ELSE 1 END AS n) AS months
CROSS JOIN LATERAL generate_series(0, 25) AS k
WHERE s.created_at + make_interval(months => months.n * k) < least(coalesce(s.ended_at, s.paused_at, %(now)s),
                                                                    %(now)s)
  AND (k = 0 OR s.status <> 'trialing')
"""

CLOSING_EVENTS_SQL = """
INSERT INTO billing_subscriptionevent (subscription_id, tenant_id, action, actor, before, after, created_at)
SELECT s.id, s.tenant_id, CASE s.status WHEN 'canceled' THEN 'canceled' ELSE s.status END, 'system',
       jsonb_build_object('status', 'active', 'price', price.code, 'quantity', s.quantity,
                          'current_period_start', s.current_period_start),
       jsonb_build_object('status', s.status, 'price', price.code, 'quantity', s.quantity,
                          'current_period_start', s.current_period_start),
       coalesce(s.ended_at, s.paused_at, s.past_due_since)
FROM billing_subscription AS s JOIN billing_price AS price ON price.id = s.price_id
WHERE s.status IN ('canceled', 'paused', 'past_due')
"""

INVOICE_OVERRIDES = {
    "tenant_id": "s.tenant_id", "subscription_id": "s.id",
    "billing_reason": "CASE WHEN k = 0 THEN 'subscription_create' ELSE 'subscription_cycle' END",
    "status": "'draft'", "number": "NULL", "currency": "price.currency",
    "period_start": "start", "period_end": "start + make_interval(months => months.n)",
    "subtotal": "amount", "total": "amount", "amount_due": "amount",
    "issued_at": "start", "due_at": "start + interval '14 days'", "created_at": "start", "updated_at": "start",
}

LINES_SQL = """
INSERT INTO billing_invoiceline (invoice_id, kind, description, quantity, unit_amount, amount_exact, amount,
                                 period_start, period_end, usage_charge_id, meter_code, breakdown, taxable, sort_order)
SELECT id, 'fixed', 'Subscription', 1, total, total, total, period_start, period_end, NULL, '', '[]'::jsonb, true, 0
FROM billing_invoice WHERE status = 'draft' AND subscription_id IS NOT NULL
"""

# Paid two days after issue, except each past-due subscription's last invoice, which stays open.
SETTLE_SQL = """
UPDATE billing_invoice AS invoice
   SET number = 'BENCH-' || invoice.id,
       status = CASE WHEN flag.late THEN 'open' ELSE 'paid' END,
       amount_paid = CASE WHEN flag.late THEN 0 ELSE invoice.amount_due END,
       paid_at = CASE WHEN flag.late THEN NULL ELSE invoice.issued_at + interval '2 days' END
  FROM (SELECT i.id, s.status = 'past_due'
                     AND i.period_start = max(i.period_start) OVER (PARTITION BY i.subscription_id) AS late
        FROM billing_invoice AS i JOIN billing_subscription AS s ON s.id = i.subscription_id
        WHERE i.status = 'draft') AS flag
 WHERE invoice.id = flag.id
"""

ROLLUPS_SQL = """
INSERT INTO metering_usagerollup (tenant_id, meter_code, hour, event_count, value_sum, value_max, latest_at,
                                  latest_value)
SELECT tenant.id, meter.code, %(since)s::timestamptz + make_interval(days => d, hours => (tenant.id %% 24)::integer),
       10 + tenant.id %% 50, 0, NULL, NULL, NULL
FROM tenants_tenant AS tenant
CROSS JOIN generate_series(0, 29) AS d
CROSS JOIN (VALUES ('api_calls'), ('ai_output_tokens')) AS meter(code)
WHERE tenant.schema_name LIKE 'bench\\_%%' AND (meter.code = 'api_calls' OR tenant.id %% 2 = 0)
  AND (tenant.id + d) %% (1 + tenant.id %% 4) = 0
"""

# The subscription rows of the days before the timed one (what its movements compare with), and 13 months of
# day and plan aggregates for the dashboard, each at the subscriptions' prices (history's changes left out).
LIVE_DAYS = """
FROM generate_series(%(first)s::date, %(last)s::date, interval '1 day') AS days(day)
JOIN billing_subscription AS s ON s.created_at < days.day + interval '1 day'
     AND (s.ended_at IS NULL OR s.ended_at >= days.day + interval '1 day') AND s.status <> 'trialing'
JOIN billing_price AS price ON price.id = s.price_id
CROSS JOIN LATERAL (
    SELECT round((price.fixed_amount + price.per_seat_amount * greatest(s.quantity - price.included_seats, 0))
                 / CASE price.interval WHEN 'quarter' THEN 3 WHEN 'year' THEN 12 ELSE 1 END, 6) AS mrr
) AS recurring
"""

HISTORY_ROWS_SQL = f"""
INSERT INTO billing_subscriptionrevenueday (day, subscription_id, tenant_id, plan_id, price_id, currency, status,
                                            quantity, mrr)
SELECT days.day::date, s.id, s.tenant_id, s.plan_id, s.price_id, price.currency, 'active', s.quantity, recurring.mrr
{LIVE_DAYS}
"""

HISTORY_AGGREGATES_SQL = [
    f"""
    INSERT INTO billing_revenueday (day, currency, mrr, customers, subscriptions_paying, subscriptions_trialing,
                                    subscriptions_paused, subscriptions_past_due, new_mrr, expansion_mrr,
                                    contraction_mrr, churned_mrr, reactivation_mrr, new_customers,
                                    churned_customers, reactivated_customers, trials_converted, trials_lost)
    SELECT days.day::date, price.currency, sum(recurring.mrr), count(DISTINCT s.tenant_id), count(*),
           0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
    {LIVE_DAYS}
    GROUP BY days.day, price.currency
    """,
    f"""
    INSERT INTO billing_revenueplanday (day, plan_id, currency, active, trialing, paused, mrr)
    SELECT days.day::date, s.plan_id, price.currency, count(*), 0, 0, sum(recurring.mrr)
    {LIVE_DAYS}
    GROUP BY days.day, s.plan_id, price.currency
    """,
    """
    INSERT INTO billing_revenuesnapshot (day, taken_at, subscriptions, duration_ms)
    SELECT days.day::date, %(now)s, 0, 0
    FROM generate_series(%(first)s::date, %(last)s::date, interval '1 day') AS days(day)
    """,
]
SUBSCRIPTION_ROW_DAYS = 35


def subscriptions_create(count: int) -> list[Subscription]:
    prices = {price.code: price for price in Price.objects.select_related("plan").filter(
        code__in={code for code in MIX if code != "canceled"} | {"starter-month-usd"})}
    tenants = Tenant.objects.bulk_create(
        Tenant(schema_name=f"bench_{n}", name=f"Bench {n}", slug=f"bench-{n}", billing_email=f"billing{n}@example.com")
        for n in range(count))
    subscriptions = []
    for n, tenant in enumerate(tenants):
        kind = MIX[n % len(MIX)]
        price = prices["starter-month-usd" if kind == "canceled" else kind]
        start = HISTORY_START + timedelta(days=n % 700, minutes=(n * 37) % 1440)
        status, ended_at, paused_at, past_due_since, trial_end = "active", None, None, None, None
        if n % 50 == 7:
            status, start = "trialing", NOW - timedelta(days=5, minutes=n % 600)
            trial_end = start + timedelta(days=14)
        elif kind == "canceled":
            status, ended_at = "canceled", min(period_add(anchor=start, months=1, n=3 + n % 5), NOW - timedelta(days=1))
        elif n % 100 == 3:
            status, paused_at = "paused", NOW - timedelta(days=20 + n % 10)
        elif n % 100 == 5:
            status, past_due_since = "past_due", NOW - timedelta(days=3)
        months = price.interval_months
        periods = 0
        while period_add(anchor=start, months=months, n=periods + 1) <= NOW:
            periods += 1
        period_start = start if trial_end else period_add(anchor=start, months=months, n=periods)
        period_end = trial_end or period_add(anchor=start, months=months, n=periods + 1)
        subscriptions.append(Subscription(
            tenant=tenant, plan=price.plan, price=price, status=status, quantity=1 + n % 9 if "pro" in kind else 1,
            current_period_start=period_start, current_period_end=period_end, trial_end=trial_end,
            ended_at=ended_at, canceled_at=ended_at, paused_at=paused_at, past_due_since=past_due_since,
            created_at=start))
    subscriptions = Subscription.objects.bulk_create(subscriptions)
    coupon = Coupon.objects.create(code="bench-forever", name="Loyal", percent_off=Decimal("20"),
                                   duration=Coupon.Duration.FOREVER)
    CouponRedemption.objects.bulk_create(
        CouponRedemption(tenant_id=subscription.tenant_id, subscription=subscription, coupon=coupon,
                         redeemed_at=subscription.created_at)
        for n, subscription in enumerate(subscriptions) if n % 50 == 11 and subscription.status != "canceled")
    return subscriptions


def invoices_sql() -> tuple[str, dict]:
    """One draft invoice per period of each subscription (not trials), every column named: from the overrides,
    else the field's default as a parameter ("" for a text field without one)."""
    columns, values, params = [], [], {"now": NOW}
    for model_field in Invoice._meta.concrete_fields:
        if model_field.primary_key:
            continue
        columns.append(model_field.column)
        if model_field.column in INVOICE_OVERRIDES:
            values.append(INVOICE_OVERRIDES[model_field.column])
        elif model_field.has_default() or not model_field.null:
            default = model_field.get_default()
            is_json = model_field.get_internal_type() == "JSONField"
            params[model_field.column] = json.dumps(default) if is_json else default
            values.append(f"%({model_field.column})s" + ("::jsonb" if is_json else ""))
        else:
            values.append("NULL")
    return f"""
    INSERT INTO billing_invoice ({', '.join(columns)})
    SELECT {', '.join(values)}
    FROM billing_subscription AS s JOIN billing_price AS price ON price.id = s.price_id
    CROSS JOIN LATERAL (SELECT CASE price.interval WHEN 'quarter' THEN 3 WHEN 'year' THEN 12 ELSE 1 END AS n) AS months
    CROSS JOIN LATERAL generate_series(0, 25) AS k
    CROSS JOIN LATERAL (SELECT s.created_at + make_interval(months => months.n * k) AS start) AS period
    CROSS JOIN LATERAL (SELECT price.fixed_amount + price.per_seat_amount
                               * greatest(s.quantity - price.included_seats, 0) AS amount) AS fee
    WHERE start < least(coalesce(s.ended_at, s.paused_at, %(now)s), %(now)s) AND s.status <> 'trialing'
    """, params


def history_create(count: int) -> None:
    started = time.perf_counter()
    subscriptions_create(count)
    usage_partitions_ensure(today=DAY, months_back=1, months_ahead=1)
    params = {"now": NOW, "since": NOW - timedelta(days=30)}
    first, last = DAY - timedelta(days=SNAPSHOT_HISTORY_DAYS), DAY - timedelta(days=1)
    with connection.cursor() as cursor:
        cursor.execute(EVENTS_SQL, params)
        cursor.execute(CLOSING_EVENTS_SQL, params)
        cursor.execute(*invoices_sql())
        cursor.execute(LINES_SQL)
        cursor.execute(SETTLE_SQL)
        cursor.execute(ROLLUPS_SQL, params)
        cursor.execute(HISTORY_ROWS_SQL, {"first": DAY - timedelta(days=SUBSCRIPTION_ROW_DAYS), "last": last})
        for statement in HISTORY_AGGREGATES_SQL:
            cursor.execute(statement, {"first": first, "last": last, "now": NOW})
        cursor.execute("ANALYZE")
        counts = {}
        for table in ("billing_subscriptionevent", "billing_invoice", "billing_invoiceline",
                      "billing_subscriptionrevenueday", "metering_usagerollup"):
            cursor.execute(f"SELECT count(*) FROM {table}")
            counts[table] = cursor.fetchone()[0]
    print(f"setup: {counts} in {time.perf_counter() - started:.0f} s", file=sys.stderr)


def live_subscriptions_at(moment: datetime) -> int:
    return Subscription.objects.filter(created_at__lt=moment).exclude(ended_at__lt=moment).count()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--subscriptions", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()

    with bench_database(DATABASE):
        history_create(args.subscriptions)

        # The beat job, part by part (revenue_snapshot_daily runs these three in this order).
        started = time.perf_counter()
        revenue_snapshot_take(day=DAY, now=NOW)
        day_s = time.perf_counter() - started
        money_started = time.perf_counter()
        revenue_money_refresh(until=day_end(DAY))
        money_s = time.perf_counter() - money_started
        risk_started = time.perf_counter()
        scored = churn_risks_refresh(day=DAY).scored
        risk_s = time.perf_counter() - risk_started
        snapshot_s = time.perf_counter() - started

        rows = SubscriptionRevenueDay.objects.filter(day=DAY).count()
        expected_rows = live_subscriptions_at(day_end(DAY))
        revenue_snapshot_take(day=DAY, now=NOW)
        again = SubscriptionRevenueDay.objects.filter(day=DAY).count()

        client = Client(HTTP_HOST="localhost")
        client.force_login(OpsUserFactory())
        timings = []
        for _ in range(args.repeat + 1):
            request_started = time.perf_counter()
            response = client.get("/admin/billing/revenuesnapshot/")
            timings.append((time.perf_counter() - request_started) * 1000)
            assert response.status_code == 200, response.status_code
        timings = sorted(timings[1:])  # the first request warms the template and URL caches

    print(f"revenue_snapshot_subscriptions: {args.subscriptions} subscriptions ({scored} customers scored)")
    print(f"snapshot_s: {snapshot_s:.2f} s")
    print(f"snapshot_day_s: {day_s:.2f} s")
    print(f"money_refresh_s: {money_s:.2f} s")
    print(f"churn_risk_s: {risk_s:.2f} s")
    print(f"dashboard_p50_ms: {statistics.median(timings):.1f} ms")
    print(f"dashboard_p95_ms: {timings[int(len(timings) * 0.95) - 1]:.1f} ms")
    print(f"snapshot_rows_exact: {'yes' if rows == expected_rows else f'NO ({rows} vs {expected_rows})'}")
    print(f"snapshot_again_not_doubled: {'yes' if again == rows else 'NO'}")


if __name__ == "__main__":
    main()
