"""The billing run at scale: N subscriptions whose monthly period has just ended, with M usage events across
their periods, billed by billing_run; then a second run, which must create nothing.

Setup (not timed), on its own copy of the migrated test template database:
- N tenants (rows only: the run never enters a tenant's schema, so none is created) and one active monthly
  subscription each, anchored at a different minute of the day over two weeks (anniversary periods, so every
  period starts and ends inside an hour and the run reads those partial hours from the raw events);
- the mix of prices: 30 % Starter (package API calls), 30 % Pro and 20 % Business (package API calls and
  standard compute hours, extra seats for some) and 20 % on a bench price with graduated API calls and volume
  compute hours; about 3 % are unusual (an active coupon, a scheduled seat change, a cancellation at the
  period's end), which the run bills one by one;
- M events in the partitioned event table, written by INSERT ... SELECT generate_series (ingesting them through
  event_ingest would take minutes at ~55k events/s): 70 % billable API calls, 30 % compute seconds, spread over
  each subscription's period; then their hourly rollups, computed from those events in SQL with the same
  aggregation as ingestion (metering.usage.sql), which is what the run reads. Dedupe keys are not written
  (the run never reads them).

Timed: `billing_run(now=...)` issuing every invoice (no draft period: each is numbered and finalised), and the
same run again. Celery is not eager here: the emails of the issued invoices are queued to the broker, as in
production, not rendered inside the run.

Run with `./dev bench billing_run` (`--subscriptions N`, default 10,000; `--events M`, default 10,000,000; smaller
values for a quick run). Prints `name: value unit`: billing_run_s, invoices_per_s, billing_rerun_s, and checks
(invoices_exactly_once, numbering_gapless, rerun_created_nothing). BENCH_PROFILE=cumulative (or any pstats sort
key) runs the first run under cProfile and prints where its time went (slower; not a figure to report).
"""

import argparse
import os
import sys
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

import django  # noqa: E402

django.setup()

from celery import current_app  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402

from billing.invoicing.run import billing_run  # noqa: E402
from billing.models import (  # noqa: E402
    Coupon,
    CouponRedemption,
    Invoice,
    InvoiceLine,
    Price,
    Subscription,
    UsageCharge,
)
from billing.subscriptions.proration import period_add  # noqa: E402
from metering.usage.services import usage_partitions_ensure  # noqa: E402
from tenants.models import Tenant  # noqa: E402
from tests.support.database import bench_database  # noqa: E402

DATABASE = "tollgate_bench_billing_run"
NOW = datetime(2026, 12, 1, tzinfo=UTC)
FIRST_ANCHOR = datetime(2026, 10, 15, tzinfo=UTC)
TIERS_CALLS = [{"up_to": "10000", "unit_amount": "0", "flat_amount": "0"},
               {"up_to": "100000", "unit_amount": "0.0004", "flat_amount": "2.00"},
               {"up_to": None, "unit_amount": "0.0002", "flat_amount": "0"}]
TIERS_HOURS = [{"up_to": "1", "unit_amount": "0.20", "flat_amount": "0"},
               {"up_to": None, "unit_amount": "0.10", "flat_amount": "0.50"}]
SLICE = 500

EVENTS_SQL = """
INSERT INTO metering_usageevent (tenant_id, meter_code, transaction_id, "timestamp", properties, received_at)
SELECT s.tenant_id,
       CASE WHEN g %% 10 < 7 THEN 'api_calls' ELSE 'compute_seconds' END,
       'bench-' || s.id || '-' || g,
       s.current_period_start + ((g::bigint * 2654435761 + s.id) %% seconds.n) * interval '1 second',
       CASE WHEN g %% 10 < 7 THEN '{"billable": true}'::jsonb ELSE jsonb_build_object('seconds', g %% 500 + 1) END,
       s.current_period_end
FROM billing_subscription AS s
CROSS JOIN LATERAL (SELECT extract(epoch FROM s.current_period_end - s.current_period_start)::bigint AS n) AS seconds
CROSS JOIN LATERAL generate_series(
    1, %(per_subscription)s + CASE WHEN s.id %% %(count)s < %(extra)s THEN 1 ELSE 0 END) AS g
WHERE s.id = ANY(%(ids)s)
"""

