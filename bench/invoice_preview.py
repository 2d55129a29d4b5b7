"""The upcoming invoice (what the Billing page and the API show) for a tenant with a lot of usage in its period.

Setup (not timed), on its own copy of the migrated test template database: tenant alpha on Pro monthly (package
API calls, standard compute hours, extra seats), its period anchored mid-hour (an anniversary), and M events
in the period so far (default 1,000,000: 70 % billable API calls, 30 % compute seconds, spread over the hours
from the period's start to now), written with INSERT ... SELECT generate_series, then their hourly rollups
computed from them in SQL as ingestion computes them (metering.usage.sql).

Timed: `upcoming_invoice(tenant=..., now=...)`, R times (default 200) after a few warm-up calls. The queries of
one preview are captured: whole hours come from the rollups, and raw events are read only for the partial
hours at the period's edges (`upcoming_invoice_raw_event_queries` counts those, each at most an hour wide).

Run with `./dev bench invoice_preview` (`--events M`, `--repeat R`). Prints `name: value unit`. BENCH_PROFILE=1
also prints a cProfile of 20 previews.
"""

import argparse
import os
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from billing.invoicing.drafting import upcoming_invoice  # noqa: E402
from billing.models import Price, Subscription  # noqa: E402
from billing.subscriptions.proration import period_add  # noqa: E402
from metering.usage.services import usage_partitions_ensure  # noqa: E402
from tenants.models import Tenant  # noqa: E402
from tests.support.database import bench_database  # noqa: E402

DATABASE = "tollgate_bench_invoice_preview"
PERIOD_START = datetime(2026, 11, 3, 9, 41, 17, tzinfo=UTC)
NOW = datetime(2026, 11, 28, 16, 20, tzinfo=UTC)
WARM_UP = 5

EVENTS_SQL = """
INSERT INTO metering_usageevent (tenant_id, meter_code, transaction_id, "timestamp", properties, received_at)
SELECT %(tenant)s,
       CASE WHEN g %% 10 < 7 THEN 'api_calls' ELSE 'compute_seconds' END,
       'preview-' || g,
       %(start)s::timestamptz + ((g::bigint * 2654435761) %% %(seconds)s) * interval '1 second',
       CASE WHEN g %% 10 < 7 THEN '{"billable": true}'::jsonb ELSE jsonb_build_object('seconds', g %% 500 + 1) END,
       %(now)s::timestamptz
FROM generate_series(1, %(events)s) AS g
"""

# As metering.usage.sql.INGEST_BATCH aggregates a batch.
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
    WHERE event.tenant_id = %(tenant)s AND event.properties @> meter.filters
) AS measured
GROUP BY tenant_id, meter_code, hour
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()

    with bench_database(DATABASE):
        tenant = Tenant.objects.get(slug="alpha")
        price = Price.objects.select_related("plan").get(code="pro-month-usd")
        Subscription.objects.create(tenant=tenant, plan=price.plan, price=price, status=Subscription.Status.ACTIVE,
                                    quantity=8, current_period_start=PERIOD_START,
                                    current_period_end=period_add(anchor=PERIOD_START, months=1, n=1),
                                    created_at=PERIOD_START)
        usage_partitions_ensure(today=date(2026, 11, 1), months_back=1, months_ahead=1)
        with connection.cursor() as cursor:
            cursor.execute(EVENTS_SQL, {"tenant": tenant.pk, "start": PERIOD_START, "now": NOW,
                                        "seconds": int((NOW - PERIOD_START).total_seconds()), "events": args.events})
            cursor.execute(ROLLUPS_SQL, {"tenant": tenant.pk})
            cursor.execute("ANALYZE")

        for _ in range(WARM_UP):
            upcoming_invoice(tenant=tenant, now=NOW)
        timings = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            draft = upcoming_invoice(tenant=tenant, now=NOW)
            timings.append((time.perf_counter() - started) * 1000)
        with CaptureQueriesContext(connection) as captured:
            upcoming_invoice(tenant=tenant, now=NOW)
        if os.environ.get("BENCH_PROFILE"):
            import cProfile
            import pstats
            profiler = cProfile.Profile()
            profiler.runcall(lambda: [upcoming_invoice(tenant=tenant, now=NOW) for _ in range(20)])
            pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(40)
        raw_reads = [query["sql"] for query in captured.captured_queries if "metering_usageevent" in query["sql"]]
        usage = {line.meter_code: line.quantity for line in draft.lines if line.kind == "usage"}
    timings.sort()
    print(f"upcoming_invoice_events: {args.events} events")
    print(f"upcoming_invoice_p50_ms: {statistics.median(timings):.2f} ms")
    print(f"upcoming_invoice_p95_ms: {timings[int(len(timings) * 0.95) - 1]:.2f} ms")
    print(f"upcoming_invoice_queries: {len(captured.captured_queries)} queries")
    print(f"upcoming_invoice_raw_event_queries: {len(raw_reads)} queries (partial edge hours)")
    print(f"upcoming_invoice_total: {draft.totals.total} USD ({', '.join(f'{k} {v}' for k, v in usage.items())})")


if __name__ == "__main__":
    main()
