"""Reads on usage: a period's aggregate and time series, from hourly rollups (raw events only at the edges)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from decimal import ROUND_FLOOR, Decimal

from django.db import connection
from django.utils import timezone

from billing.selectors import Quota, entitlements_for
from metering.models import Meter, UsageAlert
from tenants.models import Tenant

HOUR = timedelta(hours=1)
GRANULARITIES = ("hour", "day", "month")


def active_meters() -> dict[str, Meter]:
    """Active meters by code (one query; ingestion validates a whole batch against it)."""
    return {meter.code: meter for meter in Meter.objects.filter(is_active=True)}


def meters_by_code(*, codes: list[str] | set[str]) -> dict[str, Meter]:
    """The meters with these codes, active or not (a period is billed on the meter it was metered on, even if ops
    retired it since), by code, in one query."""
    return {meter.code: meter for meter in Meter.objects.filter(code__in=codes)}


def meter_has_events(*, meter: Meter) -> bool:
    """Whether any tenant has an event on the meter. The event index leads with the tenant, so this probes it
    once per tenant (LATERAL ... LIMIT 1 keeps the planner from scanning every partition for a meter without
    events, which is exactly the case where the answer is no)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT EXISTS (
                SELECT 1 FROM tenants_tenant AS tenant
                CROSS JOIN LATERAL (SELECT 1 FROM metering_usageevent AS event
                                    WHERE event.tenant_id = tenant.id AND event.meter_code = %s LIMIT 1) AS hit
            )
            """,
            [meter.code],
        )
        return cursor.fetchone()[0]


def usage_for_period(*, tenant: Tenant, meter: Meter, start: datetime, end: datetime) -> Decimal:
    """The meter's aggregate over [start, end). Whole hours come from the rollups; the partial hours at either
    end from the raw events, so the answer is exact for any range. unique_count reads its monthly distinct
    table for a whole calendar month and the raw events otherwise (distinct counts do not add up)."""
    if end <= start:
        return Decimal(0)
    # Rollup hours are UTC hours: an hour edge in +05:30 would split them and count half an hour twice.
    start, end = start.astimezone(dt_timezone.utc), end.astimezone(dt_timezone.utc)
    if meter.aggregation == Meter.Aggregation.UNIQUE_COUNT:
        return _unique_count(tenant=tenant, meter=meter, start=start, end=end)
    whole_start, whole_end = _ceil_hour(start), _floor_hour(end)
    parts = []
    if whole_start < whole_end:
        parts.append(_rollup_aggregate(tenant=tenant, meter=meter, start=whole_start, end=whole_end))
        edges = [(start, whole_start), (whole_end, end)]
    else:
        edges = [(start, end)]
    parts += [_raw_aggregate(tenant=tenant, meter=meter, start=a, end=b) for a, b in edges if a < b]
    return _combine(meter, parts)


def usage_for_ranges(*, tenant: Tenant, meter: Meter, ranges: list[tuple[datetime, datetime]]) -> Decimal:
    """The meter's aggregate over the union of disjoint ranges [start, end) (a billing period less the time its
    subscription was paused), exactly as usage_for_period would answer for one range holding all their events:
    each range's rollup hours and raw edges are combined together, and unique_count counts distinct values
    across all of them."""
    ranges = sorted((start.astimezone(dt_timezone.utc), end.astimezone(dt_timezone.utc)) for start, end in ranges
                    if start < end)
    if not ranges:
        return Decimal(0)
    if len(ranges) == 1:
        return usage_for_period(tenant=tenant, meter=meter, start=ranges[0][0], end=ranges[0][1])
    if meter.aggregation == Meter.Aggregation.UNIQUE_COUNT:
        with connection.cursor() as cursor:
            cursor.execute(
                """
                SELECT count(DISTINCT properties ->> %s) FROM metering_usageevent
                WHERE tenant_id = %s AND meter_code = %s AND "timestamp" >= %s AND "timestamp" < %s
                  AND properties @> %s::jsonb AND properties ? %s
                  AND EXISTS (SELECT 1 FROM unnest(%s::timestamptz[], %s::timestamptz[]) AS r(range_start, range_end)
                              WHERE "timestamp" >= r.range_start AND "timestamp" < r.range_end)
                """,
                [meter.event_property, tenant.pk, meter.code, ranges[0][0], ranges[-1][1], _filters_json(meter),
                 meter.event_property, [start for start, _ in ranges], [end for _, end in ranges]],
            )
            return Decimal(cursor.fetchone()[0])
    parts = []
    for start, end in ranges:
        whole_start, whole_end = _ceil_hour(start), _floor_hour(end)
        if whole_start < whole_end:
            parts.append(_rollup_aggregate(tenant=tenant, meter=meter, start=whole_start, end=whole_end))
            edges = [(start, whole_start), (whole_end, end)]
        else:
            edges = [(start, end)]
        parts += [_raw_aggregate(tenant=tenant, meter=meter, start=a, end=b) for a, b in edges if a < b]
    return _combine(meter, parts)


def usage_for_periods(*, meter: Meter, periods: dict[int, tuple[int, datetime, datetime]]) -> dict[int, Decimal]:
    """usage_for_period for many periods at once: `periods` maps a caller's key to (tenant id, start, end), and
    the answer maps each key to exactly what usage_for_period answers for it. Two queries whatever the number of
    periods: one over the rollups for every period's whole hours, one over the raw events for the partial hours
    at their edges (each at most an hour wide), both joined to the list of ranges (unnest). For the billing run,
    which rates a chunk of subscriptions at once. unique_count meters are refused (ValueError): distinct counts
    do not add up across ranges, ask usage_for_period one period at a time."""
    if meter.aggregation == Meter.Aggregation.UNIQUE_COUNT:
        raise ValueError(f"Meter {meter.code} counts distinct values: read it with usage_for_period.")
    whole: list[tuple[int, int, datetime, datetime]] = []
    edges: list[tuple[int, int, datetime, datetime]] = []
    for key, (tenant_id, start, end) in periods.items():
        if end <= start:
            continue
        start, end = start.astimezone(dt_timezone.utc), end.astimezone(dt_timezone.utc)
        whole_start, whole_end = _ceil_hour(start), _floor_hour(end)
        if whole_start < whole_end:
            whole.append((key, tenant_id, whole_start, whole_end))
            edges += [(key, tenant_id, a, b) for a, b in ((start, whole_start), (whole_end, end)) if a < b]
        else:
            edges.append((key, tenant_id, start, end))
    parts: dict[int, list[_Part]] = {key: [] for key in periods}
    for key, part in _rollup_aggregates(meter=meter, ranges=whole) + _raw_aggregates(meter=meter, ranges=edges):
        parts[key].append(part)
    return {key: _combine(meter, key_parts) for key, key_parts in parts.items()}


def _batch_columns(meter: Meter, *, count: str, total: str, maximum: str, latest_at: str, latest: str) -> str:
    """The _Part columns, computing only what _combine reads for the meter's aggregation (ordering every hour's
    latest value costs more than the sums, for meters that never use it); the rest are placeholders."""
    aggregation = Meter.Aggregation
    return ", ".join([
        count if meter.aggregation == aggregation.COUNT else "0",
        f"coalesce({total}, 0)" if meter.aggregation == aggregation.SUM else "0",
        maximum if meter.aggregation == aggregation.MAX else "NULL::numeric",
        latest_at if meter.aggregation == aggregation.LATEST else "NULL::timestamptz",
        latest if meter.aggregation == aggregation.LATEST else "NULL::numeric",
    ])


def _ranges_params(ranges: list[tuple[int, int, datetime, datetime]]) -> list[list]:
    return [list(column) for column in zip(*ranges, strict=True)]


def _rollup_aggregates(*, meter: Meter, ranges: list[tuple[int, int, datetime, datetime]]) -> list[tuple[int, _Part]]:
    if not ranges:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT r.key, {_batch_columns(meter, count="sum(u.event_count)", total="sum(u.value_sum)",
                                          maximum="max(u.value_max)", latest_at="max(u.latest_at)",
                                          latest="(array_agg(u.latest_value ORDER BY u.latest_at DESC NULLS LAST))[1]")}
            FROM unnest(%s::bigint[], %s::bigint[], %s::timestamptz[], %s::timestamptz[])
                 AS r(key, tenant_id, range_start, range_end)
            JOIN metering_usagerollup AS u
              ON u.tenant_id = r.tenant_id AND u.meter_code = %s AND u.hour >= r.range_start AND u.hour < r.range_end
            GROUP BY r.key
            """,
            [*_ranges_params(ranges), meter.code],
        )
        return [(row[0], _Part(*row[1:])) for row in cursor.fetchall()]