# The rollups of those events, aggregated as metering.usage.sql.INGEST_BATCH aggregates a batch.
ROLLUPS_SQL = """
INSERT INTO metering_usagerollup (tenant_id, meter_code, hour, event_count, value_sum, value_max, latest_at,
                                  latest_value)
SELECT tenant_id, meter_code, hour, count(*), coalesce(sum(value), 0), max(value), max("timestamp"),
       (array_agg(value ORDER BY "timestamp" DESC))[1]
FROM (
    SELECT event.tenant_id, event.meter_code, date_trunc('hour', event."timestamp") AS hour, event."timestamp",
           CASE WHEN meter.aggregation IN ('sum', 'max', 'latest')
                THEN (event.properties ->> meter.event_property)::numeric END AS value
    FROM metering_usageevent AS event JOIN metering_meter AS meter ON meter.code = event.meter_code
    WHERE event.tenant_id = ANY(%(tenants)s) AND event.properties @> meter.filters
) AS measured
GROUP BY tenant_id, meter_code, hour
"""


def bench_price() -> Price:
    business = Price.objects.get(code="business-month-usd")
    price = Price.objects.create(plan=business.plan, code="bench-tiered-month-usd", currency="USD",
                                 interval=Price.Interval.MONTH, fixed_amount=Decimal("149.00"),
                                 per_seat_amount=Decimal("9.00"), included_seats=5)
    UsageCharge.objects.create(price=price, meter_code="api_calls", name="API calls", unit_name="calls",
                               charge_model="graduated", properties={"tiers": TIERS_CALLS})
    UsageCharge.objects.create(price=price, meter_code="compute_seconds", name="Compute", unit_name="hours",
                               charge_model="volume", properties={"tiers": TIERS_HOURS}, divide_by=Decimal(3600))
    return price


def subscriptions_create(count: int) -> list[Subscription]:
    prices = {code: Price.objects.select_related("plan").get(code=code)
              for code in ("starter-month-usd", "pro-month-usd", "business-month-usd")}
    prices["bench"] = Price.objects.select_related("plan").get(pk=bench_price().pk)
    mix = ["starter-month-usd"] * 3 + ["pro-month-usd"] * 3 + ["business-month-usd"] * 2 + ["bench"] * 2
    tenants = Tenant.objects.bulk_create(
        Tenant(schema_name=f"bench_{n}", name=f"Bench {n}", slug=f"bench-{n}", billing_email=f"billing{n}@example.com")
        for n in range(count))
    subscriptions = []
    for n, tenant in enumerate(tenants):
        price = prices[mix[n % len(mix)]]
        anchor = FIRST_ANCHOR + timedelta(days=n % 14, minutes=(n * 37) % 1440, seconds=n % 60)
        canceled = n % 100 == 7
        subscriptions.append(Subscription(
            tenant=tenant, plan=price.plan, price=price, status=Subscription.Status.ACTIVE, quantity=1 + (n % 9),
            current_period_start=anchor, current_period_end=period_add(anchor=anchor, months=1, n=1),
            created_at=anchor, cancel_at_period_end=canceled, canceled_at=NOW - timedelta(days=3) if canceled else None,
            scheduled_quantity=2 if n % 100 == 13 else None))
    subscriptions = Subscription.objects.bulk_create(subscriptions)
    coupon = Coupon.objects.create(code="bench-launch", name="Launch", percent_off=Decimal("20"),
                                   duration=Coupon.Duration.REPEATING, duration_periods=3)
    CouponRedemption.objects.bulk_create(
        CouponRedemption(tenant_id=subscription.tenant_id, subscription=subscription, coupon=coupon, periods_left=3,
                         redeemed_at=subscription.current_period_start)
        for n, subscription in enumerate(subscriptions) if n % 100 == 42)
    return subscriptions


