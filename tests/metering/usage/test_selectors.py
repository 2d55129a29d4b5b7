"""Rollup-based reads must equal a brute-force aggregate over the raw events, duplicates and late events included."""

import random
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from billing.models import Plan
from billing.services import tenant_plan_assign
from metering.models import Meter
from metering.usage.selectors import (
    api_calls_by_endpoint,
    usage_for_period,
    usage_percent,
    usage_percent_whole,
    usage_series,
    usage_summary,
)
from metering.usage.services import event_ingest

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)
START = datetime(2026, 11, 1, tzinfo=timezone.utc)


@pytest.fixture
def meters(db):
    Meter.objects.create(code="peak_gb", name="Peak", aggregation="max", event_property="gb")
    Meter.objects.create(code="active_users", name="Users", aggregation="unique_count", event_property="user")
    return {meter.code: meter for meter in Meter.objects.all()}


def random_events(rng: random.Random, count: int) -> list[dict]:
    events = []
    for n in range(count):
        moment = START + timedelta(seconds=rng.randrange(int((NOW - START).total_seconds())))
        meter = rng.choice(["ai_input_tokens", "peak_gb", "active_users", "storage_gb", "api_calls"])
        properties = {"tokens": rng.randrange(1, 500), "gb": rng.randrange(0, 10_000) / 100,
                      "user": f"u{rng.randrange(40)}", "billable": rng.random() < 0.8}
        events.append({"transaction_id": f"e{n}", "meter": meter, "timestamp": moment.isoformat(),
                       "properties": properties})
    duplicates = [dict(event, timestamp=(NOW - timedelta(days=2)).isoformat())
                  for event in rng.sample(events, min(60, count // 5))]
    return events + duplicates


def brute_force(events: list[dict], meter: Meter, start: datetime, end: datetime) -> Decimal:
    seen, values = set(), []
    for event in events:
        if event["transaction_id"] in seen:
            continue
        seen.add(event["transaction_id"])
        moment = datetime.fromisoformat(event["timestamp"])
        matches = all(event["properties"].get(key) == value for key, value in meter.filters.items())
        if event["meter"] != meter.code or not start <= moment < end or not matches:
            continue
        values.append((moment, event["properties"].get(meter.event_property)))
    if meter.aggregation == "count":
        return Decimal(len(values))
    if meter.aggregation == "sum":
        return sum((Decimal(str(value)) for _, value in values), Decimal(0))
    if meter.aggregation == "max":
        return max((Decimal(str(value)) for _, value in values), default=Decimal(0))
    if meter.aggregation == "unique_count":
        return Decimal(len({value for _, value in values}))
    return Decimal(str(max(values)[1])) if values else Decimal(0)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_usage_for_period_equals_the_raw_events_for_any_range(tenant_alpha, meters, seed):
    rng = random.Random(seed)
    events = random_events(rng, 600)
    for offset in range(0, len(events), 100):
        event_ingest(tenant=tenant_alpha, events=events[offset:offset + 100], now=NOW)
    ranges = [(START, NOW + timedelta(hours=1)), (START, datetime(2026, 12, 1, tzinfo=timezone.utc))]
    for _ in range(6):
        a = START + timedelta(minutes=rng.randrange(27_000))
        ranges.append((a, a + timedelta(minutes=rng.randrange(1, 9_000))))

    for code in ["ai_input_tokens", "peak_gb", "active_users", "storage_gb", "api_calls"]:
        for start, end in ranges:
            expected = brute_force(events, meters[code], start, end)
            assert usage_for_period(tenant=tenant_alpha, meter=meters[code], start=start, end=end) == expected, (
                code, start, end)


def test_usage_series_buckets_equal_the_raw_events(tenant_alpha, meters):
    rng = random.Random(7)
    events = random_events(rng, 300)
    event_ingest(tenant=tenant_alpha, events=events, now=NOW)

    bucket_length = {"hour": timedelta(hours=1), "day": timedelta(days=1)}
    for granularity in ["hour", "day", "month"]:
        for code in ["ai_input_tokens", "active_users", "storage_gb"]:
            series = usage_series(tenant=tenant_alpha, meter=meters[code], start=START, end=NOW,
                                  granularity=granularity)
            for bucket_start, value in series:
                length = bucket_length.get(granularity, timedelta(days=30))
                expected = brute_force(events, meters[code], bucket_start, bucket_start + length)
                assert value == expected, (granularity, code, bucket_start)


def test_a_period_of_another_tenant_is_empty(tenant_alpha, tenant_beta, meters):
    event_ingest(tenant=tenant_alpha, events=random_events(random.Random(3), 50), now=NOW)

    for meter in meters.values():
        assert usage_for_period(tenant=tenant_beta, meter=meter, start=START, end=NOW) == 0


# --- API calls per endpoint ------------------------------------------------------------------------------

def record_calls(tenant, endpoint: str, method: str, statuses: list[int], *, at: datetime) -> None:
    events = [{"transaction_id": f"call-{tenant.pk}-{endpoint}-{method}-{n}-{at:%d}", "meter": "api_calls",
               "timestamp": at.isoformat(),
               "properties": {"endpoint": endpoint, "method": method, "status": status,
                              "billable": 200 <= status < 300}}
              for n, status in enumerate(statuses)]
    assert event_ingest(tenant=tenant, events=events, now=at).accepted == len(statuses)


NOV_10 = datetime(2026, 11, 10, 9, tzinfo=timezone.utc)
NOV = (datetime(2026, 11, 1, tzinfo=timezone.utc), datetime(2026, 12, 1, tzinfo=timezone.utc))


def test_api_calls_are_counted_per_endpoint_and_method_most_called_first(tenant_alpha):
    record_calls(tenant_alpha, "/api/v1/tenant", "GET", [200, 200, 429], at=NOV_10)
    record_calls(tenant_alpha, "/api/v1/events", "POST", [202] * 5 + [400], at=NOV_10)
    record_calls(tenant_alpha, "/api/v1/events", "GET", [405], at=NOV_10)

    rows = api_calls_by_endpoint(tenant=tenant_alpha, start=NOV[0], end=NOV[1])

    assert [(row.method, row.endpoint, row.calls, row.billable, row.not_billable) for row in rows] == [
        ("POST", "/api/v1/events", 6, 5, 1), ("GET", "/api/v1/tenant", 3, 2, 1), ("GET", "/api/v1/events", 1, 0, 1)]


def test_api_calls_per_endpoint_stay_within_the_range(tenant_alpha):
    record_calls(tenant_alpha, "/api/v1/tenant", "GET", [200], at=NOV_10)
    record_calls(tenant_alpha, "/api/v1/tenant", "GET", [200, 200], at=NOV_10 - timedelta(days=12))

    rows = api_calls_by_endpoint(tenant=tenant_alpha, start=NOV[0], end=NOV[1])

    assert [row.calls for row in rows] == [1]


def test_api_calls_per_endpoint_are_the_tenants_own(tenant_alpha, tenant_beta):
    record_calls(tenant_beta, "/api/v1/usage", "GET", [200, 200], at=NOV_10)

    assert api_calls_by_endpoint(tenant=tenant_alpha, start=NOV[0], end=NOV[1]) == []


def test_a_unique_count_series_of_2000_hours_is_one_query(tenant_alpha, meters, django_assert_num_queries):
    event_ingest(tenant=tenant_alpha, events=random_events(random.Random(5), 100), now=NOW)

    with django_assert_num_queries(1):
        series = usage_series(tenant=tenant_alpha, meter=meters["active_users"], start=NOW - timedelta(hours=2000),
                              end=NOW, granularity="hour")

    assert len(series) == 2000
    assert sum(value for _, value in series) >= 1


def test_a_series_asked_for_in_another_offset_has_utc_buckets(tenant_alpha, meters):
    event_ingest(tenant=tenant_alpha, events=[{"transaction_id": "t", "meter": "ai_input_tokens",
                                               "timestamp": "2026-11-19T20:00:00Z", "properties": {"tokens": 5}}],
                 now=NOW)
    kolkata = timezone(timedelta(hours=5, minutes=30))

    series = usage_series(tenant=tenant_alpha, meter=meters["ai_input_tokens"],
                          start=datetime(2026, 11, 19, 0, 0, tzinfo=kolkata), end=NOW, granularity="day")

    assert series == [(datetime(2026, 11, 18, tzinfo=timezone.utc), Decimal(0)),
                      (datetime(2026, 11, 19, tzinfo=timezone.utc), Decimal(5)),
                      (datetime(2026, 11, 20, tzinfo=timezone.utc), Decimal(0))]


def test_a_period_with_half_hour_edges_counts_each_event_once(tenant_alpha, meters):
    event_ingest(tenant=tenant_alpha, events=[
        {"transaction_id": at, "meter": "ai_input_tokens", "timestamp": f"2026-11-19T{at}:00Z",
         "properties": {"tokens": tokens}} for at, tokens in [("09:20", 1), ("09:40", 10), ("12:10", 100),
                                                              ("12:40", 1000)]], now=NOW)
    kolkata = timezone(timedelta(hours=5, minutes=30))

    # 15:00 to 18:00 in Kolkata is 09:30 to 12:30 UTC: half of the first and of the last UTC hour.
    total = usage_for_period(tenant=tenant_alpha, meter=meters["ai_input_tokens"],
                             start=datetime(2026, 11, 19, 15, 0, tzinfo=kolkata),
                             end=datetime(2026, 11, 19, 18, 0, tzinfo=kolkata))

    assert total == 110


# --- Usage against the plan: one percent formula -------------------------------------------------------

def test_usage_percent_is_used_times_100_over_the_limit_exactly():
    assert usage_percent(used=1, limit=3) == Decimal(100) / 3


def test_usage_percent_of_a_zero_limit_is_full_from_the_start():
    assert usage_percent(used=0, limit=Decimal("0.0000")) == 100


def test_usage_percent_goes_past_100_when_a_soft_quota_is_exceeded():
    assert usage_percent(used=120, limit=100) == 120


def test_usage_percent_whole_floors_so_100_means_reached():
    assert [usage_percent_whole(usage_percent(used=used, limit=1000)) for used in (7, 799, 800, 999, 1000)] == [
        0, 79, 80, 99, 100]


def plan_assign(tenant, code: str, capture) -> None:
    with capture(execute=True):
        tenant_plan_assign(tenant=tenant, plan=Plan.objects.get(code=code))


def test_usage_summary_reads_this_months_usage_against_the_plans_quota(
        tenant_alpha, django_capture_on_commit_callbacks):
    plan_assign(tenant_alpha, "free", django_capture_on_commit_callbacks)
    event_ingest(tenant=tenant_alpha, now=NOW, events=[
        {"transaction_id": f"c{n}", "meter": "api_calls", "timestamp": (NOW - timedelta(hours=1)).isoformat(),
         "properties": {"billable": True}} for n in range(250)])

    summary = usage_summary(tenant=tenant_alpha, now=NOW)

    calls = next(item for item in summary.meters if item.meter.code == "api_calls")
    assert (summary.plan_code, summary.period_start, summary.period_end) == (
        "free", START, datetime(2026, 12, 1, tzinfo=timezone.utc))
    assert (calls.used, calls.quota.monthly_limit, calls.percent_used) == (250, 1000, 25)


def test_usage_summary_has_no_percent_for_a_meter_the_plan_does_not_cap(
        tenant_alpha, django_capture_on_commit_callbacks):
    plan_assign(tenant_alpha, "free", django_capture_on_commit_callbacks)

    summary = usage_summary(tenant=tenant_alpha, now=NOW)

    tokens = next(item for item in summary.meters if item.meter.code == "ai_input_tokens")
    assert (tokens.quota, tokens.percent_used) == (None, None)


def test_usage_summary_counts_only_the_tenants_own_usage(tenant_alpha, tenant_beta):
    event_ingest(tenant=tenant_alpha, now=NOW, events=[
        {"transaction_id": "a1", "meter": "api_calls", "timestamp": (NOW - timedelta(hours=1)).isoformat(),
         "properties": {"billable": True}}])

    summary = usage_summary(tenant=tenant_beta, now=NOW)

    assert all(item.used == 0 for item in summary.meters)