def _raw_aggregates(*, meter: Meter, ranges: list[tuple[int, int, datetime, datetime]]) -> list[tuple[int, _Part]]:
    if not ranges:
        return []
    value = "(event.properties ->> %s)::numeric" if meter.is_numeric else "NULL::numeric"
    params = [meter.event_property] if meter.is_numeric else []
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT r.key, {_batch_columns(meter, count="count(*)", total="sum(e.value)", maximum="max(e.value)",
                                          latest_at="max(e.ts)", latest="(array_agg(e.value ORDER BY e.ts DESC))[1]")}
            FROM unnest(%s::bigint[], %s::bigint[], %s::timestamptz[], %s::timestamptz[])
                 AS r(key, tenant_id, range_start, range_end)
            CROSS JOIN LATERAL (
                SELECT {value} AS value, event."timestamp" AS ts FROM metering_usageevent AS event
                WHERE event.tenant_id = r.tenant_id AND event.meter_code = %s
                  AND event."timestamp" >= r.range_start AND event."timestamp" < r.range_end
                  AND event.properties @> %s::jsonb
            ) AS e
            GROUP BY r.key
            """,
            [*_ranges_params(ranges), *params, meter.code, _filters_json(meter)],
        )
        return [(row[0], _Part(*row[1:])) for row in cursor.fetchall()]


@dataclass(frozen=True)
class _Part:
    count: int
    total: Decimal
    maximum: Decimal | None
    latest_at: datetime | None
    latest_value: Decimal | None


def _combine(meter: Meter, parts: list[_Part]) -> Decimal:
    if meter.aggregation == Meter.Aggregation.COUNT:
        return Decimal(sum(part.count for part in parts))
    if meter.aggregation == Meter.Aggregation.SUM:
        return sum((part.total for part in parts), Decimal(0))
    if meter.aggregation == Meter.Aggregation.MAX:
        values = [part.maximum for part in parts if part.maximum is not None]
        return max(values) if values else Decimal(0)
    latest = [part for part in parts if part.latest_at is not None]
    return max(latest, key=lambda part: part.latest_at).latest_value if latest else Decimal(0)


def _rollup_aggregate(*, tenant: Tenant, meter: Meter, start: datetime, end: datetime) -> _Part:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT coalesce(sum(event_count), 0), coalesce(sum(value_sum), 0), max(value_max),
                   max(latest_at), (array_agg(latest_value ORDER BY latest_at DESC NULLS LAST))[1]
            FROM metering_usagerollup
            WHERE tenant_id = %s AND meter_code = %s AND hour >= %s AND hour < %s
            """,
            [tenant.pk, meter.code, start, end],
        )
        return _Part(*cursor.fetchone())