def usage_create(subscriptions: list[Subscription], events: int) -> None:
    usage_partitions_ensure(today=date(2026, 11, 1), months_back=1, months_ahead=1)
    ids = [subscription.pk for subscription in subscriptions]
    per_subscription, extra = divmod(events, len(ids))
    started = time.perf_counter()
    with connection.cursor() as cursor:
        for at in range(0, len(ids), SLICE):
            cursor.execute(EVENTS_SQL, {"ids": ids[at:at + SLICE], "per_subscription": per_subscription,
                                        "count": len(ids), "extra": extra})
        cursor.execute(ROLLUPS_SQL, {"tenants": [subscription.tenant_id for subscription in subscriptions]})
        cursor.execute("SELECT count(*) FROM metering_usageevent WHERE tenant_id = ANY(%s)",
                       [[subscription.tenant_id for subscription in subscriptions]])
        stored = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM metering_usagerollup")
        rollups = cursor.fetchone()[0]
        cursor.execute("ANALYZE")
    print(f"setup: {stored:,} events and {rollups:,} hourly rollups written in {time.perf_counter() - started:.0f} s",
          file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--subscriptions", type=int, default=10_000)
    parser.add_argument("--events", type=int, default=10_000_000)
    args = parser.parse_args()
    # Invoice emails go to the broker (this run's own embedded Redis), as a worker would take them in production.
    current_app.conf.task_always_eager = False
    settings.BILLING_DRAFT_PERIOD_HOURS = 0

    with bench_database(DATABASE):
        subscriptions = subscriptions_create(args.subscriptions)
        usage_create(subscriptions, args.events)

        started = time.perf_counter()
        if os.environ.get("BENCH_PROFILE"):
            import cProfile
            import pstats
            profiler = cProfile.Profile()
            first = profiler.runcall(billing_run, now=NOW)
            pstats.Stats(profiler, stream=sys.stderr).sort_stats(os.environ["BENCH_PROFILE"]).print_stats(60)
        else:
            first = billing_run(now=NOW)
        run_s = time.perf_counter() - started
        started = time.perf_counter()
        second = billing_run(now=NOW + timedelta(minutes=15))
        rerun_s = time.perf_counter() - started

        invoices = Invoice.objects.filter(billing_reason=Invoice.Reason.SUBSCRIPTION_CYCLE)
        per_period = invoices.values("subscription_id", "period_start").distinct().count()
        numbers = sorted(int(number.rsplit("-", 1)[1]) for number in invoices.values_list("number", flat=True))
        still_due = Subscription.objects.filter(pk__in=[s.pk for s in subscriptions], current_period_end__lte=NOW,
                                                status=Subscription.Status.ACTIVE).count()
        lines = InvoiceLine.objects.filter(invoice__in=invoices).count()
        exactly_once = (invoices.count() == per_period == first.invoices_created and not first.failed
                        and still_due == 0)
    print(f"billing_run_subscriptions: {args.subscriptions} subscriptions")
    print(f"billing_run_events: {args.events} events")
    print(f"billing_run_invoices: {first.invoices_created} invoices ({lines} lines)")
    print(f"billing_run_s: {run_s:.2f} s")
    print(f"invoices_per_s: {first.invoices_created / run_s:.0f} invoices/s")
    print(f"billing_rerun_s: {rerun_s:.2f} s")
    created_nothing = second.invoices_created == 0 and second.subscriptions_rolled == 0
    print(f"rerun_created_nothing: {'yes' if created_nothing else 'NO'}")
    print(f"invoices_exactly_once: {'yes' if exactly_once else 'NO'}")
    print(f"numbering_gapless: {'yes' if numbers == list(range(1, len(numbers) + 1)) else 'NO'}")


if __name__ == "__main__":
    main()