def _raw_aggregate(*, tenant: Tenant, meter: Meter, start: datetime, end: datetime) -> _Part:
    value = "(properties ->> %s)::numeric" if meter.is_numeric else "NULL::numeric"
    params = [meter.event_property] * 3 if meter.is_numeric else []
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT count(*), coalesce(sum({value}), 0), max({value}), max("timestamp"),
                   (array_agg({value} ORDER BY "timestamp" DESC))[1]
            FROM metering_usageevent
            WHERE tenant_id = %s AND meter_code = %s AND "timestamp" >= %s AND "timestamp" < %s
              AND properties @> %s::jsonb
            """,
            [*params, tenant.pk, meter.code, start, end, _filters_json(meter)],
        )
        return _Part(*cursor.fetchone())


def _unique_count(*, tenant: Tenant, meter: Meter, start: datetime, end: datetime) -> Decimal:
    if _is_calendar_month(start, end):
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM metering_usageuniquevalue WHERE tenant_id = %s AND meter_code = %s AND month = %s",
                [tenant.pk, meter.code, start.date()],
            )
            return Decimal(cursor.fetchone()[0])
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT count(DISTINCT properties ->> %s) FROM metering_usageevent
            WHERE tenant_id = %s AND meter_code = %s AND "timestamp" >= %s AND "timestamp" < %s
              AND properties @> %s::jsonb AND properties ? %s
            """,
            [meter.event_property, tenant.pk, meter.code, start, end, _filters_json(meter), meter.event_property],
        )
        return Decimal(cursor.fetchone()[0])


def usage_event_values(*, tenant: Tenant, meter: Meter, start: datetime, end: datetime) -> list[Decimal]:
    """Each event's value in [start, end), in event order (timestamp, then id): the meter's property for a numeric
    meter, 1 for a count. The one read of raw events over a whole period, because a percentage charge prices
    every event on its own and rollups keep only sums; the (tenant, meter, timestamp) index and the monthly
    partitions keep it to the period. unique_count meters have no per-event value (ValueError)."""
    if meter.aggregation == Meter.Aggregation.UNIQUE_COUNT:
        raise ValueError(f"Meter {meter.code} counts distinct values: its events have no value to price one by one.")
    if end <= start:
        return []
    value = "(properties ->> %s)::numeric" if meter.is_numeric else "1::numeric"
    params = [meter.event_property] if meter.is_numeric else []
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT {value} FROM metering_usageevent
            WHERE tenant_id = %s AND meter_code = %s AND "timestamp" >= %s AND "timestamp" < %s
              AND properties @> %s::jsonb
            ORDER BY "timestamp", id
            """,
            [*params, tenant.pk, meter.code, start, end, _filters_json(meter)],
        )
        return [row[0] if row[0] is not None else Decimal(0) for row in cursor.fetchall()]


def usage_series(*, tenant: Tenant, meter: Meter, start: datetime, end: datetime,
                 granularity: str) -> list[tuple[datetime, Decimal]]:
    """One value per bucket (hour, day or month, UTC) from start's bucket up to end's, zeros included.
    Buckets are whole hours, so every bucket is read from the rollups (unique_count from the raw events), each
    kind in one query whatever the number of buckets."""
    if granularity not in GRANULARITIES:
        raise ValueError(f"granularity must be one of {', '.join(GRANULARITIES)}")
    # Buckets are UTC days and months, whatever offset the bounds were given in.
    start, end = start.astimezone(dt_timezone.utc), end.astimezone(dt_timezone.utc)
    buckets = _buckets(start, end, granularity)
    if not buckets:
        return []
    if meter.aggregation == Meter.Aggregation.UNIQUE_COUNT:
        counts = _unique_counts_by_bucket(tenant=tenant, meter=meter, start=buckets[0][0], end=buckets[-1][1],
                                          granularity=granularity)
        return [(a, Decimal(counts.get(a, 0))) for a, _ in buckets]
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT date_trunc(%s, hour) AS bucket, sum(event_count), sum(value_sum), max(value_max),
                   max(latest_at), (array_agg(latest_value ORDER BY latest_at DESC NULLS LAST))[1]
            FROM metering_usagerollup
            WHERE tenant_id = %s AND meter_code = %s AND hour >= %s AND hour < %s
            GROUP BY bucket
            """,
            [granularity, tenant.pk, meter.code, buckets[0][0], buckets[-1][1]],
        )
        parts = {row[0]: _Part(*row[1:]) for row in cursor.fetchall()}
    return [(a, _combine(meter, [parts[a]]) if a in parts else Decimal(0)) for a, _ in buckets]


def _unique_counts_by_bucket(*, tenant: Tenant, meter: Meter, start: datetime, end: datetime,
                             granularity: str) -> dict[datetime, int]:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT date_trunc(%s, "timestamp") AS bucket, count(DISTINCT properties ->> %s)
            FROM metering_usageevent
            WHERE tenant_id = %s AND meter_code = %s AND "timestamp" >= %s AND "timestamp" < %s
              AND properties @> %s::jsonb AND properties ? %s
            GROUP BY bucket
            """,
            [granularity, meter.event_property, tenant.pk, meter.code, start, end, _filters_json(meter),
             meter.event_property],
        )
        return dict(cursor.fetchall())


def _buckets(start: datetime, end: datetime, granularity: str) -> list[tuple[datetime, datetime]]:
    current = _truncate(start, granularity)
    buckets = []
    while current < end:
        following = _next_bucket(current, granularity)
        buckets.append((current, following))
        current = following
    return buckets


def _truncate(moment: datetime, granularity: str) -> datetime:
    moment = moment.replace(minute=0, second=0, microsecond=0)
    if granularity in ("day", "month"):
        moment = moment.replace(hour=0)
    if granularity == "month":
        moment = moment.replace(day=1)
    return moment


def _next_bucket(moment: datetime, granularity: str) -> datetime:
    if granularity == "hour":
        return moment + HOUR
    if granularity == "day":
        return moment + timedelta(days=1)
    year, month = (moment.year + 1, 1) if moment.month == 12 else (moment.year, moment.month + 1)
    return moment.replace(year=year, month=month)


def _floor_hour(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def _ceil_hour(moment: datetime) -> datetime:
    floored = _floor_hour(moment)
    return floored if floored == moment else floored + HOUR


def _is_calendar_month(start: datetime, end: datetime) -> bool:
    return start == _truncate(start, "month") and end == _next_bucket(start, "month")


def _filters_json(meter: Meter) -> str:
    return json.dumps(meter.filters or {})


@dataclass(frozen=True)
class TenantActivity:
    """What a tenant used in a window: on how many UTC days it had any usage, and on which meters."""

    active_days: int
    meters: tuple[str, ...]


def usage_activity(*, start: datetime, end: datetime) -> dict[int, TenantActivity]:
    """Every tenant with usage in the whole UTC hours of [start, end), from the rollups in one query: the days
    with usage and the meters used (revenue analytics' churn risk reads it for every customer at once)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT tenant_id, count(DISTINCT (hour AT TIME ZONE 'UTC')::date), array_agg(DISTINCT meter_code)
            FROM metering_usagerollup WHERE hour >= %s AND hour < %s AND event_count > 0
            GROUP BY tenant_id
            """,
            [start, end],
        )
        return {tenant_id: TenantActivity(active_days=days, meters=tuple(sorted(meters)))
                for tenant_id, days, meters in cursor.fetchall()}


def month_bounds(moment: datetime) -> tuple[datetime, datetime]:
    """The calendar month (UTC) containing moment, as [start, end)."""
    start = _truncate(moment.astimezone(dt_timezone.utc), "month")
    return start, _next_bucket(start, "month")


def usage_percent(*, used: Decimal | int, limit: Decimal | int) -> Decimal:
    """How much of a quota is used, in percent: used × 100 / limit, exact and not capped (a soft quota can go
    past 100). A limit of zero allows nothing, so it is fully used (100) from the start. The one formula behind
    the usage summary API, the Usage page and the quota warnings; each only chooses how to show it
    (`usage_percent_whole`, or the API's one decimal)."""
    if limit <= 0:
        return Decimal(100)
    return Decimal(used) * 100 / Decimal(limit)


def usage_percent_whole(percent: Decimal) -> int:
    """A percent floored to a whole number, so 100 means the quota is reached and 80 means 80 % is."""
    return int(percent.to_integral_value(rounding=ROUND_FLOOR))


@dataclass(frozen=True)
class MeterSummary:
    meter: Meter
    used: Decimal
    quota: Quota | None

    @property
    def percent_used(self) -> Decimal | None:
        return None if self.quota is None else usage_percent(used=self.used, limit=self.quota.monthly_limit)


@dataclass(frozen=True)
class UsageSummary:
    plan_code: str
    plan_name: str
    period_start: datetime
    period_end: datetime
    meters: list[MeterSummary]


def usage_summary(*, tenant: Tenant, now: datetime) -> UsageSummary:
    """The calendar month (UTC) containing `now`: each active meter's usage against the plan's quota for it.
    The whole month is read, not up to now: nothing is later than now anyway, and unique_count reads its exact
    monthly table only for a whole month."""
    start, end = month_bounds(now)
    entitlements = entitlements_for(tenant=tenant)
    meters = [MeterSummary(meter=meter, used=usage_for_period(tenant=tenant, meter=meter, start=start, end=end),
                           quota=entitlements.quota_for(meter.code))
              for meter in active_meters().values()]
    return UsageSummary(plan_code=entitlements.plan_code, plan_name=entitlements.plan_name, period_start=start,
                        period_end=end, meters=meters)


def usage_alerts_this_month(*, tenant: Tenant, now: datetime | None = None) -> list[UsageAlert]:
    """The quota thresholds the tenant crossed this month, newest first (the dashboard notices)."""
    start, _ = month_bounds(now or timezone.now())
    return list(UsageAlert.objects.filter(tenant=tenant, period_start=start.date()).order_by("-threshold_percent"))


@dataclass(frozen=True)
class EndpointCalls:
    endpoint: str
    method: str
    calls: int
    billable: int

    @property
    def not_billable(self) -> int:
        return self.calls - self.billable


ENDPOINTS_SHOWN = 12


def api_calls_by_endpoint(*, tenant: Tenant, start: datetime, end: datetime,
                          limit: int = ENDPOINTS_SHOWN) -> list[EndpointCalls]:
    """The tenant's recorded API calls in [start, end) per endpoint and method, most called first, with how many
    were billable (2xx). Every call counts, refused ones too. Read from the raw `api_calls` events (rollups have
    no endpoint), which the (tenant, meter, timestamp) index and the monthly partitions keep to the range."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT coalesce(properties->>'endpoint', 'unknown'), coalesce(properties->>'method', ''), count(*),
                   count(*) FILTER (WHERE properties->>'billable' = 'true')
            FROM metering_usageevent
            WHERE tenant_id = %s AND meter_code = 'api_calls' AND "timestamp" >= %s AND "timestamp" < %s
            GROUP BY 1, 2
            ORDER BY 3 DESC, 1, 2
            LIMIT %s
            """,
            [tenant.pk, start, end, limit],
        )
        return [EndpointCalls(endpoint=endpoint, method=method, calls=calls, billable=billable)
                for endpoint, method, calls, billable in cursor.fetchall()]
